"""HRSID: high-resolution SAR ship detection and segmentation tiles with COCO boxes and polygons."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from earthgpt.data.records import Modality
from earthgpt.data.sources._detection import BoxKind, CocoSource
from earthgpt.data.sources.base import register

HRSID_ANNOTATIONS = {"train": "annotations/train2017.json", "test": "annotations/test2017.json"}


@register
class Hrsid(CocoSource):
    """HRSID (Wei et al., IEEE Access 8, 2020): high-resolution SAR images for ship detection and segmentation.

    5,604 tiles of 800x800 pixels cut from 136 Sentinel-1B, TerraSAR-X and TanDEM-X scenes (0.5-3 m), 16,951
    ships, each with a box and a polygon.

    * Modality: SAR. Task: ship detection, horizontal (``kind="hbb"``, the COCO ``bbox``) or oriented
      (``kind="obb"``, the minimum-area rectangle around the annotation's polygon).
    * On disk (HRSID_JPG, the root to pass)::

        JPEGImages/<scene>_<x0>_<x1>_<y0>_<y1>.jpg   SAR amplitude as 8-bit JPEG
        annotations/train2017.json, test2017.json     COCO: images[{id, file_name, width, height}],
                                                      annotations[{image_id, category_id, bbox [x, y, w, h],
                                                      segmentation [[x1, y1, ...]], iscrowd}], categories ship

      Options ``annotations`` and ``images`` point elsewhere, e.g. at the ``Annotations/offshore/*.json`` files
      of the modified-HRSID re-annotation with its tiles in ``images``.
    * Masks: each ship's polygon rasterised by pycocotools into ``DetectionRecord.masks``; a self-intersecting or
      empty polygon skips its ship (``self_intersecting_polygon``, ``empty_mask``).
    * Annotations flagged ``iscrowd`` or ``ignore`` are dropped as ``ignored_region`` skips saying so.
    * Classes: ship. Splits: the official ``train`` (3,642 tiles) and ``test`` (1,962) files.
    * Relied on: real modified-HRSID json and tiles in the shared data (same COCO keys as HRSID) and the HRSID
      README for the original file names.

    Citation: S. Wei, X. Zeng, Q. Qu, M. Wang, H. Su, J. Shi. "HRSID: A high-resolution SAR images dataset for
    ship detection and instance segmentation." IEEE Access 8:120234-120254, 2020.
    """

    name: ClassVar[str] = "hrsid"
    modality: ClassVar[Modality] = "sar"
    sensor: ClassVar[str] = "Sentinel-1B, TerraSAR-X, TanDEM-X"
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    categories: tuple[str, ...] = ("ship",)
    label_map: Mapping[str, str] = {"ship": "ship"}
    loose_labels: ClassVar[bool] = True
    reads_masks: ClassVar[bool] = True

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        kind: BoxKind = "hbb",
        annotations: str | None = None,
        images: str = "JPEGImages",
    ) -> None:
        super().__init__(root, split, annotations or HRSID_ANNOTATIONS.get(split, ""), images, kind)
