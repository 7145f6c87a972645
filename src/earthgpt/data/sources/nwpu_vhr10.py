"""NWPU VHR-10: ten-class optical object detection with horizontal boxes in '(x1,y1),(x2,y2),class' text."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

from earthgpt.data.records import Modality, Record
from earthgpt.data.sources._annotation_formats import AnnotationError, read_number
from earthgpt.data.sources._detection import BoxKind, DetectionSource, RawObject, check_kind
from earthgpt.data.sources._shared import hash_split
from earthgpt.data.sources.base import DataRootError, Skip, register
from earthgpt.geometry import HBB

NWPU_CLASSES = (
    "airplane",
    "ship",
    "storage tank",
    "baseball diamond",
    "tennis court",
    "basketball court",
    "ground track field",
    "harbor",
    "bridge",
    "vehicle",
)
_NUM = r"\s*([-+]?[\d.]+(?:[eE][-+]?\d+)?|nan|inf)\s*"
_LINE = re.compile(rf"^\({_NUM},{_NUM}\)\s*,\s*\({_NUM},{_NUM}\)\s*,\s*(\S+)\s*$", re.IGNORECASE | re.ASCII)


@register
class NwpuVhr10(DetectionSource):
    """NWPU VHR-10 (Cheng et al., ISPRS J. Photogramm. Remote Sens. 98, 2014).

    800 very-high-resolution images (Google Earth 0.5-2 m, Vaihingen 0.08 m): 650 with objects, 150 without;
    3,775 objects in 10 classes.

    * Modality: optical. Task: horizontal object detection.
    * On disk (the official release)::

        positive image set/<nnn>.jpg
        negative image set/<nnn>.jpg     (no annotation; not read)
        ground truth/<nnn>.txt           one object per line: (x1,y1),(x2,y2),class_id

      (x1, y1) is the top-left and (x2, y2) the bottom-right corner; class ids 1-10 are airplane, ship,
      storage tank, baseball diamond, tennis court, basketball court, ground track field, harbor, bridge, vehicle.
    * Splits: none official; a deterministic split by hash of the image id, 20 % ``test``, the rest ``train``.
    * Relied on: the dataset's own readme and public readers of its ground-truth files (no real file here); the
      fake in tests/data/fakes/nwpu_vhr10.py follows them.

    Citation: G. Cheng, P. Zhou, J. Han. "Multi-class geospatial object detection and geographic image
    classification based on collection of part detectors." ISPRS J. Photogramm. Remote Sens. 98:119-132, 2014.
    """

    name: ClassVar[str] = "nwpu_vhr10"
    modality: ClassVar[Modality] = "optical"
    sensor: ClassVar[str] = "Google Earth, Vaihingen aerial"
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    categories: tuple[str, ...] = NWPU_CLASSES
    label_map: Mapping[str, str] = {str(i + 1): name for i, name in enumerate(NWPU_CLASSES)}
    test_fraction: ClassVar[float] = 0.2

    def __init__(self, root: str | Path, split: str = "train", kind: BoxKind = "hbb") -> None:
        super().__init__(root, split)
        if check_kind(self.name, kind) != "hbb":
            raise ValueError(f"{self.name}: this dataset has no obb boxes; use kind='hbb'")
        self.gt_dir = self.root / "ground truth"
        if not self.gt_dir.is_dir():
            raise DataRootError(f"nwpu_vhr10: {self.gt_dir} not found; pass the NWPU VHR-10 dataset folder")

    def items(self) -> list[str]:
        stems = sorted(p.stem for p in self.gt_dir.glob("*.txt"))
        return [s for s in stems if hash_split(s, self.test_fraction) == self.split]

    def load(self, item: str) -> Iterator[Record | Skip]:
        yield from self.load_text(item, self.gt_dir / f"{item}.txt", f"positive image set/{item}.jpg", _parse)


def _parse(line: str) -> RawObject:
    match = _LINE.match(line)
    if match is None:
        raise AnnotationError(f"line {line!r} is not '(x1,y1),(x2,y2),class_id'")
    x1, y1, x2, y2 = (read_number(v, f"line {line!r}") for v in match.groups()[:4])
    return RawObject(match.group(5), HBB(x1, y1, x2, y2))
