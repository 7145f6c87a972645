"""The build manifest (config, counts, skips, shard hashes) and readers of a finished build's shards."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from earthgpt.data.corpus.config import BuildConfig
from earthgpt.data.records import Record, record_from_dict

MANIFEST = "manifest.json"
FORMAT = "earthgpt-instructions/1"


class BuildNotFoundError(FileNotFoundError):
    """A folder that holds no finished build (no manifest.json)."""


def _by(tally: Counter[tuple[str, ...]], kind: str, field: int) -> dict[str, int]:
    """Totals of one tally kind grouped by one key field (1 task, 2 source, 3 modality, 4 split)."""
    out: Counter[str] = Counter()
    for key, n in tally.items():
        if key[0] == kind:
            out[key[field]] += n
    return dict(sorted(out.items()))


def _table(tally: Counter[tuple[str, ...]]) -> list[dict[str, Any]]:
    """Table I rows: one per (conversation task, source, modality, split) with its counts."""
    rows: dict[tuple[str, ...], dict[str, Any]] = defaultdict(dict)
    for (kind, task, source, modality, split), n in tally.items():
        if kind != "records":
            rows[(task, source, modality, split)][kind] = n
    return [
        {
            "task": k[0],
            "source": k[1],
            "modality": k[2],
            "split": k[3],
            "conversations": v.get("conversations", 0),
            "records": v.get("conversation_records", 0),
            "rounds": v.get("rounds", 0),
        }
        for k, v in sorted(rows.items())
    ]


def overall_sha256(shards: list[dict[str, Any]]) -> str:
    """One hash over all shards: sha256 of the lines "<file name> <file sha256>" in shard order."""
    h = hashlib.sha256()
    for shard in shards:
        for kind in ("conversations", "records"):
            h.update(f"{shard['files'][kind]} {shard['sha256'][kind]}\n".encode())
    return h.hexdigest()


def make_manifest(
    config: BuildConfig, markers: list[dict[str, Any]], plan_skips: list[dict[str, str]], n_units: int
) -> dict[str, Any]:
    """The manifest of a finished build; it depends only on the config's content and the data (not on workers)."""
    tally: Counter[tuple[str, ...]] = Counter()
    tiling: Counter[str] = Counter()
    skips = list(plan_skips)
    converted = 0
    for m in markers:
        for *key, n in m["tally"]:
            tally[tuple(key)] += n
        tiling.update(m["tiling"])
        skips.extend(m["skips"])
        converted += m["units_converted"]
    shards = [
        {"index": m["index"], "units": [m["units_start"], m["units_end"]], "files": m["files"], "lines": m["lines"]}
        | {"sha256": m["sha256"]}
        for m in markers
    ]
    totals = {kind: sum(n for key, n in tally.items() if key[0] == kind) for kind in ("records", "conversations")}
    return {
        "format": FORMAT,
        "config": {"data_root": config.data_root, **config.content_dict()},
        "units": {"total": n_units, "converted": converted, "skipped": n_units - converted},
        **totals,
        "rounds": sum(n for key, n in tally.items() if key[0] == "rounds"),
        "counts": {
            kind: {
                f"by_{name}": _by(tally, kind, i) for i, name in enumerate(("task", "source", "modality", "split"), 1)
            }
            for kind in ("records", "conversations")
        },
        "table": _table(tally),
        "skips_by_reason": dict(sorted(Counter(s["reason"] for s in skips).items())),
        "tiling": dict(sorted(tiling.items())),
        "skips": skips,
        "shards": shards,
        "sha256": overall_sha256(shards),
    }


def read_manifest(out_dir: str | Path) -> dict[str, Any]:
    """The manifest of a finished build; BuildNotFoundError naming the folder if there is none."""
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        raise BuildNotFoundError(
            f"{path} not found: {out_dir} holds no finished build; run `earthgpt data build --config ...` first"
        )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _lines(out_dir: Path, kind: str) -> Iterator[dict[str, Any]]:
    for shard in read_manifest(out_dir)["shards"]:
        with (out_dir / shard["files"][kind]).open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)


def iter_conversations(out_dir: str | Path, split: str | None = None) -> Iterator[dict[str, Any]]:
    """Every stored conversation line (a dict ``Conversation.from_dict`` reads), in build order."""
    for d in _lines(Path(out_dir), "conversations"):
        if split is None or d.get("split") == split:
            yield d


def iter_records(out_dir: str | Path, split: str | None = None) -> Iterator[Record]:
    """Every ground-truth record of the build (tiles included), in build order."""
    for d in _lines(Path(out_dir), "records"):
        if split is None or d.get("split") == split:
            yield record_from_dict(d)
