"""The Markdown report: the paper's tables (paper row vs this run), sample-data tasks, counts, scorers, figures."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from earthgpt.evaluation.plots import plot_confusion, plot_examples, plot_pr_curves
from earthgpt.evaluation.task_scores import TaskResult

__all__ = ["render_report", "write_report"]

log = logging.getLogger(__name__)

FIGURES = "figures"
_COUNT_COLUMNS = (
    ("samples", "samples"),
    ("missing", "missing"),
    ("duplicates", "duplicate"),
    ("malformed_lines", "malformed lines"),
    ("unknown_ids", "unknown ids"),
    ("empty", "empty"),
    ("unparsed", "unparsed"),
    ("parser_errors", "parser errors"),
    ("boxes_dropped", "boxes dropped"),
    ("boxes_converted", "boxes converted"),
)


def _num(v: object) -> str:
    return f"{v:.2f}" if isinstance(v, (int, float)) and not isinstance(v, bool) else "n/a"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _paper_table(table: str, results: Sequence[TaskResult], model: str) -> list[str]:
    """One paper table: EarthGPT's published row, then this run's, in the paper's column order."""
    single = all(len(r.spec.metrics) == 1 for r in results) and len(results) > 1
    if single:
        cols = [(r, r.spec.metrics[0], r.spec.name) for r in results]
    elif len(results) == 1:
        cols = [(results[0], m, m) for m in results[0].spec.metrics]
    else:
        cols = [(r, m, f"{r.spec.name} {m}") for r in results for m in r.spec.metrics]
    paper = ["EarthGPT (paper)"] + [_num(r.spec.paper.get(m)) for r, m, _ in cols]
    other = [r for r in results if r.spec.kind == "detection" and not _paper_confidence(r)]
    ours = [f"{model} (this run){' *' if other else ''}"] + [_num(r.metrics.get(m)) for r, m, _ in cols]
    titles = "; ".join(r.spec.title for r in results)
    lines = [f"### {table}: {titles}", ""]
    lines += _table(["Method"] + [c for _, _, c in cols], [paper, ours])
    extra = [f"{r.spec.name} {r.counts['samples']}" for r in results]
    lines += ["", "Samples scored: " + ", ".join(extra) + ".", ""]
    for r in other:
        lines += [
            f"\\* {r.spec.name}: boxes ranked by {_sources(r.box_scores)}, not by the paper's RemoteCLIP score "
            "(pass `--scorer clip:DIR` with RemoteCLIP converted as docs/evaluation.md shows); AP depends on it.",
            "",
        ]
    return lines


def _paper_confidence(r: TaskResult) -> bool:
    """True when every box was ranked by a CLIP score, as the paper ranks them (with RemoteCLIP weights)."""
    return bool(r.box_scores) and set(r.box_scores) == {"clip"}


def _sample_tables(results: Sequence[TaskResult]) -> list[str]:
    """Tasks without a paper table, grouped by kind, one row each."""
    lines: list[str] = []
    for kind in ("scene", "caption", "vqa", "grounding", "detection", "referring", "region_caption", "pixel_grounding"):
        group = [r for r in results if r.spec.kind == kind]
        if not group:
            continue
        keys: list[str] = []
        for r in group:
            keys += [k for k in (r.spec.metrics or tuple(r.metrics)) if k not in keys]
        rows = [[r.spec.name, str(r.counts["samples"])] + [_num(r.metrics.get(k)) for k in keys] for r in group]
        lines += [f"### {kind}", ""] + _table(["task", "samples", *keys], rows) + [""]
    return lines


def _counts(results: Sequence[TaskResult]) -> list[str]:
    rows = []
    for r in results:
        row = [r.spec.name] + [str(r.counts.get(k, 0)) for k, _ in _COUNT_COLUMNS]
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(r.counts.get("skipped_items", {}).items())) or "none"
        excluded = ", ".join(f"{k} {v}" for k, v in sorted(r.counts.get("excluded_questions", {}).items())) or "none"
        rows.append([*row, skipped, excluded])
    header = ["task"] + [h for _, h in _COUNT_COLUMNS] + ["skipped by the source", "questions excluded"]
    notes = [
        "Every sample counts in the denominators: a missing, empty or unparsed answer is scored as a miss.",
        "Duplicates keep the first line of an id; malformed lines and ids outside the task are ignored.",
        "",
    ]
    return _table(header, rows) + [""] + notes


def _scorers(results: Sequence[TaskResult]) -> list[str]:
    det = [r for r in results if r.spec.kind == "detection"]
    if not det:
        return []
    rows = [[r.spec.name, r.box_format, r.scorer or "n/a", _sources(r.box_scores)] for r in det]
    lines = ["## Box confidence (AP ranking)", ""]
    lines += _table(["task", "output format", "scorer", "boxes by score source"], rows)
    lines += [
        "",
        "Sources: `given` = a score written in the output; `logprob` = the model's mean token log-probability of",
        "the box's text; `clip` = CLIP score of the box crop; `rank` = fallback 1 / (1 + i) for the i-th box of an",
        "answer when no score was available. The paper ranked boxes with a RemoteCLIP score.",
        "",
    ]
    return lines


def _sources(d: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items())) or "no boxes"


def _warnings(r: TaskResult) -> list[str]:
    """Lines that say how a detection score was reached and what in the answers did not count."""
    d = r.details
    if r.spec.kind != "detection":
        return []
    out = [
        f"AP protocol: {r.counts['samples']} images, {d.get('images_without_objects', 0)} of them without ground "
        f"truth (their boxes are false positives); {d.get('difficult_objects', 0)} difficult objects and "
        f"{d.get('ignore_regions', 0)} ignore regions (DontCare, crowd) ignored, neither true nor false positives"
    ]
    if d.get("unknown_label_boxes"):
        named = ", ".join(f"{k!r} {v}" for k, v in d.get("unknown_labels", {}).items())
        out.append(
            f"WARNING: {d['unknown_label_boxes']} predicted box(es) name no class of the task (most frequent: "
            f"{named}); they count in no class. Labels are matched after lower-casing, '_'/'-' as spaces and "
            "plural 's', against the class names and the dataset's own spellings"
        )
    return out


def make_figures(r: TaskResult, folder: Path) -> list[Path]:
    """The figures of one task: confusion matrix (scene), PR curves (detection), predictions on images."""
    out: list[Path] = []
    name = r.spec.name
    conf = r.details.get("confusion")
    if conf:
        out.append(plot_confusion(conf["labels"], conf["matrix"], folder / f"{name}_confusion.png", r.spec.title))
    curves = r.details.get("pr_curves")
    if curves is not None:
        thr = r.details.get("pr_curves_iou", 0.5)
        out.append(plot_pr_curves(curves, folder / f"{name}_pr.png", f"{r.spec.title} (IoU {thr:g})"))
    if r.samples and r.image_root is not None:
        step = max(1, len(r.samples) // 4)
        picks = r.samples[::step][:4]
        fig = plot_examples(picks, r.texts, r.parsed, r.image_root, folder / f"{name}_examples.png", r.spec.title)
        if fig is not None:
            out.append(fig)
    return out


def render_report(
    results: Sequence[TaskResult],
    figures: Mapping[str, Sequence[Path]] | None = None,
    missing: Mapping[str, str] | None = None,
    model_name: str = "model",
    base: Path | None = None,
) -> str:
    """The report's Markdown text (figures linked relative to ``base``)."""
    lines = [f"# Evaluation report: {model_name}", ""]
    paper = [r for r in results if r.spec.table]
    if paper:
        lines += ["## The paper's benchmarks", ""]
        for table in dict.fromkeys(r.spec.table for r in paper):
            lines += _paper_table(table, [r for r in paper if r.spec.table == table], model_name)
    others = [r for r in results if not r.spec.table]
    if others:
        lines += ["## Tasks over sample data (no paper numbers)", ""] + _sample_tables(others)
    if results:
        lines += ["## Answers and data", ""] + _counts(results) + _scorers(results)
    notes = [f"- {r.spec.name}: {n}" for r in results for n in [*r.details.get("notes", []), *_warnings(r)]]
    if notes:
        lines += ["## Notes", "", *notes, ""]
    if figures:
        lines += ["## Figures", ""]
        for name, paths in figures.items():
            for p in paths:
                rel = p.relative_to(base) if base is not None and p.is_relative_to(base) else p
                lines += [f"![{name}: {p.stem}]({rel.as_posix()})", ""]
    if missing:
        lines += ["## Tasks not run (data absent)", ""] + [f"- {k}: {v}" for k, v in missing.items()] + [""]
    return "\n".join(lines).rstrip() + "\n"


def write_report(
    results: Sequence[TaskResult],
    path: str | Path,
    missing: Mapping[str, str] | None = None,
    model_name: str = "model",
    plots: bool = True,
) -> Path:
    """Write the report (and, with ``plots``, its figures in ``figures/`` beside it); returns its path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    figures = {r.spec.name: make_figures(r, p.parent / FIGURES) for r in results} if plots else {}
    p.write_text(render_report(results, figures, missing, model_name, base=p.parent), encoding="utf-8")
    return p
