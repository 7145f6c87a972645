"""HIT-UAV: high-altitude infrared thermal UAV images with horizontal and oriented boxes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import ClassVar

from earthgpt.data.records import Modality
from earthgpt.data.sources._annotation_formats import robndbox_obb
from earthgpt.data.sources._detection import VocSource
from earthgpt.data.sources.base import register
from earthgpt.geometry import OBB


@register
class HitUav(VocSource):
    """HIT-UAV (Suo et al., Scientific Data 10:227, 2023).

    2,898 thermal infrared frames (640x512, one channel, 8-bit JPEG) taken from a DJI Matrice M210 V2 with a
    Zenmuse XT2 at 60-130 m altitude over schools, parking lots, roads and playgrounds, by day and night.

    * Modality: infrared (thermal). Task: object detection, horizontal (``kind="hbb"``) or oriented (``kind="obb"``).
    * On disk (as distributed)::

        normal_xml/Annotations/<stem>.xml          VOC xml, <bndbox> xmin/ymin/xmax/ymax
        normal_xml/JPEGImages/<stem>.jpg           the images
        normal_xml/ImageSets/Main/{train,val,test}.txt  split lists, one stem per line, CRLF line endings
        rotate_xml/Annotations/<stem>.xml          roLabelImg xml, <robndbox> cx/cy/w/h/angle (angle in RADIANS);
                                                   its <filename> has no extension
        normal_json/, rotate_json/                 the same boxes as COCO-like json (not read here: they list
                                                   images that the xml release does not ship)

    * Coordinates: the xml values are used as written. The release's own json gives the same object as
      ``bbox=[xmin, ymin, xmax-xmin, ymax-ymin]``, i.e. pixel-edge coordinates, so no 1-based shift is applied.
      A robndbox becomes four corners by the roLabelImg convention (the w x h rectangle turned by ``angle``
      clockwise on screen, as roLabelImg's own reader draws it), listed in the paper's corner order.
    * Classes: Person, Car, Bicycle, OtherVehicle -> "person", "car", "bicycle", "other vehicle". ``DontCare``
      marks regions the annotators could not classify; those objects are dropped, each reported as an
      ``ignored_region`` skip whose detail says it is a DontCare region (37 in the 750-image release).
    * Splits: the official ``train``, ``val`` and ``test`` lists of ``ImageSets/Main`` (the full release's
      test list holds 579 images; the shared sample ships the first two only, 600 and 150 images).
    * Images whose xml has no object (8 in the shared release) become ``empty_annotation`` skips.

    Citation: J. Suo, T. Wang, X. Zhang, H. Chen, W. Zhou, W. Shi. "HIT-UAV: A high-altitude infrared thermal
    dataset for Unmanned Aerial Vehicle-based object detection." Scientific Data 10, 227 (2023).
    """

    name: ClassVar[str] = "hit_uav"
    modality: ClassVar[Modality] = "infrared"
    sensor: ClassVar[str] = "DJI Zenmuse XT2 (thermal)"
    splits: ClassVar[tuple[str, ...]] = ("train", "val", "test")
    categories: tuple[str, ...] = ("person", "car", "bicycle", "other vehicle")
    label_map: Mapping[str, str] = {
        "Person": "person",
        "Car": "car",
        "Bicycle": "bicycle",
        "OtherVehicle": "other vehicle",
    }
    ignored: ClassVar[dict[str, str]] = {"DontCare": "a DontCare region (ignored by the dataset's design)"}
    annotation_dirs: ClassVar[dict[str, str]] = {"hbb": "normal_xml/Annotations", "obb": "rotate_xml/Annotations"}
    image_dirs: ClassVar[tuple[str, ...]] = ("normal_xml/JPEGImages",)
    split_files: ClassVar[dict[str, tuple[str, ...]]] = {
        "train": ("normal_xml/ImageSets/Main/train.txt",),
        "val": ("normal_xml/ImageSets/Main/val.txt",),
        "test": ("normal_xml/ImageSets/Main/test.txt",),
    }

    def read_obb(self, obj: ET.Element) -> OBB:
        return robndbox_obb(obj)
