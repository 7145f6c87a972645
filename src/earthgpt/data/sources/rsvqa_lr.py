"""RSVQA-LR: Sentinel-2 visual question answering, read from the linked images/questions/answers json triple."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._rsvqa import RSVQASource
from earthgpt.data.sources.base import register


@register
class RSVQALR(RSVQASource):
    """RSVQA-LR (low resolution), visual question answering.

    * Modality: optical, Sentinel-2 RGB (bands 4-3-2), 10 m per pixel, 256x256 px tiles over the Netherlands.
    * Task: VQA; question types presence, comparison (``"comp"`` in the json), count, rural_urban. Answers
      yes/no, "rural"/"urban" or raw integer counts.
    * Size: 772 images, 77,232 questions; split at tile level into train / val / test.
    * On-disk format (Zenodo record 6344334): ``LR_split_{train,val,test}_{images,questions,answers}.json``
      and ``Images_LR/<id>.tif``. The authors' website samples (50 train images) use
      ``imagesS2_reduced.json`` / ``questionsS2_reduced.json`` / ``answersS2_reduced.json`` and
      ``data_S2_reduced/<id>.png``; both are read (files may sit in a subfolder such as ``qa_json``).
      ``sensor`` of the records is the json's (``"S2"``). Option ``image_dir`` overrides the image folder.
    * Splits: train, val, test (the per-split files; only ``active`` images count).
    * Citation: S. Lobry, D. Marcos, J. Murray, D. Tuia, "RSVQA: Visual Question Answering for Remote Sensing
      Data", IEEE TGRS 58(12), 2020.
    * Format relied on: the real website samples (shared data) and the official file names as read by torchrs.
    """

    name = "rsvqa_lr"
    splits = ("train", "val", "test", "dev")
    patterns: ClassVar[dict[str, tuple[str, ...]]] = {
        "train": ("LR_split_train_{kind}.json", "{kind}S2_reduced.json"),
        "val": ("LR_split_val_{kind}.json",),
        "test": ("LR_split_test_{kind}.json",),
    }
    image_dirs: ClassVar[tuple[str, ...]] = ("Images_LR", "data_S2_reduced")
    default_sensor = "Sentinel-2"
