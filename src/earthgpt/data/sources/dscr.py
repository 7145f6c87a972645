"""DSCR: seven-class ship classification (ship chips), read from its csv split files and image folder."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from earthgpt.data.records import Record, SceneRecord
from earthgpt.data.sources._shared import ImageFinder, IndexedSource, found_ref
from earthgpt.data.sources.base import DataRootError, Skip, register

log = logging.getLogger(__name__)

LABELS: dict[str, str] = {
    "aircraft carrier": "aircraft carrier",
    "assault": "assault ship",
    "civil": "civilian ship",
    "combat": "combat ship",
    "cruiser": "cruiser",
    "destroyer": "destroyer",
    "other": "other military ship",
}


@register
class DSCR(IndexedSource[str]):
    """DSCR (Dataset for Ship Classification in Remote sensing images).

    * Modality: optical RGB ship chips cut from DOTA, HRSC2016, NWPU VHR-10 and Google Earth scenes.
    * Task: object-level classification (one ship per image), a scene-type record here.
    * Size: about 20,675 chips (many are augmented copies: ``crop_*``, ``rotate_*``, ``lightness_*``,
      ``transpose_*`` prefixes in the file names).
    * On-disk format: ``train.csv`` and ``test.csv`` at the root (``val.csv`` at the root or under
      ``annotations/`` in later versions), UTF-8, header ``class,label`` - the header is misleading: the FIRST
      column is the image FILE NAME and the second the label. File names are UTF-8 and include Chinese place
      names (``20161106诺福克_3.bmp``). Images are ``.bmp`` chips under the root (``Images/`` in the release;
      looked up by file name anywhere below ``root``, flat or per-class).
    * Classes (7, csv label -> name here): aircraft carrier, assault -> assault ship, civil -> civilian ship,
      combat -> combat ship, cruiser, destroyer, other -> other military ship.
    * Splits: the official ``train.csv`` / ``val.csv`` / ``test.csv``.
    * Citation: Y. Di, Z. Jiang, H. Zhang, G. Meng, "A public dataset for ship classification in remote sensing
      images", Proc. SPIE 11155, 2019.
    * Format relied on: the split csv files of the authors' repository (DYH666/DSCR); the image archive's
      internal layout is not documented there, hence the lookup by file name.
    """

    name = "dscr"
    tasks = ("scene",)
    splits = ("train", "val", "test")
    categories: ClassVar[tuple[str, ...]] = tuple(LABELS.values())

    def __init__(self, root: str | Path, split: str = "train") -> None:
        super().__init__(root, split)
        candidates = [self.root / f"{split}.csv", self.root / "annotations" / f"{split}.csv"]
        found = [c for c in candidates if c.is_file()]
        if not found:
            raise DataRootError(
                f"dscr: split file {split}.csv not found in {self.root} or {self.root / 'annotations'}; "
                "pass the DSCR folder that holds train.csv and test.csv"
            )
        self.split_file = found[0]
        self._finder = ImageFinder(self.root)

    def read_entries(self) -> dict[str, str]:
        rows: dict[str, str] = {}
        with open(self.split_file, encoding="utf-8-sig", newline="") as f:
            for n, row in enumerate(csv.reader(f), start=1):
                if n == 1 and [c.strip().lower() for c in row] == ["class", "label"]:
                    continue  # header
                if len(row) != 2 or not row[0].strip():
                    self._bad[f"{self.split_file.name}:{n}"] = f"expected 'file,label', got {row!r}"
                    continue
                rows.setdefault(row[0].strip(), row[1].strip())
        return rows

    def load_entry(self, item: str, raw: str | None) -> Iterator[Record | Skip]:
        if raw is None:
            yield self.skip(item, "missing_annotation", f"{item} is not listed in {self.split_file}")
            return
        label = LABELS.get(raw.lower())
        if label is None:
            yield self.skip(item, "unknown_class", f"label {raw!r} is not a DSCR class")
            return
        missing = f"{item} listed in {self.split_file.name} is not below {self.root}"
        ref = found_ref(self, self._finder.find(item), item, missing)
        if isinstance(ref, Skip):
            yield ref
            return
        yield SceneRecord(
            id=Path(item).stem, source=self.name, split=self.split, image=ref, label=label, categories=self.categories
        )
