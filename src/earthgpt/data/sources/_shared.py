"""Helpers of every kind of source: deterministic splits, finding images by file name, probing each image once."""

from __future__ import annotations

import functools
import hashlib
import os
from abc import abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Generic, TypeVar

from earthgpt.data.imagery import ImageReadError, RasterInfo, probe
from earthgpt.data.records import ImageRef, Record
from earthgpt.data.sources.base import Skip, Source

IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")

E = TypeVar("E")

PROBE_CACHE_SIZE = 16384
"""Images whose header (or error) is remembered per process: two build entries over the same images (HIT-UAV as
HBB and as OBB) decode each image once. A few hundred bytes each."""


def hash_split(key: str, test_fraction: float = 0.2) -> str:
    """Deterministic split for datasets without an official one: "test" for ``test_fraction`` of keys, else "train".

    The first 8 bytes of the SHA-1 of ``key``, read as a number in [0, 1), decide: the same key lands in the same
    split on every machine and Python version (no ``hash()`` salt), whatever other keys exist.
    """
    digest = hashlib.sha1(key.encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2.0**64  # uniform in [0, 1)
    return "test" if u < test_fraction else "train"


def check_fraction(name: str, test_fraction: float) -> float:
    """``test_fraction`` as a float in [0, 1]; a ValueError naming the option otherwise."""
    f = float(test_fraction)
    if not 0.0 <= f <= 1.0:
        raise ValueError(f"{name}: option test_fraction={test_fraction!r} must lie in [0, 1]")
    return f


@functools.lru_cache(maxsize=PROBE_CACHE_SIZE)
def _probe(path: str, size: int, mtime_ns: int) -> RasterInfo | tuple[str, str, str, bool]:
    """``probe(path)``, or the fields of its ImageReadError; keyed by size and mtime so a changed file is re-read."""
    try:
        return probe(path)
    except ImageReadError as e:
        return (e.path, e.problem, e.fix, e.over_budget)


def probe_once(path: str | Path) -> RasterInfo:
    """:func:`earthgpt.data.imagery.probe` (which decodes JPEG/PNG to catch truncated files), remembered per process
    for an unchanged file; raises ImageReadError (an OSError) as ``probe`` does."""
    p = os.fspath(path)
    st = os.stat(p)
    info = _probe(p, st.st_size, st.st_mtime_ns)
    if isinstance(info, tuple):
        raise ImageReadError(*info)
    return info


def clear_probe_cache() -> None:
    """Forget every remembered probe."""
    _probe.cache_clear()


def probe_ref(source: Source, rel: str, sensor: str = "", item: str | None = None) -> ImageRef | Skip:
    """The ImageRef of ``source.root / rel`` from its probe, or a Skip ("missing_image", "unreadable_image" or
    "image_over_pixel_budget").

    ``item`` names the unit in the Skip (default: ``rel``).
    """
    path = source.root / rel
    if not path.is_file():
        return source.skip(item or rel, "missing_image", f"{path} does not exist")
    try:
        info = probe_once(path)
    except OSError as e:  # ImageReadError, or the file vanished
        reason = "image_over_pixel_budget" if getattr(e, "over_budget", False) else "unreadable_image"
        return source.skip(item or rel, reason, str(e))
    return ImageRef(
        path=rel,
        width=info.width,
        height=info.height,
        modality=source.modality,
        sensor=sensor,
        bands=info.bands,
        dtype=info.dtype,
    )


def found_ref(source: Source, rel: str | None, item: str, missing: str, sensor: str = "") -> ImageRef | Skip:
    """``probe_ref`` of ``rel``, the image that a look-up found for ``item``; if it found none (``rel`` is None), a
    "missing_image" skip whose detail is ``missing``."""
    if rel is None:
        return source.skip(item, "missing_image", missing)
    return probe_ref(source, rel, sensor, item=item)


class ImageFinder:
    """The images below ``root`` found by file name, for releases whose annotations name images by file name only
    and whose archive layout varies. The folder is walked once, at the first look-up that needs it."""

    def __init__(self, root: Path, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> None:
        self.root = root
        self.suffixes = suffixes
        self._index: dict[str, str] | None = None

    def _names(self) -> dict[str, str]:
        """File name -> posix path relative to ``root``; the first in sorted order wins."""
        if self._index is None:
            index: dict[str, str] = {}
            for p in sorted(self.root.rglob("*")):
                if p.suffix.lower() in self.suffixes and p.is_file():
                    index.setdefault(p.name, p.relative_to(self.root).as_posix())
            self._index = index
        return self._index

    def find(self, name: str, expected: str | None = None) -> str | None:
        """``expected`` (relative to ``root``) if that file exists, else the first image named ``name`` below
        ``root``, else None."""
        if expected is not None and (self.root / expected).is_file():
            return expected
        return self._names().get(name)


class IndexedSource(Source, Generic[E]):
    """A source whose annotation file is read once, at the first need, into entries keyed by item.

    ``read_entries`` returns the entries and files the parts it cannot read in ``self._bad`` (item -> detail): those
    are items too, each loading as one ``malformed_annotation`` skip. Every other item goes to ``load_entry`` with
    its entry (None for an item that has none).
    """

    def __init__(self, root: str | Path, split: str = "train") -> None:
        super().__init__(root, split)
        self._entries: dict[str, E] | None = None
        self._bad: dict[str, str] = {}

    @abstractmethod
    def read_entries(self) -> dict[str, E]:
        """The entries of this split by item; unreadable parts go to ``self._bad``. Called once."""

    @abstractmethod
    def load_entry(self, item: str, entry: E | None) -> Iterator[Record | Skip]:
        """Records and skips of one item that is not in ``self._bad``; never raises on bad data."""

    def entries(self) -> dict[str, E]:
        if self._entries is None:
            self._entries = self.read_entries()
        return self._entries

    def items(self) -> list[str]:
        return sorted([*self.entries(), *self._bad])

    def load(self, item: str) -> Iterator[Record | Skip]:
        entry = self.entries().get(item)
        if item in self._bad:
            yield self.skip(item, "malformed_annotation", self._bad[item])
            return
        yield from self.load_entry(item, entry)
