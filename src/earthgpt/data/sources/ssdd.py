"""SSDD: SAR ship detection, horizontal (BBox) and rotated (RBox) VOC-style xml of the official release."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import ClassVar

from earthgpt.data.records import Modality
from earthgpt.data.sources._annotation_formats import AnnotationError, corner_obb
from earthgpt.data.sources._detection import VocSource
from earthgpt.data.sources.base import register
from earthgpt.geometry import OBB

_CORNERS = ("x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4")


@register
class Ssdd(VocSource):
    """SSDD, official release (Zhang et al., Remote Sensing 13(18):3690, 2021).

    1,160 SAR image chips (RadarSat-2, TerraSAR-X, Sentinel-1; 1-15 m; about 500x350 pixels) with 2,456 ships.

    * Modality: SAR. Task: ship detection, horizontal (``kind="hbb"``) or rotated (``kind="obb"``).
    * On disk (Official-SSDD-OPEN, the root to pass)::

        BBox_SSDD/voc_style/Annotations_{train,test}/<stem>.xml   VOC xml, <bndbox>
        BBox_SSDD/voc_style/JPEGImages_{train,test}/<stem>.jpg
        RBox_SSDD/voc_style/Annotations_{train,test}/<stem>.xml   <rotated_bndbox> with corners x1, y1, ..., x4,
                                                                   y4 (also rotated_bbox_cx/cy/w/h/theta)
        RBox_SSDD/voc_style/JPEGImages_{train,test}/<stem>.jpg

      The oriented box is read from the four corners, as written.
    * Classes: ship.
    * Splits: the official ``train`` (928) and ``test`` (232: the images whose number ends in 1 or 9) folders.
    * Relied on: the Official-SSDD repository's folder names as used by public readers (JDet's SSDD guide) and
      RBox-SSDD readers that take ``rotated_bndbox/x1..y4`` (no real file here); the fake in
      tests/data/fakes/ssdd.py follows them.

    Citation: T. Zhang et al. "SAR ship detection dataset (SSDD): Official release and comprehensive data
    analysis." Remote Sensing 13(18):3690, 2021.
    """

    name: ClassVar[str] = "ssdd"
    modality: ClassVar[Modality] = "sar"
    sensor: ClassVar[str] = "RadarSat-2, TerraSAR-X, Sentinel-1"
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    categories: tuple[str, ...] = ("ship",)
    label_map: Mapping[str, str] = {"ship": "ship"}
    loose_labels: ClassVar[bool] = True
    annotation_dirs: ClassVar[dict[str, str]] = {
        "hbb": "BBox_SSDD/voc_style/Annotations_{split}",
        "obb": "RBox_SSDD/voc_style/Annotations_{split}",
    }
    split_by_folder: ClassVar[bool] = True

    def image_path(self, item: str, root: ET.Element) -> str:
        folder = "BBox_SSDD" if self.kind == "hbb" else "RBox_SSDD"
        return self.find_image(item, [f"{folder}/voc_style/JPEGImages_{self.split}"], (".jpg", ".png"))

    def read_obb(self, obj: ET.Element) -> OBB:
        rb = obj.find("rotated_bndbox")
        if rb is None:
            raise AnnotationError("<object> has no <rotated_bndbox>")
        return corner_obb(rb, _CORNERS)
