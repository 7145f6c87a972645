"""DOTA: large aerial images with 8-point oriented polygons (labelTxt)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from earthgpt.data.records import Record
from earthgpt.data.sources._annotation_formats import DotaObject
from earthgpt.data.sources._detection import BoxKind, RawObject, check_kind
from earthgpt.data.sources._dota import DotaLayout, DotaVersion
from earthgpt.data.sources.base import Skip, register
from earthgpt.geometry.polygons import enclosing_hbb


@register
class Dota(DotaLayout):
    """DOTA (Xia et al., CVPR 2018; Ding et al., TPAMI 2021): object detection in aerial images.

    Google Earth, GF-2, JL-1 and aerial images from 800 to 20,000 pixels a side; objects annotated as arbitrary
    quadrilaterals. v1.0: 2,806 images, 15 classes; v1.5 adds container-crane; v2.0 adds airport and helipad.

    * Modality: optical. Task: oriented detection (``kind="obb"``, the polygons as written) or horizontal
      detection (``kind="hbb"``, the box enclosing each polygon, as DOTA's own HBB task defines it).
    * On disk (the official release)::

        <split>/images/<stem>.png
        <split>/labelTxt/<stem>.txt    optional header lines 'imagesource:GoogleEarth' and 'gsd:0.146'
                                       (CRLF endings), then one object per line:
                                       x1 y1 x2 y2 x3 y3 x4 y4 <class> <difficult>

    * Difficult objects (flag 1) are kept; the flag is not part of the record.
    * Classes (v1.0): plane, ship, storage-tank, baseball-diamond, tennis-court, basketball-court,
      ground-track-field, harbor, bridge, large-vehicle, small-vehicle, helicopter, roundabout, soccer-ball-field,
      swimming-pool -> the same names with spaces. Option ``version`` selects the class list.
    * Splits: the official ``train`` and ``val`` folders (the test labels are not public).
    * Images are whole scenes; the builder tiles them.
    * Relied on: the official DOTA devkit example (P0706, P1888, in the shared data) and its README.

    Citation: G.-S. Xia et al. "DOTA: A large-scale dataset for object detection in aerial images." CVPR 2018.
    """

    name: ClassVar[str] = "dota"

    def __init__(
        self, root: str | Path, split: str = "train", kind: BoxKind = "obb", version: DotaVersion = "1.0"
    ) -> None:
        super().__init__(root, split, version)
        self.kind = check_kind(self.name, kind)

    def load_objects(self, item: str, parsed: list[DotaObject], skips: list[Skip]) -> Iterator[Record | Skip]:
        objects = [
            RawObject(obj.label, obj.box if self.kind == "obb" else enclosing_hbb(obj.box), obj.difficult)
            for obj in parsed
        ]
        yield from self.detections(item, self.scene_ref(item), objects, skips)
