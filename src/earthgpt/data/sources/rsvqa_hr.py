"""RSVQA-HR: USGS aerial visual question answering, including the Philadelphia test set 2."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._rsvqa import RSVQASource
from earthgpt.data.sources.base import register


@register
class RSVQAHR(RSVQASource):
    """RSVQA-HR (high resolution), visual question answering; the paper evaluates it zero-shot.

    * Modality: optical RGB aerial orthophotos (USGS High Resolution Orthoimagery), 0.15 m per pixel, 512x512 px.
    * Task: VQA; question types presence, comparison (``"comp"`` in the json), count, area. Answers yes/no, raw
      counts and raw areas such as ``"10632m2"`` (not binned here).
    * Size: 10,659 images, about 1,066,316 questions.
    * On-disk format (Zenodo record 6344367): ``USGS_split_{train,val,test}_{images,questions,answers}.json``,
      the Philadelphia test set 2 as ``USGS_split_test_phili_{images,questions,answers}.json``, and
      ``Data/<id>.tif``. The authors' website samples (50 train images) use
      ``USGS_split_train_{kind}_reduced.json`` and ``dataUSGS_reduced/<id>.png``; both are read (files may sit
      in a subfolder such as ``qa_json``). ``sensor`` comes from each image entry (e.g.
      ``"ULTRACAM_EAGLE_FALCON"``). Option ``image_dir`` overrides the image folder.
    * Splits: train, val, test (test set 1), test_phili (test set 2: another city and sensor).
    * Citation: S. Lobry, D. Marcos, J. Murray, D. Tuia, "RSVQA: Visual Question Answering for Remote Sensing
      Data", IEEE TGRS 58(12), 2020.
    * Format relied on: the real website samples (shared data; no test_phili files there) and the official
      file names as read by torchrs.
    """

    name = "rsvqa_hr"
    splits = ("train", "val", "test", "test_phili", "dev")
    patterns: ClassVar[dict[str, tuple[str, ...]]] = {
        "train": ("USGS_split_train_{kind}.json", "USGS_split_train_{kind}_reduced.json"),
        "val": ("USGS_split_val_{kind}.json",),
        "test": ("USGS_split_test_{kind}.json",),
        "test_phili": ("USGS_split_test_phili_{kind}.json",),
    }
    image_dirs: ClassVar[tuple[str, ...]] = ("Data", "Images", "dataUSGS_reduced")
    default_sensor = "USGS HRO"
