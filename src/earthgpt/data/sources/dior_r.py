"""DIOR-R: the DIOR images with oriented boxes (four named corners in xml)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import ClassVar

from earthgpt.data.sources._annotation_formats import dior_obb
from earthgpt.data.sources._detection import BoxKind
from earthgpt.data.sources._dior import DiorLayout
from earthgpt.data.sources.base import register
from earthgpt.geometry import OBB


@register
class DiorR(DiorLayout):
    """DIOR-R (Cheng et al., IEEE TGRS 2022): the 23,463 DIOR images re-annotated with oriented boxes.

    * Modality: optical. Task: oriented object detection (``kind="obb"``, the only kind here).
    * On disk (the official release)::

        Annotations/Oriented Bounding Boxes/<id>.xml   <object><robndbox> with x_left_top, y_left_top,
                                                       x_right_top, ..., y_left_bottom (pixels) and a sibling
                                                       <angle> in degrees
        JPEGImages-trainval/<id>.jpg, JPEGImages-test/<id>.jpg
        ImageSets/Main/{train,val,test}.txt

    * The four corners are kept as written (left-top, right-top, right-bottom, left-bottom of the object's own
      frame); the <angle> is implied by them and not read.
    * Classes, image folders and splits: those of ``dior``, whose reader this one extends (20 classes; train 5,862 /
      val 5,863 / test 11,738).
    * Relied on: real DIOR-R xml files (mmrotate's test fixture 00001.xml and six files from zhuyuerong/rsclip in
      the shared data) and mmrotate's ``DIORDataset``, which reads the same eight corner tags.

    Citation: G. Cheng, J. Wang, K. Li, X. Xie, C. Lang, Y. Yao, J. Han. "Anchor-free oriented proposal generator
    for object detection." IEEE TGRS 60, 2022.
    """

    name: ClassVar[str] = "dior_r"
    annotation_dirs: ClassVar[dict[str, str]] = {"obb": "Annotations/Oriented Bounding Boxes"}

    def __init__(self, root: str | Path, split: str = "train", kind: BoxKind = "obb") -> None:
        super().__init__(root, split, kind)

    def read_obb(self, obj: ET.Element) -> OBB:
        return dior_obb(obj)
