"""UCAS-AOD: cars and airplanes in Google Earth images, oriented polygons in per-image text files."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

from earthgpt.data.records import Modality, Record
from earthgpt.data.sources._annotation_formats import AnnotationError, parse_floats, polygon_obb
from earthgpt.data.sources._detection import BoxKind, DetectionSource, RawObject, check_kind
from earthgpt.data.sources._shared import hash_split
from earthgpt.data.sources.base import DataRootError, Skip, register
from earthgpt.geometry.polygons import enclosing_hbb

UCAS_FOLDERS: dict[str, str] = {"CAR": "car", "PLANE": "airplane"}


@register
class UcasAod(DetectionSource):
    """UCAS-AOD (Zhu et al., ICIP 2015): aircraft and vehicle detection in Google Earth images.

    1,510 images (about 1280x659) with 14,596 objects: 510 images of cars (7,114 cars) and 1,000 of airplanes
    (7,482 airplanes), plus 910 negative images.

    * Modality: optical. Task: oriented detection (``kind="obb"``, the polygon as written) or horizontal
      (``kind="hbb"``, the box enclosing the polygon).
    * On disk (the official release)::

        CAR/P<nnnn>.png,   CAR/P<nnnn>.txt
        PLANE/P<nnnn>.png, PLANE/P<nnnn>.txt
        Neg/...            negative images (not read)

      Each text line: ``x1 y1 x2 y2 x3 y3 x4 y4 theta x y w h`` (tab-separated, often in scientific notation,
      with a trailing tab). The class is the folder. The four corners are read; the trailing angle and box
      columns are redundant and ignored. An item is ``<folder>/<stem>``.
    * Classes: CAR -> "car", PLANE -> "airplane".
    * Splits: none official; a deterministic split by hash of the item, 20 % ``test``, the rest ``train``.
    * Relied on: the UCAS-AOD download as described by public benchmark repositories (ming71/UCAS-AOD-benchmark
      shows the line layout); no real file here. The fake in tests/data/fakes/ucas_aod.py follows them.

    Citation: H. Zhu, X. Chen, W. Dai, K. Fu, Q. Ye, J. Jiao. "Orientation robust object detection in aerial
    images using deep convolutional neural network." ICIP 2015.
    """

    name: ClassVar[str] = "ucas_aod"
    modality: ClassVar[Modality] = "optical"
    sensor: ClassVar[str] = "Google Earth"
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    categories: tuple[str, ...] = tuple(UCAS_FOLDERS.values())
    label_map: Mapping[str, str] = UCAS_FOLDERS
    test_fraction: ClassVar[float] = 0.2

    def __init__(self, root: str | Path, split: str = "train", kind: BoxKind = "obb") -> None:
        super().__init__(root, split)
        self.kind = check_kind(self.name, kind)
        self.folders = [f for f in UCAS_FOLDERS if (self.root / f).is_dir()]
        if not self.folders:
            raise DataRootError(f"ucas_aod: neither CAR/ nor PLANE/ under {self.root}; pass the UCAS-AOD folder")

    def items(self) -> list[str]:
        ids = [f"{f}/{p.stem}" for f in self.folders for p in (self.root / f).glob("*.txt")]
        return sorted(i for i in ids if hash_split(i, self.test_fraction) == self.split)

    def load(self, item: str) -> Iterator[Record | Skip]:
        folder, _, stem = item.partition("/")
        image = self.find_image(stem, [folder], (".png", ".jpg"))
        yield from self.load_text(item, self.root / f"{item}.txt", image, lambda line: self._parse(folder, line))

    def _parse(self, folder: str, line: str) -> RawObject:
        parts = line.split()
        if len(parts) < 8:
            raise AnnotationError(f"line {line!r} has fewer than 8 numbers")
        box = polygon_obb(parse_floats(parts[:8], f"line {line!r}"))
        return RawObject(folder, box if self.kind == "obb" else enclosing_hbb(box))
