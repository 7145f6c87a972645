"""MAR20: military aircraft recognition, 20 types, horizontal and oriented boxes (VOC-style xml)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import ClassVar

from earthgpt.data.records import Modality
from earthgpt.data.sources._annotation_formats import dior_obb
from earthgpt.data.sources._detection import VocSource
from earthgpt.data.sources.base import register
from earthgpt.geometry import OBB

# MAR20 writes its classes as codes A1..A20; the paper names the aircraft types behind them.
MAR20_TYPES = (
    "SU-35", "C-130", "C-17", "C-5", "F-16", "TU-160", "E-3", "B-52", "P-3C", "B-1B",
    "E-8", "TU-22", "F-15", "KC-135", "F-22", "FA-18", "TU-95", "KC-10", "SU-34", "SU-24",
)  # fmt: skip


@register
class Mar20(VocSource):
    """MAR20 (Yu et al., J. Remote Sens. 27(12), 2023): military aircraft recognition.

    3,842 Google Earth images (mostly 800x800) of 60 military airports with 22,341 aircraft of 20 types, each
    with a horizontal and an oriented box.

    * Modality: optical. Task: fine-grained detection, horizontal (``kind="hbb"``) or oriented (``kind="obb"``).
    * On disk (the official release)::

        Annotations/Horizontal Bounding Boxes/<id>.xml   VOC xml, <bndbox>
        Annotations/Oriented Bounding Boxes/<id>.xml     <robndbox> with x_left_top ... y_left_bottom (as DIOR-R)
        JPEGImages/<id>.jpg
        ImageSets/Main/{train,val,test}.txt

    * Classes: written as codes A1..A20, mapped to the aircraft types of the MAR20 paper in lower case:
      A1 su-35, A2 c-130, A3 c-17, A4 c-5, A5 f-16, A6 tu-160, A7 e-3, A8 b-52, A9 p-3c, A10 b-1b, A11 e-8,
      A12 tu-22, A13 f-15, A14 kc-135, A15 f-22, A16 fa-18, A17 tu-95, A18 kc-10, A19 su-34, A20 su-24.
    * Splits: the official lists; public readers report train 1,132, val 199 and test 2,510 ids (the paper's
      training set of 1,331 images is train + val).
    * Relied on: MAR20 readers in public mmrotate forks (same folders and tags as DIOR-R) and the code-to-type
      table published with the dataset (no real file here); the fake in tests/data/fakes/mar20.py follows them.

    Citation: W. Yu, G. Cheng, M. Wang, Y. Yao, X. Xie, X. Yao, J. Han. "MAR20: A benchmark for military aircraft
    recognition in remote sensing images." National Remote Sensing Bulletin 27(12):2688-2696, 2023.
    """

    name: ClassVar[str] = "mar20"
    modality: ClassVar[Modality] = "optical"
    sensor: ClassVar[str] = "Google Earth"
    splits: ClassVar[tuple[str, ...]] = ("train", "val", "test")
    categories: tuple[str, ...] = tuple(t.lower() for t in MAR20_TYPES)
    label_map: Mapping[str, str] = {f"A{i + 1}": t.lower() for i, t in enumerate(MAR20_TYPES)}
    annotation_dirs: ClassVar[dict[str, str]] = {
        "hbb": "Annotations/Horizontal Bounding Boxes",
        "obb": "Annotations/Oriented Bounding Boxes",
    }
    split_files: ClassVar[dict[str, tuple[str, ...]]] = {
        "train": ("ImageSets/Main/train.txt",),
        "val": ("ImageSets/Main/val.txt",),
        "test": ("ImageSets/Main/test.txt",),
    }

    def read_obb(self, obj: ET.Element) -> OBB:
        return dior_obb(obj)
