"""The resume journal of a scene run: one JSON line per finished tile, appended in tile order after each batch."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class Journal:
    """``PATH`` holds a plan line (the settings that decide the output) and then one record per finished tile.

    A run killed mid-write leaves at most one partial last line: it is cut off on open, and the run continues after
    the last complete record, so a resumed run writes exactly what an uninterrupted one would have.
    """

    def __init__(self, path: Path, plan: dict[str, Any]) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []
        if path.is_file():
            self._load(plan)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"plan": plan}, sort_keys=True) + "\n", encoding="utf-8")

    def _load(self, plan: dict[str, Any]) -> None:
        good = 0
        with self.path.open("rb") as f:
            lines = f.read().split(b"\n")
        rows: list[dict[str, Any]] = []
        for raw in lines[:-1]:  # the last piece follows the final newline: empty, or a partial line
            try:
                rows.append(json.loads(raw))
            except ValueError:
                break
            good += len(raw) + 1
        if not rows or rows[0].get("plan") != json.loads(json.dumps(plan)):
            raise ValueError(
                f"{self.path}: this resume journal belongs to a run with other settings (or is damaged); pass the "
                "same options as that run to resume it, or delete the file (or add --fresh) to start over"
            )
        self.records = rows[1:]
        if [r.get("i") for r in self.records] != list(range(len(self.records))):
            raise ValueError(f"{self.path}: tile records are out of order; delete the file to start over")
        with self.path.open("r+b") as f:  # drop a partial last line left by a kill
            f.truncate(good)
        if self.records:
            log.info("resuming %s after %d finished tiles", self.path, len(self.records))

    def append(self, records: Sequence[dict[str, Any]]) -> None:
        """Add finished tiles (in tile order) and make them durable before returning."""
        if not records:
            return
        with self.path.open("a", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.records += records
