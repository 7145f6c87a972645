"""Predictions files (JSONL, one ``{"id", "text", ...}`` per line, EarthGPT-X lines also ``masks`` and ``regions``):
tolerant reading with counts, appending."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from earthgpt.inference.output import Generation

__all__ = ["PredictionFile", "append_predictions", "read_predictions"]

log = logging.getLogger(__name__)


@dataclass
class PredictionFile:
    """What a predictions file held: one response per id, the prompt each was made for, and what was wrong."""

    responses: dict[str, Generation] = field(default_factory=dict)
    prompts: dict[str, str] = field(default_factory=dict)
    duplicates: int = 0
    """Lines whose id was already seen (only one line per id is kept)."""
    malformed: int = 0
    """Lines that are not a JSON object with a string or number ``id`` (a truncated last line counts here)."""
    non_string: int = 0
    """Lines whose text is missing or not a string (kept as an empty answer)."""
    extras: dict[str, dict[str, Any]] = field(default_factory=dict)
    """EarthGPT-X parts of a line as written, by id: ``masks`` (a list, one per ``<seg>``, each a COCO RLE
    ``{"size", "counts"}`` or a list of pixel polygons ``[[x1, y1, x2, y2, ...], ...]``) and ``regions`` (a list
    of strings, the answer for each ``<regionK>``), checked when scored against the task's samples."""


def read_predictions(
    path: str | Path, text_key: str = "text", keep: Literal["first", "last"] = "first"
) -> PredictionFile:
    """Read a predictions JSONL file; never raises on bad lines (they are counted).

    ``text_key`` names the field holding the model's answer (e.g. "answer" or "prediction" in other tools'
    files). With ``keep="first"`` a duplicate id keeps its first line, with "last" its last (used for the
    harness's own cache, where a later line is a re-prediction). A missing file reads as empty.
    """
    out = PredictionFile()
    p = Path(path)
    if not p.is_file():
        return out
    with p.open(encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (ValueError, RecursionError):  # bad JSON, a > 4300-digit integer, deep nesting
                out.malformed += 1
                log.warning("%s:%d: not valid JSON, line ignored", p, n)
                continue
            rid = row.get("id") if isinstance(row, dict) else None
            if not isinstance(rid, (str, int)) or isinstance(rid, bool):
                out.malformed += 1
                log.warning("%s:%d: no string or integer 'id', line ignored", p, n)
                continue
            _add(out, str(rid), row, text_key, keep)
    return out


def _add(out: PredictionFile, rid: str, row: dict[str, Any], text_key: str, keep: str) -> None:
    """Record one line's response under its id, counting duplicates and non-string texts."""
    if rid in out.responses:
        out.duplicates += 1
        if keep == "first":
            return
    text = row.get(text_key)
    if not isinstance(text, str):
        out.non_string += 1
    fields = dict(row)
    fields["text"] = text if isinstance(text, str) else ""
    out.responses[rid] = Generation.from_dict(fields)
    extra = {k: row[k] for k in ("masks", "regions") if isinstance(row.get(k), list)}
    if extra:
        out.extras[rid] = extra
    else:
        out.extras.pop(rid, None)
    prompt = row.get("prompt")
    if isinstance(prompt, str):
        out.prompts[rid] = prompt


def append_predictions(path: str | Path, rows: Iterable[tuple[str, str, Generation]]) -> None:
    """Append (id, prompt, response) lines and flush, so that a stopped run keeps what it finished."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    # A run killed mid-write leaves a partial last line: end it, so the next line is not glued to it.
    broken = p.is_file() and p.stat().st_size > 0 and _last_byte(p) != b"\n"
    with p.open("a", encoding="utf-8") as f:
        if broken:
            f.write("\n")
        for rid, prompt, response in rows:
            f.write(json.dumps({"id": rid, "prompt": prompt, **response.to_dict()}, ensure_ascii=False) + "\n")
        f.flush()


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as f:
        f.seek(-1, 2)
        return f.read(1)
