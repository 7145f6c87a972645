"""The evaluation side of the ``earthgpt`` command: ``eval``, ``eval score`` and ``list tasks`` as plain functions."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from earthgpt.evaluation.answerers import ModelAnswerer
from earthgpt.evaluation.box_confidence import BoxScorer, ClipScorer, LogprobScorer
from earthgpt.evaluation.harness import REPORT_FILE, evaluate
from earthgpt.evaluation.score_predictions import score_file
from earthgpt.evaluation.tasks import TASKS

__all__ = ["list_tasks", "parse_scorer", "run_eval", "run_score"]

log = logging.getLogger(__name__)


def parse_scorer(text: str | None) -> BoxScorer:
    """``logprob`` (default) or ``clip:LOCAL_DIR`` (a CLIPModel checkpoint directory) -> the box scorer."""
    if not text or text == "logprob":
        return LogprobScorer()
    if text.startswith("clip:") and len(text) > len("clip:"):
        return ClipScorer(text[len("clip:") :])
    raise ValueError(f"--scorer {text!r}: expected 'logprob' or 'clip:LOCAL_DIR' (a saved CLIPModel directory)")


def list_tasks() -> str:
    """Every task, one line each: name, kind, paper table, source/split and the data folder it reads."""
    rows = [f"{'task':<18} {'kind':<10} {'table':<9} {'source (split)':<32} data folder"]
    for t in TASKS.values():
        rows.append(f"{t.name:<18} {t.kind:<10} {t.table or '-':<9} {f'{t.source} ({t.split})':<32} {t.data_dir}")
    return "\n".join(rows)


def _need(args: argparse.Namespace, *names: str) -> None:
    missing = [f"--{n.replace('_', '-')}" for n in names if not getattr(args, n, None)]
    if missing:
        raise ValueError(f"earthgpt eval needs {' and '.join(missing)} (see `earthgpt eval --help`)")


def run_eval(args: argparse.Namespace) -> int:
    """``earthgpt eval --model DIR --tasks T1,T2 --data ROOT --out DIR [--limit N] [--scorer clip:DIR]``."""
    if getattr(args, "eval_command", None) == "score":
        return run_score(args)
    _need(args, "model", "tasks", "data")
    from earthgpt.inference.predictor import Predictor

    model = Predictor.load(args.model)
    summary = evaluate(
        ModelAnswerer(model),
        args.tasks,
        args.data,
        args.out,
        limit=getattr(args, "limit", None),
        scorer=parse_scorer(getattr(args, "scorer", None)),
        batch_size=getattr(args, "batch_size", 8) or 8,
        model_name=Path(args.model).name,
    )
    for name, task in summary["tasks"].items():
        log.info("%s: %s", name, ", ".join(f"{k} {v:.2f}" for k, v in task["metrics"].items() if v is not None))
    log.info("report: %s", Path(args.out) / REPORT_FILE)
    return 0


def run_score(args: argparse.Namespace) -> int:
    """``earthgpt eval score --task T --predictions FILE --box-format F --data ROOT --out DIR``."""
    _need(args, "task", "predictions", "data")
    result = score_file(
        args.task,
        args.predictions,
        box_format=getattr(args, "box_format", "earthgpt"),
        data_root=args.data,
        out_dir=getattr(args, "out", None),
        text_key=getattr(args, "text_key", None) or "text",
        scorer=parse_scorer(getattr(args, "scorer", None)),
        limit=getattr(args, "limit", None),
    )
    log.info("%s: %s", args.task, ", ".join(f"{k} {v:.2f}" for k, v in result["metrics"].items() if v is not None))
    counts = result["counts"]
    log.info(
        "samples %d, missing %d, empty %d, unparsed %d, duplicates %d, unknown ids %d",
        counts["samples"],
        counts["missing"],
        counts["empty"],
        counts["unparsed"],
        counts.get("duplicates", 0),
        counts.get("unknown_ids", 0),
    )
    return 0
