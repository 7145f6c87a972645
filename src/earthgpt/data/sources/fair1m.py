"""FAIR1M: fine-grained oriented object detection in Gaofen images, 37 classes (point-list xml)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

from earthgpt.data.records import Modality, Record
from earthgpt.data.sources._annotation_formats import point_object
from earthgpt.data.sources._detection import BoxKind, DetectionSource, RawObject, check_kind
from earthgpt.data.sources.base import DataRootError, Skip, register
from earthgpt.geometry.polygons import enclosing_hbb

_CLASSES = (
    "Boeing737", "Boeing747", "Boeing777", "Boeing787", "C919", "A220", "A321", "A330", "A350", "ARJ21",
    "other-airplane", "Passenger Ship", "Motorboat", "Fishing Boat", "Tugboat", "Engineering Ship",
    "Liquid Cargo Ship", "Dry Cargo Ship", "Warship", "other-ship", "Small Car", "Bus", "Cargo Truck", "Dump Truck",
    "Van", "Trailer", "Tractor", "Excavator", "Truck Tractor", "other-vehicle", "Basketball Court", "Tennis Court",
    "Football Field", "Baseball Field", "Intersection", "Roundabout", "Bridge",
)  # fmt: skip


def _category(name: str) -> str:
    """'Boeing737' -> 'boeing 737', 'other-airplane' -> 'other airplane', 'Small Car' -> 'small car'."""
    name = name.replace("-", " ")
    if name.startswith("Boeing"):
        name = "Boeing " + name[len("Boeing") :]
    return name.lower()


FAIR1M_LABELS: dict[str, str] = {name: _category(name) for name in _CLASSES}


@register
class Fair1m(DetectionSource):
    """FAIR1M (Sun et al., ISPRS J. Photogramm. Remote Sens. 184, 2022): fine-grained object recognition.

    Over 15,000 Gaofen satellite and Google Earth images (0.3-0.8 m, 1,000 to 10,000 pixels a side) with more
    than one million objects in 37 fine-grained classes of 5 groups (airplanes, ships, vehicles, courts, roads).

    * Modality: optical. Task: oriented detection (``kind="obb"``) or horizontal (``kind="hbb"``, the box
      enclosing each oriented box).
    * On disk (the official release; ``validation`` comes with FAIR1M 2.0)::

        train/part1/images/<n>.tif, train/part1/labelXml/<n>.xml (also part2, ...)
        validation/images/<n>.tif,  validation/labelXml/<n>.xml

      Any folder named ``labelXml`` (or ``labelXmls``) below the split folder is read; an image is the sibling
      ``images/<stem>.tif``. An item is the xml path relative to the root, without ``.xml``.
    * xml: ``<objects><object><possibleresult><name>`` and ``<points>`` with five ``<point>x,y</point>``, the
      last repeating the first (a closed rectangle, any start corner); the four corners are kept as written.
    * Classes (as written): Boeing737 ... ARJ21, other-airplane, Passenger Ship, Motorboat, Fishing Boat,
      Tugboat, Engineering Ship, Liquid Cargo Ship, Dry Cargo Ship, Warship, other-ship, Small Car, Bus,
      Cargo Truck, Dump Truck, Van, Trailer, Tractor, Excavator, Truck Tractor, other-vehicle, Basketball Court,
      Tennis Court, Football Field, Baseball Field, Intersection, Roundabout, Bridge -> lower case with spaces
      ("boeing 737", "other airplane", "small car").
    * Splits: ``train`` and ``val`` (the ``validation`` folder); the test labels are not public.
    * Relied on: the Gaofen challenge xml template and several public FAIR1M readers (no real file here); the
      fake in tests/data/fakes/fair1m.py follows them.

    Citation: X. Sun et al. "FAIR1M: A benchmark dataset for fine-grained object recognition in high-resolution
    remote sensing imagery." ISPRS J. Photogramm. Remote Sens. 184:116-130, 2022.
    """

    name: ClassVar[str] = "fair1m"
    modality: ClassVar[Modality] = "optical"
    sensor: ClassVar[str] = "Gaofen, Google Earth"
    splits: ClassVar[tuple[str, ...]] = ("train", "val")
    categories: tuple[str, ...] = tuple(FAIR1M_LABELS.values())
    label_map: Mapping[str, str] = FAIR1M_LABELS
    split_dirs: ClassVar[dict[str, str]] = {"train": "train", "val": "validation"}

    def __init__(self, root: str | Path, split: str = "train", kind: BoxKind = "obb") -> None:
        super().__init__(root, split)
        self.kind = check_kind(self.name, kind)
        self.split_dir = self.root / self.split_dirs[split]
        if not self.split_dir.is_dir():
            raise DataRootError(f"fair1m: {self.split_dir} not found; pass the FAIR1M folder that holds it")

    def items(self) -> list[str]:
        files = [p for p in self.split_dir.rglob("*.xml") if p.parent.name in ("labelXml", "labelXmls")]
        return sorted(p.relative_to(self.root).with_suffix("").as_posix() for p in files)

    def load(self, item: str) -> Iterator[Record | Skip]:
        xml_path = self.root / f"{item}.xml"
        image_dir = (Path(item).parent.parent / "images").as_posix()
        yield from self.load_xml(
            item,
            xml_path,
            lambda _: self.find_image(xml_path.stem, [image_dir], (".tif", ".tiff", ".png", ".jpg")),
            self._read,
            object_path="objects/object",
        )

    def _read(self, obj: ET.Element) -> RawObject:
        label, box = point_object(obj)
        return RawObject(label, box if self.kind == "obb" else enclosing_hbb(box))
