"""VisDrone-DET: drone images of traffic scenes, ten classes, horizontal boxes in comma-separated text."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

from earthgpt.data.records import Modality, Record
from earthgpt.data.sources._annotation_formats import AnnotationError, parse_floats
from earthgpt.data.sources._detection import BoxKind, DetectionSource, RawObject, check_kind
from earthgpt.data.sources.base import DataRootError, Skip, register
from earthgpt.geometry.formats import coco_to_hbb

VISDRONE_CLASSES: dict[str, str] = {
    "1": "pedestrian",
    "2": "people",
    "3": "bicycle",
    "4": "car",
    "5": "van",
    "6": "truck",
    "7": "tricycle",
    "8": "awning tricycle",
    "9": "bus",
    "10": "motor",
}
_IGNORED = "<ignored region>"


@register
class VisDrone(DetectionSource):
    """VisDrone2019-DET (Zhu et al., IEEE TPAMI 44(11), 2022): object detection in drone images.

    10,209 images (about 2000x1500) from drones over 14 Chinese cities: 6,471 train, 548 val, 1,610 test-dev.

    * Modality: optical. Task: horizontal object detection.
    * On disk (the official release; the root holds the split folders)::

        VisDrone2019-DET-{train,val,test-dev}/images/<stem>.jpg
        VisDrone2019-DET-{train,val,test-dev}/annotations/<stem>.txt

      Each line: ``x,y,w,h,score,category,truncation,occlusion`` (top-left corner and size in pixels).
    * Categories: 1 pedestrian, 2 people, 3 bicycle, 4 car, 5 van, 6 truck, 7 tricycle, 8 awning-tricycle,
      9 bus, 10 motor. Category 0 ("ignored regions") and 11 ("others") are not objects of a class, and a
      ``score`` of 0 marks a box the benchmark ignores: all three are dropped as ``ignored_region`` skips whose
      detail says why.
    * Splits: ``train``, ``val`` and ``test`` (the test-dev folder).
    * Relied on: the VisDrone-DET toolkit's description of the annotation columns (no real file here); the fake
      in tests/data/fakes/visdrone.py follows it.

    Citation: P. Zhu, L. Wen, D. Du, X. Bian, H. Fan, Q. Hu, H. Ling. "Detection and tracking meet drones
    challenge." IEEE TPAMI 44(11):7380-7399, 2022.
    """

    name: ClassVar[str] = "visdrone"
    modality: ClassVar[Modality] = "optical"
    sensor: ClassVar[str] = "drone cameras"
    splits: ClassVar[tuple[str, ...]] = ("train", "val", "test")
    categories: tuple[str, ...] = tuple(VISDRONE_CLASSES.values())
    label_map: Mapping[str, str] = VISDRONE_CLASSES
    ignored: ClassVar[Mapping[str, str]] = {
        _IGNORED: "an ignored region (category 0 or score 0)",
        "11": "category 11 'others', not one of the ten classes",
    }
    split_folders: ClassVar[dict[str, str]] = {"train": "train", "val": "val", "test": "test-dev"}

    def __init__(self, root: str | Path, split: str = "train", kind: BoxKind = "hbb") -> None:
        super().__init__(root, split)
        if check_kind(self.name, kind) != "hbb":
            raise ValueError(f"{self.name}: this dataset has no obb boxes; use kind='hbb'")
        suffix = f"-DET-{self.split_folders[split]}"
        folders = sorted(p for p in self.root.glob(f"VisDrone*{suffix}") if (p / "annotations").is_dir())
        if not folders:
            raise DataRootError(
                f"visdrone: no VisDrone*{suffix}/annotations under {self.root}; pass the folder that holds the "
                f"unpacked VisDrone2019-DET archives"
            )
        self.folder = folders[-1].name

    def items(self) -> list[str]:
        return sorted(p.stem for p in (self.root / self.folder / "annotations").glob("*.txt"))

    def load(self, item: str) -> Iterator[Record | Skip]:
        path = self.root / self.folder / "annotations" / f"{item}.txt"
        yield from self.load_text(item, path, f"{self.folder}/images/{item}.jpg", _parse)


def _parse(line: str) -> RawObject:
    parts = [p for p in line.split(",") if p.strip()]
    if len(parts) < 6:
        raise AnnotationError(f"line {line!r} is not 'x,y,w,h,score,category,truncation,occlusion'")
    x, y, w, h, score = parse_floats(parts[:5], f"line {line!r}")
    category = parts[5].strip()
    label = _IGNORED if category == "0" or score == 0 else category
    return RawObject(label, coco_to_hbb([x, y, w, h]))
