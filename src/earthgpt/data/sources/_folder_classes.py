"""Shared base for scene-classification datasets stored as one folder per class (folder name = label)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from earthgpt.data.records import ImageRef, Record, SceneRecord
from earthgpt.data.sources._shared import IMAGE_SUFFIXES, check_fraction, hash_split, probe_ref
from earthgpt.data.sources.base import DataRootError, Skip, Source

log = logging.getLogger(__name__)


def camel_to_words(name: str) -> str:
    """'DenseResidential' -> 'dense residential'; 'railwayStation' -> 'railway station'; 'sea_ice' -> 'sea ice'."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return " ".join(spaced.replace("_", " ").replace("-", " ").split()).lower()


def folder_key(name: str) -> str:
    """A spelling-free key for matching folder names: 'footballField', 'Football_Field' -> 'footballfield'."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


class FolderClassSource(Source):
    """Scene classification laid out as ``<class dir>/<class folder>/<image>``; one folder per class.

    Subclasses set ``folder_labels`` (every class folder of the release -> its human-readable label, in the
    dataset's class order) and, when the release nests its class folders, ``nested_dirs`` (paths below ``root``
    to try, e.g. ``("UCMerced_LandUse/Images",)``). ``root`` may be the class directory itself, any listed nested
    parent of it, or a folder holding it one level down (e.g. an unzipped ``AID/``).

    Datasets without official splits get a deterministic hash split of ``<class folder>/<file name>``:
    ``test_fraction`` of the images go to "test", the rest to "train"; "all" yields every image.
    """

    tasks = ("scene",)
    splits = ("train", "test", "all")
    folder_labels: ClassVar[dict[str, str]] = {}
    nested_dirs: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = IMAGE_SUFFIXES
    sensor: ClassVar[str] = ""

    def __init__(self, root: str | Path, split: str = "train", test_fraction: float = 0.2) -> None:
        super().__init__(root, split)
        self.test_fraction = check_fraction(self.name, test_fraction)
        self.class_dir = self._find_class_dir()
        self._by_key = {folder_key(f): label for f, label in self.folder_labels.items()}
        self._items: list[str] | None = None

    @property
    def categories(self) -> tuple[str, ...]:
        """The dataset's full class list, human readable, in its published order."""
        return tuple(self.folder_labels.values())

    def _find_class_dir(self) -> Path:
        candidates = [self.root / d for d in self.nested_dirs] + [self.root]
        candidates += sorted(p for p in self.root.iterdir() if p.is_dir())
        keys = {folder_key(f) for f in self.folder_labels}
        for c in candidates:
            if c.is_dir() and any(p.is_dir() and folder_key(p.name) in keys for p in c.iterdir()):
                return c
        expected = ", ".join(list(self.folder_labels)[:4])
        raise DataRootError(
            f"{self.name}: no class folder ({expected}, ...) found in {self.root} or one level below it; "
            f"pass the folder that holds the {self.name} class folders"
        )

    def split_of(self, key: str) -> str:
        """The split ("train" or "test") of the image whose key is ``<class folder>/<file name>``."""
        return hash_split(key, self.test_fraction)

    def items(self) -> list[str]:
        """Image paths relative to ``root`` (posix), sorted; images of the selected split only."""
        if self._items is None:
            out: list[str] = []
            for folder in sorted(p for p in self.class_dir.iterdir() if p.is_dir()):
                for f in folder.iterdir():
                    if not f.is_file() or f.suffix.lower() not in self.suffixes:
                        continue
                    if self.split != "all" and self.split_of(f"{folder.name}/{f.name}") != self.split:
                        continue
                    out.append(f.relative_to(self.root).as_posix())
            self._items = sorted(out)
        return self._items

    def label_of(self, folder: str) -> str | None:
        """The label of one class folder (spelling of case and separators ignored), or None if not a class."""
        label = self.folder_labels.get(folder)
        return label if label is not None else self._by_key.get(folder_key(folder))

    def image_ref(self, rel: str) -> ImageRef | Skip:
        """The ImageRef of ``rel`` (see ``probe_ref``), or the Skip that says why it has none."""
        return probe_ref(self, rel, self.sensor)

    def load(self, item: str) -> Iterator[Record | Skip]:
        folder = Path(item).parent.name
        label = self.label_of(folder)
        if label is None:
            yield self.skip(item, "unknown_class", f"folder {folder!r} is not a {self.name} class")
            return
        ref = self.image_ref(item)
        if isinstance(ref, Skip):
            yield ref
            return
        split = self.split if self.split != "all" else self.split_of(f"{folder}/{Path(item).name}")
        yield SceneRecord(
            id=f"{folder}/{Path(item).stem}",
            source=self.name,
            split=split,
            image=ref,
            label=label,
            categories=self.categories,
        )
