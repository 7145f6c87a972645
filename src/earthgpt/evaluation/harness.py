"""The evaluation harness: ask a predictor every sample of every task (resuming from its predictions file), score
the answers with the paper's metrics, and write metrics JSON and a Markdown report with plots."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from earthgpt.evaluation.answerers import Answerer, Request
from earthgpt.evaluation.box_confidence import BoxScorer, LogprobScorer
from earthgpt.evaluation.metrics.coco_java import MeteorScorer
from earthgpt.evaluation.metrics.referring import SentenceEncoder
from earthgpt.evaluation.predfile import append_predictions, read_predictions
from earthgpt.evaluation.report import write_report
from earthgpt.evaluation.task_scores import TaskResult, score_task
from earthgpt.evaluation.tasks import TaskData, TaskDataError, TaskSpec, load_task, resolve
from earthgpt.inference.output import Generation

__all__ = ["PREDICTIONS_FILE", "evaluate", "predict_task"]

log = logging.getLogger(__name__)

PREDICTIONS_FILE = "predictions.jsonl"
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.md"


def predict_task(
    predictor: Answerer, data: TaskData, path: str | Path, batch_size: int = 8
) -> tuple[dict[str, Generation], int]:
    """Responses for every sample of a task, asking the predictor only for samples not yet in ``path``.

    ``path`` is the task's predictions JSONL: a cache that each finished batch is appended to, so a stopped run
    resumes where it stopped. A cached answer made for a different prompt is asked again. Returns the responses
    by sample id and the number of samples predicted in this call.
    """
    cache = read_predictions(path, keep="last")
    todo = [s for s in data.samples if s.id not in cache.responses or cache.prompts.get(s.id, s.prompt) != s.prompt]
    if cache.responses:
        log.info("%s: %d cached predictions, %d to predict", data.spec.name, len(data.samples) - len(todo), len(todo))
    for start in range(0, len(todo), max(1, batch_size)):
        batch = todo[start : start + max(1, batch_size)]
        requests = [Request(s.id, s.image, data.root, s.prompt, s.prompts) for s in batch]
        responses = predictor.predict(requests)
        if len(responses) != len(requests):
            raise RuntimeError(
                f"{type(predictor).__name__}.predict returned {len(responses)} responses for {len(requests)} "
                "requests: it must return exactly one response per request, in order"
            )
        append_predictions(path, [(s.id, s.prompt, r) for s, r in zip(batch, responses, strict=True)])
        for s, r in zip(batch, responses, strict=True):
            cache.responses[s.id] = r
    return {s.id: cache.responses[s.id] for s in data.samples}, len(todo)


def _specs(tasks: str | Sequence[str | TaskSpec]) -> list[TaskSpec]:
    if isinstance(tasks, str):
        return resolve(tasks)
    out: list[TaskSpec] = []
    for t in tasks:
        out.extend([t] if isinstance(t, TaskSpec) else resolve(t))
    return out


def _load_all(
    specs: Sequence[TaskSpec], data_root: str | Path, limit: int | None, skip_missing: bool
) -> tuple[list[TaskData], dict[str, str]]:
    """Every task's samples before any prediction (so a missing dataset fails fast, not after hours)."""
    loaded: list[TaskData] = []
    missing: dict[str, str] = {}
    for spec in specs:
        try:
            loaded.append(load_task(spec, data_root, limit))
        except TaskDataError as e:
            if not skip_missing:
                raise
            log.warning("%s", e)
            missing[spec.name] = str(e)
    return loaded, missing


def evaluate(
    predictor: Answerer,
    tasks: str | Sequence[str | TaskSpec],
    data_root: str | Path,
    out_dir: str | Path,
    limit: int | None = None,
    scorer: BoxScorer | None = None,
    batch_size: int = 8,
    skip_missing: bool = False,
    plots: bool = True,
    model_name: str = "model",
    meteor: bool | MeteorScorer = True,
    encoder: SentenceEncoder | None = None,
) -> dict[str, Any]:
    """Run tasks end to end and write ``out_dir/<task>/predictions.jsonl``, ``out_dir/metrics.json`` and
    ``out_dir/report.md`` (with its figures in ``out_dir/figures/``).

    ``tasks`` are task names, groups ("paper", "samples"), comma-separated lists or specs. ``limit`` caps the
    samples per task (spread evenly over the dataset). Box confidences for AP come from ``scorer`` (default: the
    model's token log-probabilities). A task whose data is absent raises :class:`TaskDataError`, unless
    ``skip_missing`` (then the report lists it). ``meteor``: True starts one METEOR process for the run's caption
    tasks (tens of seconds; it needs Java), False skips METEOR, or pass a running ``MeteorScorer`` to reuse.
    Predictions are cached per task in ``out_dir``: use one ``out_dir`` per model. Returns metrics.json's content.
    ``encoder`` embeds referring answers for SS (default: the shipped all-MiniLM-L6-v2, loaded when needed).
    """

    out = Path(out_dir)
    scorer = scorer if scorer is not None else LogprobScorer()
    loaded, missing = _load_all(_specs(tasks), data_root, limit, skip_missing)
    results: list[TaskResult] = []
    own_meteor = meteor is True and any(d.spec.kind in ("caption", "region_caption") for d in loaded)
    meteor_arg: bool | MeteorScorer = MeteorScorer() if own_meteor else meteor
    try:
        for data in loaded:
            responses, asked = predict_task(predictor, data, out / data.spec.name / PREDICTIONS_FILE, batch_size)
            log.info("%s: %d samples, %d predicted now", data.spec.name, len(data.samples), asked)
            results.append(score_task(data, responses, scorer=scorer, meteor=meteor_arg, encoder=encoder))
    finally:
        if isinstance(meteor_arg, MeteorScorer) and own_meteor:
            meteor_arg.close()
    summary = metrics_json(results, missing, model_name, limit)
    out.mkdir(parents=True, exist_ok=True)
    (out / METRICS_FILE).write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_report(results, out / REPORT_FILE, missing=missing, model_name=model_name, plots=plots)
    return summary


def metrics_json(
    results: Sequence[TaskResult], missing: dict[str, str], model_name: str, limit: int | None
) -> dict[str, Any]:
    """The metrics file's content: per task its spec, counts, score sources and metrics."""
    return {
        "model": model_name,
        "limit": limit,
        "tasks": {r.spec.name: r.to_dict() for r in results},
        "missing_data": missing,
    }
