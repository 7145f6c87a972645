"""AIR-SARShip-2.0: Gaofen-3 SAR ship detection, 16-bit tiles with Gaofen-challenge point-list xml."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

from earthgpt.data.records import Modality, Record
from earthgpt.data.sources._annotation_formats import point_object
from earthgpt.data.sources._detection import BoxKind, DetectionSource, RawObject, check_kind
from earthgpt.data.sources._shared import hash_split
from earthgpt.data.sources.base import DataRootError, Skip, register
from earthgpt.geometry.polygons import enclosing_hbb

XML_DIR = "AIR-SARShip-2.0-xml"
DATA_DIR = "AIR-SARShip-2.0-data"


@register
class AirSarShip2(DetectionSource):
    """AIR-SARShip-2.0 (Sun et al., Journal of Radars 8(6), 2019; release 2.0 in 2020).

    300 Gaofen-3 SAR images of 1000x1000 pixels (1 m and 3 m, spotlight and strip modes, single polarisation),
    one 16-bit channel, with ships in ports, near islands and at sea.

    * Modality: SAR. Task: ship detection, horizontal (``kind="hbb"``, the box enclosing the annotated
      rectangle) or oriented (``kind="obb"``, the four annotated corners as written).
    * On disk (the two release archives unpacked side by side; the root holds them)::

        AIR-SARShip-2.0-data/<n>.tiff    16-bit single-band GeoTIFF
        AIR-SARShip-2.0-xml/<n>.xml      <objects><object><possibleresult><name>ship</name> ...
                                         <points><point>x, y</point> x5 (closed ring) ...

    * Classes: ship.
    * Splits: none official; a deterministic split by hash of the image id, 20 % ``test``, the rest ``train``.
    * Relied on: public readers of the release (archive folder names and ``<point>x, y</point>`` text); the xml
      follows the Gaofen-challenge template shared with FAIR1M. No real file here; the fake in
      tests/data/fakes/air_sarship2.py follows them.

    Citation: X. Sun, Z. Wang, Y. Sun, W. Diao, Y. Zhang, K. Fu. "AIR-SARShip-1.0: High-resolution SAR ship
    detection dataset." Journal of Radars 8(6):852-862, 2019.
    """

    name: ClassVar[str] = "air_sarship2"
    modality: ClassVar[Modality] = "sar"
    sensor: ClassVar[str] = "Gaofen-3"
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    categories: tuple[str, ...] = ("ship",)
    label_map: Mapping[str, str] = {"ship": "ship"}
    loose_labels: ClassVar[bool] = True
    test_fraction: ClassVar[float] = 0.2

    def __init__(self, root: str | Path, split: str = "train", kind: BoxKind = "hbb") -> None:
        super().__init__(root, split)
        self.kind = check_kind(self.name, kind)
        if not (self.root / XML_DIR).is_dir():
            raise DataRootError(f"air_sarship2: {self.root / XML_DIR} not found; pass the folder that holds it")

    def items(self) -> list[str]:
        stems = sorted(p.stem for p in (self.root / XML_DIR).glob("*.xml"))
        return [s for s in stems if hash_split(s, self.test_fraction) == self.split]

    def load(self, item: str) -> Iterator[Record | Skip]:
        image = self.find_image(item, [DATA_DIR], (".tiff", ".tif"))
        yield from self.load_xml(
            item, self.root / XML_DIR / f"{item}.xml", lambda _: image, self._read, object_path="objects/object"
        )

    def _read(self, obj: ET.Element) -> RawObject:
        label, box = point_object(obj)
        return RawObject(label, box if self.kind == "obb" else enclosing_hbb(box))
