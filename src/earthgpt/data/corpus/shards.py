"""Sharded JSONL output with atomic commits: a shard pair (conversations, records) plus a marker per shard.

A shard holds the output of a contiguous range of units. It is written to ``*.tmp`` files while units arrive,
then fsynced and renamed to its final names, and only then is its marker ``.build/shard-NNNNN.json`` written
(atomically, by rename): the marker is the commit. On restart, shards are accepted in order while their marker
exists and the files' sha256 match it; everything after the first incomplete shard is deleted and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from pathlib import Path
from typing import IO, Any

from earthgpt.data.corpus.units import UnitResult

log = logging.getLogger(__name__)

STATE_DIR = ".build"
KINDS: tuple[str, ...] = ("conversations", "records")


def shard_name(kind: str, index: int) -> str:
    """File name of one shard: ``conversations-00000.jsonl`` or ``records-00000.jsonl``."""
    return f"{kind}-{index:05d}.jsonl"


def marker_path(out_dir: Path, index: int) -> Path:
    return out_dir / STATE_DIR / f"shard-{index:05d}.json"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_json_atomic(path: Path, data: Any, indent: int | None = 1, durable: bool = True) -> None:
    """Write JSON to ``path`` through a temporary file and a rename, so readers never see half a file;
    ``durable`` also flushes it to the disk first (for commit markers; files a rerun rewrites need not be)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=indent, sort_keys=False)
        f.write("\n")
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


class ShardWriter:
    """Streams the lines of consecutive units into one shard pair and commits it with its marker."""

    def __init__(self, out_dir: Path, index: int, units_start: int) -> None:
        self.out_dir = out_dir
        self.index = index
        self.units_start = units_start
        self.units = 0
        self.lines = dict.fromkeys(KINDS, 0)
        self.skips: list[dict[str, str]] = []
        self.tally: Counter[tuple[str, str, str, str, str]] = Counter()
        self.tiling: Counter[str] = Counter()
        self.units_converted = 0
        self._files: dict[str, IO[bytes]] = {}
        self._hashes = {k: hashlib.sha256() for k in KINDS}

    def _tmp(self, kind: str) -> Path:
        return self.out_dir / (shard_name(kind, self.index) + ".tmp")

    def add(self, result: UnitResult) -> None:
        """Append one unit's lines (streamed to disk) and keep its skips and tallies for the marker."""
        if not self._files:
            self._files = {k: self._tmp(k).open("wb") for k in KINDS}
        for kind, lines in (("conversations", result.conversations), ("records", result.records)):
            if lines:
                data = ("\n".join(lines) + "\n").encode("utf-8")
                self._files[kind].write(data)
                self._hashes[kind].update(data)
                self.lines[kind] += len(lines)
        self.units += 1
        self.units_converted += bool(result.records)
        self.skips.extend(result.skips)
        self.tally.update(result.tally)
        self.tiling.update(result.tiling)

    def commit(self) -> dict[str, Any]:
        """Make the shard final (fsync, rename, then the marker) and return its marker."""
        if not self._files:
            self._files = {k: self._tmp(k).open("wb") for k in KINDS}
        for kind, f in self._files.items():
            f.flush()
            os.fsync(f.fileno())
            f.close()
            os.replace(self._tmp(kind), self.out_dir / shard_name(kind, self.index))
        marker = {
            "index": self.index,
            "units_start": self.units_start,
            "units_end": self.units_start + self.units,
            "units_converted": self.units_converted,
            "files": {k: shard_name(k, self.index) for k in KINDS},
            "lines": dict(self.lines),
            "sha256": {k: self._hashes[k].hexdigest() for k in KINDS},
            "tally": [[*key, n] for key, n in sorted(self.tally.items())],
            "tiling": dict(sorted(self.tiling.items())),
            "skips": self.skips,
        }
        write_json_atomic(marker_path(self.out_dir, self.index), marker, indent=None)
        return marker


def _marker_ok(out_dir: Path, index: int) -> dict[str, Any] | None:
    """The marker of shard ``index`` if it exists and both files match its hashes, else None."""
    path = marker_path(out_dir, index)
    if not path.is_file():
        return None
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for kind in KINDS:
        f = out_dir / shard_name(kind, index)
        if not f.is_file() or file_sha256(f) != marker.get("sha256", {}).get(kind):
            return None
    return marker if isinstance(marker, dict) else None


def recover(out_dir: Path) -> list[dict[str, Any]]:
    """Markers of the committed shards, in order; deletes every later or partial shard file and temporary file."""
    committed: list[dict[str, Any]] = []
    while (marker := _marker_ok(out_dir, len(committed))) is not None:
        committed.append(marker)
    n = len(committed)
    stale = [p for p in out_dir.glob("*.tmp")] + [p for p in (out_dir / STATE_DIR).glob("*.tmp")]
    for kind in KINDS:
        stale += [p for p in out_dir.glob(f"{kind}-*.jsonl") if _index_of(p) >= n]
    stale += [p for p in (out_dir / STATE_DIR).glob("shard-*.json") if _index_of(p) >= n]
    for p in sorted(stale):
        log.info("removing unfinished build file %s", p)
        p.unlink()
    return committed


def _index_of(path: Path) -> int:
    """The shard index in a file name like ``records-00012.jsonl`` (-1 if there is none)."""
    digits = path.name.split(".")[0].rsplit("-", 1)[-1]
    return int(digits) if digits.isdigit() else -1
