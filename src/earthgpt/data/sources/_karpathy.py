"""Shared reader for captioning datasets released as one json file, e.g. a Karpathy-style ``dataset_*.json``."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from earthgpt.data.records import CaptionRecord, Record
from earthgpt.data.sources._shared import ImageFinder, IndexedSource, found_ref
from earthgpt.data.sources.base import DataRootError, Skip, Source

log = logging.getLogger(__name__)


def find_annotation(source: Source, annotation: str | None, candidates: tuple[str, ...]) -> Path:
    """The annotation file: ``root/annotation`` if given, else the first of ``candidates`` found in ``root``."""
    names = (annotation,) if annotation else candidates
    for name in names:
        p = source.root / name
        if p.is_file():
            return p
    raise DataRootError(
        f"{source.name}: annotation file {' or '.join(names)} not found in {source.root}; pass the dataset folder "
        f"that holds it, or the file name relative to that folder as option annotation=..."
    )


def load_json(path: Path) -> Any:
    """Parsed JSON; a UTF-8 BOM is accepted."""
    with open(path, encoding="utf-8-sig") as f:
        return json.load(f)


def entry_captions(entry: dict[str, Any]) -> tuple[str, ...]:
    """Every ``sentences[].raw`` of one Karpathy image entry, stripped; duplicates are kept.

    Raises KeyError/TypeError when the entry lacks its sentences or a sentence lacks ``raw``.
    """
    sentences = entry["sentences"]
    if not isinstance(sentences, list):
        raise TypeError(f"'sentences' is {type(sentences).__name__}, expected a list")
    return tuple(str(s["raw"]).strip() for s in sentences)


class JsonCaptionSource(IndexedSource[dict[str, Any]]):
    """Captions read from one json file of the whole release (``annotation_names`` in ``root``, or the option
    ``annotation``) into entries by item; images are found by file name anywhere below ``root``."""

    tasks = ("caption",)
    splits = ("train", "val", "test")
    annotation_names: ClassVar[tuple[str, ...]] = ()
    sensor: ClassVar[str] = ""

    def __init__(self, root: str | Path, split: str = "train", annotation: str | None = None) -> None:
        super().__init__(root, split)
        self.annotation = find_annotation(self, annotation, self.annotation_names)
        self._finder = ImageFinder(self.root)

    def caption_record(
        self, item: str, filename: str, captions: tuple[str, ...], expected: str | None = None
    ) -> Iterator[Record | Skip]:
        """The CaptionRecord of the image ``filename`` (``expected`` relative to ``root`` first) with the non-empty
        ``captions``, or the Skip of a missing or unreadable image."""
        rel = self._finder.find(filename, expected)
        missing = f"{filename} ({self.annotation.name}) is not below {self.root}"
        ref = found_ref(self, rel, item, missing, self.sensor)
        if isinstance(ref, Skip):
            yield ref
            return
        caps = tuple(c for c in captions if c)
        yield CaptionRecord(id=Path(filename).stem, source=self.name, split=self.split, image=ref, captions=caps)


class KarpathyCaptionSource(JsonCaptionSource):
    """Captions from a Karpathy-style split file.

    The file is ``{"images": [{"filename", "split", "sentences": [{"raw", "tokens", ...}], "imgid", ...}]}``;
    ``split`` is "train", "val" or "test". Images are found by file name anywhere below ``root``. Items are the
    entries' file names; an entry without a usable ``filename`` or ``split`` is reported (once per split) as
    ``entry:<index>``.
    """

    def read_entries(self) -> dict[str, dict[str, Any]]:
        entries: dict[str, dict[str, Any]] = {}
        try:
            images = load_json(self.annotation)["images"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            self._bad["annotation"] = f"{self.annotation}: {e}"
            images = []
        for i, entry in enumerate(images):
            name = entry.get("filename") if isinstance(entry, dict) else None
            split = entry.get("split") if isinstance(entry, dict) else None
            if not isinstance(name, str) or split not in self.splits:
                self._bad[f"entry:{i}"] = f"entry {i} of {self.annotation.name} lacks a filename or a valid split"
            elif split == self.split:
                key = name if name not in entries else f"{name}#{i}"
                entries[key] = entry
        return entries

    def load_entry(self, item: str, entry: dict[str, Any] | None) -> Iterator[Record | Skip]:
        if entry is None:
            yield self.skip(item, "missing_annotation", f"{item} is not a {self.split} entry of {self.annotation}")
            return
        try:
            captions = entry_captions(entry)
        except (KeyError, TypeError) as e:
            yield self.skip(item, "malformed_annotation", f"{self.annotation.name}: {item}: missing {e}")
            return
        if not any(captions):
            yield self.skip(item, "empty_annotation", f"{item} has no caption")
            return
        yield from self.caption_record(item, str(entry["filename"]), captions)
