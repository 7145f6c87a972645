"""HRRSD: 13-class optical object detection with horizontal boxes (VOC xml)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from earthgpt.data.records import Modality
from earthgpt.data.sources._detection import VocSource
from earthgpt.data.sources.base import register

HRRSD_CLASSES = (
    "airplane",
    "baseball diamond",
    "basketball court",
    "bridge",
    "crossroad",
    "ground track field",
    "harbor",
    "parking lot",
    "ship",
    "storage tank",
    "T junction",
    "tennis court",
    "vehicle",
)


@register
class Hrrsd(VocSource):
    """HRRSD (Zhang et al., IEEE TGRS 57(8), 2019): high-resolution remote sensing detection.

    21,761 Google Earth and Baidu Map images (0.15-1.2 m) with 55,740 objects in 13 classes, balanced per class.

    * Modality: optical. Task: horizontal object detection.
    * On disk (TGRS-HRRSD-Dataset, folder ``OPT2017``, which is the root to pass)::

        Annotations/<id>.xml              VOC xml, <bndbox> xmin/ymin/xmax/ymax
        JPEGImages/<id>.jpg               (distributed in several archives; unpack them all into JPEGImages)
        ImageSets/Main/{train,val,test}.txt

    * Classes as written (matched ignoring case, '_' and '-'): airplane, baseball diamond, basketball court,
      bridge, crossroad, ground track field, harbor, parking lot, ship, storage tank, T junction, tennis court,
      vehicle -> the same names in lower case ("t junction").
    * Splits: the official train, val and test lists.
    * Relied on: the HRRSD repository layout (CrazyStoneonRoad/TGRS-HRRSD-Dataset) and public configs listing its
      class names (no real file here); the fake in tests/data/fakes/hrrsd.py follows them.

    Citation: Y. Zhang, Y. Yuan, Y. Feng, X. Lu. "Hierarchical and robust convolutional neural network for very
    high-resolution remote sensing object detection." IEEE TGRS 57(8):5535-5548, 2019.
    """

    name: ClassVar[str] = "hrrsd"
    modality: ClassVar[Modality] = "optical"
    sensor: ClassVar[str] = "Google Earth, Baidu Map"
    splits: ClassVar[tuple[str, ...]] = ("train", "val", "test")
    categories: tuple[str, ...] = tuple(name.lower() for name in HRRSD_CLASSES)
    label_map: Mapping[str, str] = {name: name.lower() for name in HRRSD_CLASSES}
    loose_labels: ClassVar[bool] = True
    split_files: ClassVar[dict[str, tuple[str, ...]]] = {
        "train": ("ImageSets/Main/train.txt",),
        "val": ("ImageSets/Main/val.txt",),
        "test": ("ImageSets/Main/test.txt",),
    }
