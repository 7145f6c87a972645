"""FGSCR-42: fine-grained ship classification with 42 categories, read from its folder-per-class release."""

from __future__ import annotations

import re
from pathlib import Path

from earthgpt.data.sources._folder_classes import FolderClassSource, camel_to_words
from earthgpt.data.sources.base import DataRootError, register


def class_folder_label(folder: str) -> str:
    """'12.Arleigh_Burke-class_destroyer' -> 'arleigh burke class destroyer' (numeric ordering prefix dropped)."""
    return camel_to_words(re.sub(r"^\d+\s*[._\-\s]\s*", "", folder))


@register
class FGSCR42(FolderClassSource):
    """FGSCR-42 (Fine-Grained Ship Classification in Remote sensing images, 42 categories).

    * Modality: optical RGB ship chips from Google Earth, DOTA, HRSC2016 and NWPU VHR-10 scenes, about 50 to
      1,500 px on a side.
    * Task: object-level fine-grained classification (one ship per image), a scene-type record here.
    * Size: 9,320 images in 42 categories (warship classes such as Nimitz-class aircraft carrier, Ticonderoga-
      class cruiser, Arleigh Burke-class destroyer, Perry-class frigate, Wasp-class assault ship, plus civilian
      types such as container ship and cruise ship), built on DSCR.
    * On-disk format: one folder per category holding that category's chips; a leading numeric ordering prefix
      of the folder name (``12.``, ``12_``) is dropped and the rest becomes the label in lower-case words.
    * Classes: the 42 category folders found under ``root`` (in folder order). The exact folder spelling of the
      public archive could not be checked offline, so the category list is read from disk, not hard-coded;
      ``categories`` is filled on construction.
    * Splits: none shipped with the archive. Here a deterministic SHA-1 hash of ``<folder>/<file name>`` sends
      ``test_fraction`` (default 0.2) of the images to "test".
    * Citation: Y. Di, Z. Jiang, H. Zhang, "A Public Dataset for Fine-Grained Ship Classification in Optical
      Remote Sensing Images", Remote Sensing 13(4):747, 2021.
    * Format relied on: the paper's description (folder = category); no real files were available.
    """

    name = "fgscr42"
    sensor = "Google Earth"

    def __init__(self, root: str | Path, split: str = "train", test_fraction: float = 0.2) -> None:
        self._found: dict[str, str] = {}
        super().__init__(root, split, test_fraction)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self._found.values()))

    def _find_class_dir(self) -> Path:
        candidates = [self.root, *sorted(p for p in self.root.iterdir() if p.is_dir())]
        for c in candidates:
            folders = sorted(p for p in c.iterdir() if p.is_dir() and self._has_images(p))
            if len(folders) >= 2:
                self._found = {p.name: class_folder_label(p.name) for p in folders}
                return c
        raise DataRootError(
            f"fgscr42: no category folders with images found in {self.root} or one level below it; pass the "
            "folder that holds the FGSCR-42 category folders"
        )

    def _has_images(self, folder: Path) -> bool:
        return any(f.suffix.lower() in self.suffixes for f in folder.iterdir())

    def label_of(self, folder: str) -> str | None:
        return self._found.get(folder)
