"""RSOD: four-class optical object detection, one VOC-xml folder per class."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

from earthgpt.data.records import Modality, Record
from earthgpt.data.sources._annotation_formats import text, voc_hbb
from earthgpt.data.sources._detection import BoxKind, DetectionSource, RawObject, check_kind
from earthgpt.data.sources._shared import hash_split
from earthgpt.data.sources.base import DataRootError, Skip, register

RSOD_FOLDERS: dict[str, str] = {
    "aircraft": "aircraft",
    "oiltank": "oil tank",
    "overpass": "overpass",
    "playground": "playground",
}


@register
class Rsod(DetectionSource):
    """RSOD (Long et al., IEEE TGRS 55(5), 2017): aircraft, oil tanks, overpasses and playgrounds.

    976 Google Earth / Tianditu images with 6,950 objects: 4,993 aircraft in 446 images, 1,586 oil tanks in 165,
    180 overpasses in 176 and 191 playgrounds in 189.

    * Modality: optical. Task: horizontal object detection.
    * On disk (the four class archives unpacked side by side; the root holds them)::

        <class>/JPEGImages/<stem>.jpg
        <class>/Annotation/xml/<stem>.xml     PASCAL VOC xml, <object><name>, <bndbox>
        <class>/Annotation/labels/<stem>.txt  the same boxes as text (not read)

      with <class> one of aircraft, oiltank, overpass, playground. An item is ``<class>/<stem>``.
    * Classes (the <name> written in the xml): aircraft, oiltank, overpass, playground -> "aircraft",
      "oil tank", "overpass", "playground".
    * Splits: none official; a deterministic split by hash of the item, 20 % ``test``, the rest ``train``.
    * Relied on: the RSOD README ("PASCAL VOC format", four folders, one per class) and public readers for the
      ``Annotation/xml`` and ``JPEGImages`` sub-folders (no real file here); the fake in tests/data/fakes/rsod.py
      follows them.

    Citation: Y. Long, Y. Gong, Z. Xiao, Q. Liu. "Accurate object localization in remote sensing images based on
    convolutional neural networks." IEEE TGRS 55(5):2486-2498, 2017.
    """

    name: ClassVar[str] = "rsod"
    modality: ClassVar[Modality] = "optical"
    sensor: ClassVar[str] = "Google Earth, Tianditu"
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    categories: tuple[str, ...] = tuple(RSOD_FOLDERS.values())
    label_map: Mapping[str, str] = RSOD_FOLDERS
    loose_labels: ClassVar[bool] = True
    test_fraction: ClassVar[float] = 0.2

    def __init__(self, root: str | Path, split: str = "train", kind: BoxKind = "hbb") -> None:
        super().__init__(root, split)
        if check_kind(self.name, kind) != "hbb":
            raise ValueError(f"{self.name}: this dataset has no obb boxes; use kind='hbb'")
        self.folders = [f for f in RSOD_FOLDERS if (self.root / f / "Annotation" / "xml").is_dir()]
        if not self.folders:
            raise DataRootError(
                f"rsod: no <class>/Annotation/xml folder under {self.root}; pass the folder that holds the "
                f"unpacked {', '.join(RSOD_FOLDERS)} archives"
            )

    def items(self) -> list[str]:
        ids = [f"{f}/{p.stem}" for f in self.folders for p in (self.root / f / "Annotation" / "xml").glob("*.xml")]
        return sorted(i for i in ids if hash_split(i, self.test_fraction) == self.split)

    def load(self, item: str) -> Iterator[Record | Skip]:
        folder, _, stem = item.partition("/")
        xml_path = self.root / folder / "Annotation" / "xml" / f"{stem}.xml"
        image = self.find_image(stem, [f"{folder}/JPEGImages"], (".jpg", ".png"))
        yield from self.load_xml(item, xml_path, lambda _: image, _read)


def _read(obj: ET.Element) -> RawObject:
    return RawObject(text(obj, "name"), voc_hbb(obj))
