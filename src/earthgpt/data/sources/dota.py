"""DOTA: large aerial images with 8-point oriented polygons (labelTxt)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar, Literal

from earthgpt.data.records import ImageRef, Modality, Record
from earthgpt.data.sources._detection import BoxKind, DetectionSource, RawObject, check_kind
from earthgpt.data.sources._formats import AnnotationError, DotaObject, dota_object, enclosing_hbb, read_dota
from earthgpt.data.sources.base import DataRootError, Skip, register

DotaVersion = Literal["1.0", "1.5", "2.0"]
_V10 = (
    "plane",
    "ship",
    "storage-tank",
    "baseball-diamond",
    "tennis-court",
    "basketball-court",
    "ground-track-field",
    "harbor",
    "bridge",
    "large-vehicle",
    "small-vehicle",
    "helicopter",
    "roundabout",
    "soccer-ball-field",
    "swimming-pool",
)
DOTA_CLASSES: dict[str, tuple[str, ...]] = {
    "1.0": _V10,
    "1.5": (*_V10, "container-crane"),
    "2.0": (*_V10, "container-crane", "airport", "helipad"),
}


def dota_label_map(version: str) -> dict[str, str]:
    """DOTA class names of ``version`` as written -> category names ('storage-tank' -> 'storage tank')."""
    if version not in DOTA_CLASSES:
        raise ValueError(f"dota: option version must be one of {sorted(DOTA_CLASSES)}, got {version!r}")
    return {name: name.replace("-", " ") for name in DOTA_CLASSES[version]}


class DotaLayout(DetectionSource):
    """The DOTA release as ``dota`` and ``dota_cls`` read it: ``<split>/labelTxt/<stem>.txt`` and
    ``<split>/images/<stem>.png`` under the root, the official train and val folders, the class list of ``version``.
    """

    modality: ClassVar[Modality] = "optical"
    sensor: ClassVar[str] = "Google Earth, GF-2, JL-1"
    splits: ClassVar[tuple[str, ...]] = ("train", "val")

    def __init__(self, root: str | Path, split: str = "train", version: DotaVersion = "1.0") -> None:
        super().__init__(root, split)
        self.label_map: Mapping[str, str] = dota_label_map(version)
        self.categories = tuple(self.label_map.values())
        self.label_dir = self.root / split / "labelTxt"
        if not self.label_dir.is_dir():
            raise DataRootError(
                f"{self.name}: {self.label_dir} not found; pass the DOTA folder that holds {split}/labelTxt and "
                f"{split}/images"
            )

    def items(self) -> list[str]:
        return sorted(p.stem for p in self.label_dir.glob("*.txt"))

    def scene_ref(self, item: str) -> ImageRef | Skip:
        """The ImageRef of the scene ``item`` (``<split>/images/<item>.png``), or the Skip that says why not."""
        return self.image_ref(item, f"{self.split}/images/{item}.png")

    @abstractmethod
    def load_objects(self, item: str, parsed: list[DotaObject], skips: list[Skip]) -> Iterator[Record | Skip]:
        """Records and skips of ``item`` from the objects of its label file that parse and the skips of those that
        do not."""

    def load(self, item: str) -> Iterator[Record | Skip]:
        found = self.objects(item)
        if isinstance(found, Skip):
            yield found
            return
        yield from self.load_objects(item, *found)

    def objects(self, item: str) -> tuple[list[DotaObject], list[Skip]] | Skip:
        """The objects of ``item`` that parse and a ``malformed_annotation`` skip per line that does not, or the
        one Skip of a missing or unreadable label file."""
        path = self.label_dir / f"{item}.txt"
        if not path.is_file():
            return self.skip(item, "missing_annotation", f"{path} does not exist")
        try:
            _, lines = read_dota(path)
        except AnnotationError as e:
            return self.skip(item, "malformed_annotation", str(e))
        parsed: list[DotaObject] = []
        skips: list[Skip] = []
        for n, line in enumerate(lines):
            try:
                parsed.append(dota_object(line))
            except AnnotationError as e:
                skips.append(self.skip(item, "malformed_annotation", f"object {n}: {e}"))
        return parsed, skips


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
