"""A VOC-layout release whose class list is read from its own xml files (the InfiRay infrared sets, Oceanic ship)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from earthgpt.data.records import Modality
from earthgpt.data.sources._detection import BoxKind, VocSource, loose
from earthgpt.data.sources._shared import hash_split

_NAME = re.compile(r"<name>\s*([^<]+?)\s*</name>")


class OpenClassVoc(VocSource):
    """A VOC-layout release whose class list we could not confirm: the classes are the names its xml files use.

    Layout read: ``Annotations/<stem>.xml`` (VOC: <object><name>, <bndbox>), ``JPEGImages/<stem>.<jpg|png|bmp>``
    and, when present, ``ImageSets/Main/{train,test}.txt``; without a list a split is a deterministic hash of the
    image id (20 % ``test``). Class names are compared loosely (case, '-', '_') and given in lower case with
    spaces. ``categories`` is the sorted set of names found in all xml files of the release, unless the option
    ``classes`` fixes the list (then other names are skipped as ``unknown_class``).
    """

    modality: ClassVar[Modality] = "infrared"
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    image_suffixes: ClassVar[tuple[str, ...]] = (".jpg", ".png", ".bmp", ".jpeg")

    def __init__(
        self, root: str | Path, split: str = "train", kind: BoxKind = "hbb", classes: Sequence[str] | None = None
    ) -> None:
        super().__init__(root, split, kind)
        names = classes if classes is not None else self._names_in_release()
        self.label_map = {name: loose(name) for name in names}
        self.categories = tuple(sorted(set(self.label_map.values())))
        self._loose_table = {loose(k): v for k, v in self.label_map.items()}

    def _names_in_release(self) -> set[str]:
        names: set[str] = set()
        for path in self.annotation_dir.glob("*.xml"):
            try:
                names.update(_NAME.findall(path.read_text(encoding="utf-8", errors="replace")))
            except OSError:
                continue  # an unreadable file is reported by load() as malformed_annotation
        return names

    def category_of(self, label: str) -> str | None:
        return self._loose_table.get(loose(label))

    def items(self) -> list[str]:
        listed = self.root / "ImageSets" / "Main" / f"{self.split}.txt"
        if listed.is_file():
            lines = listed.read_text(encoding="utf-8-sig").splitlines()
            return sorted({line.strip() for line in lines if line.strip()})
        stems = sorted(p.stem for p in self.annotation_dir.glob("*.xml"))
        return [s for s in stems if hash_split(s, self.test_fraction) == self.split]
