"""What was built (a Table I of the corpus, skips by reason) and which sources can be built."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from earthgpt.data.corpus.manifest import read_manifest
from earthgpt.data.corpus.table1 import paper_count
from earthgpt.data.sources import all_sources


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: columns padded to their widest cell, numbers right-aligned."""
    cells = [[str(c) for c in header]] + [[f"{c:,}" if isinstance(c, int) else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    numeric = [all(isinstance(r[i], int) for r in rows) and bool(rows) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if num else c.ljust(w) for c, w, num in zip(r, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _paper_task(task: str) -> str:
    """The Table I task of a conversation task: HBB/OBB detection and referring sessions are one detection row."""
    return "detection" if task.startswith(("detection_", "referring_")) else task


def _task_rows(m: dict[str, Any]) -> list[tuple[object, ...]]:
    """Table I of the build: (task, source, conversations, records, rounds, modality), all splits summed."""
    per: Counter[tuple[str, str, str, str]] = Counter()
    for row in m["table"]:
        for kind in ("conversations", "records", "rounds"):
            per[(row["task"], row["source"], row["modality"], kind)] += row[kind]
    keys = sorted({k[:3] for k in per})
    return [(t, s, per[(t, s, mo, "conversations")], per[(t, s, mo, "records")], per[(t, s, mo, "rounds")], mo)
            for t, s, mo in keys]  # fmt: skip


def _paper_rows(m: dict[str, Any]) -> list[tuple[object, ...]]:
    """Per source and Table I task: the paper's size, the build's count in the same unit, and their ratio."""
    per: Counter[tuple[str, str, str]] = Counter()
    for row in m["table"]:
        for kind in ("conversations", "records", "rounds"):
            per[(row["source"], _paper_task(row["task"]), kind)] += row[kind]
    rows: list[tuple[object, ...]] = []
    for source, task in sorted({k[:2] for k in per}):
        paper = paper_count(task, source)
        if paper is None:
            rows.append((source, task, "-", "", per[(source, task, "conversations")], ""))
            continue
        unit = paper.unit or "conversations"
        built = per[(source, task, unit)]
        share = f"{100 * built / paper.size:.0f}%" if paper.unit else "?"
        rows.append((source, task, paper.size, paper.unit or "?", built, share))
    return rows


def _entry(row: dict[str, str]) -> str:
    return f"{row['source']}/{row['tag']}" if row.get("tag") else row["source"]


def stats(out_dir: str | Path) -> str:
    """Table I of a finished build (task, source, conversations, records, rounds, modality; all splits summed)
    beside the paper's Table I count, then the splits, the skips by reason and by source, and the tiling counts."""
    m = read_manifest(out_dir)
    units = m["units"]
    parts = [
        f"Build {out_dir}: {units['total']:,} items ({units['converted']:,} converted, {units['skipped']:,} skipped), "
        f"{m['records']:,} records, {m['conversations']:,} conversations, {len(m['skips']):,} skips, "
        f"{len(m['shards'])} shards, sha256 {m['sha256'][:16]}",
        "",
        format_table(("Task", "Data", "Size", "Records", "Rounds", "Type"), _task_rows(m)),
        "",
        format_table(("Source", "Table I task", "Table I", "Counted as", "Build", "Build/Table I"), _paper_rows(m)),
        "Table I: the paper's training samples; Counted as: what of the build it equals (? where the paper does "
        "not say: Build shows conversations).",
        "",
        format_table(("Split", "Records", "Conversations"), [
            (s, m["counts"]["records"]["by_split"].get(s, 0), m["counts"]["conversations"]["by_split"].get(s, 0))
            for s in sorted(set(m["counts"]["records"]["by_split"]) | set(m["counts"]["conversations"]["by_split"]))
        ]),
    ]  # fmt: skip
    if m["skips"]:
        by_source = Counter((s["source"] + (f"/{s['tag']}" if s.get("tag") else ""), s["reason"]) for s in m["skips"])
        parts += [
            "",
            format_table(("Skip reason", "Count"), sorted(m["skips_by_reason"].items())),
            "",
            format_table(("Source", "Skip reason", "Count"), [(s, r, n) for (s, r), n in sorted(by_source.items())]),
        ]
    if m.get("absent"):
        parts += ["", "Absent sources (configured, not built; `earthgpt data check` says why):", format_table(
            ("Source", "Root", "Expected"), [(_entry(a), a["root"], a["expected"]) for a in m["absent"]]
        )]  # fmt: skip
    if m["tiling"]:
        parts += ["", format_table(("Tiling", "Count"), sorted(m["tiling"].items()))]
    return "\n".join(parts)


def list_sources() -> list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    """Every registered source as (name, modality, tasks, splits), sorted by name."""
    return [(name, cls.modality, tuple(cls.tasks), tuple(cls.splits)) for name, cls in all_sources().items()]


def format_sources() -> str:
    """``list_sources`` as a table, for ``earthgpt list sources``."""
    rows = [(n, mo, ", ".join(t), ", ".join(s)) for n, mo, t, s in list_sources()]
    return format_table(("Source", "Modality", "Tasks", "Splits"), rows)
