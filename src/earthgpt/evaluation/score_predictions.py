"""Score anyone's outputs: a predictions JSONL (``{"id", "text"}`` per line) from our model or a peer's (GeoChat,
Falcon, ...) against a task, with the same parsers and metrics as the harness."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from earthgpt.evaluation.box_confidence import BoxScorer, LogprobScorer
from earthgpt.evaluation.metrics.coco_java import MeteorScorer
from earthgpt.evaluation.metrics.referring import SentenceEncoder
from earthgpt.evaluation.metrics.vqa import VQAMatch
from earthgpt.evaluation.predfile import read_predictions
from earthgpt.evaluation.report import write_report
from earthgpt.evaluation.task_scores import TaskResult, score_task
from earthgpt.evaluation.tasks import BoxFormat, TaskSpec, get_task, load_task
from earthgpt.evaluation.tasks.boxtext import BOX_FORMATS

__all__ = ["score_file", "score_predictions_file"]

log = logging.getLogger(__name__)


def score_predictions_file(
    task: str | TaskSpec,
    predictions_path: str | Path,
    data_root: str | Path,
    box_format: BoxFormat = "earthgpt",
    text_key: str = "text",
    scorer: BoxScorer | None = None,
    limit: int | None = None,
    meteor: bool | MeteorScorer = True,
    vqa_match: VQAMatch | None = None,
    encoder: SentenceEncoder | None = None,
) -> TaskResult:
    """The :class:`TaskResult` of a predictions file (see :func:`score_file`)."""
    if box_format not in BOX_FORMATS:
        raise ValueError(f"box_format {box_format!r} is not one of {BOX_FORMATS}")
    path = Path(predictions_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"predictions file {path} does not exist: pass a JSONL with one {{'id', 'text'}} a line"
        )
    spec = get_task(task) if isinstance(task, str) else task
    data = load_task(spec, data_root, limit)
    pf = read_predictions(path, text_key=text_key, keep="first")
    known = {s.id for s in data.samples}
    file_counts = {
        "duplicates": pf.duplicates,
        "malformed_lines": pf.malformed,
        "unknown_ids": sum(rid not in known for rid in pf.responses),
        "non_string_text": pf.non_string,
    }
    if file_counts["unknown_ids"] == len(pf.responses) and pf.responses:
        log.warning(
            "%s: none of its %d ids is a sample id of task %s (e.g. %r): check the id column",
            path,
            len(pf.responses),
            spec.name,
            next(iter(pf.responses)),
        )
    return score_task(
        data,
        pf.responses,
        scorer=scorer if scorer is not None else LogprobScorer(),
        box_format=box_format,
        meteor=meteor,
        file_counts=file_counts,
        vqa_match=vqa_match,
        extras=pf.extras,
        encoder=encoder,
    )


def score_file(
    task: str | TaskSpec,
    predictions_path: str | Path,
    box_format: BoxFormat = "earthgpt",
    data_root: str | Path = ".",
    out_dir: str | Path | None = None,
    text_key: str = "text",
    scorer: BoxScorer | None = None,
    limit: int | None = None,
    meteor: bool | MeteorScorer = True,
    model_name: str | None = None,
    vqa_match: VQAMatch | None = None,
    encoder: SentenceEncoder | None = None,
) -> dict[str, Any]:
    """Score a predictions JSONL against ``task`` and return the metrics dict (as in metrics.json).

    ``box_format`` says how boxes are written in the answers: "earthgpt" (ours), "geochat", "falcon", "coco"
    (pixel [x, y, w, h]) or "dota" (pixel 8-point lines); see ``earthgpt.evaluation.tasks.boxtext``.
    ``text_key`` names the answer field. Missing, duplicate and malformed lines, ids outside the task, empty and
    unreadable answers are counted, never fatal; every sample stays in the denominators. With ``out_dir`` the
    metrics JSON and a Markdown report are written there. Box confidences: a score written in the output, else
    ``scorer`` (default: token log-probabilities if the file has ``token_logprobs``/``token_spans``), else the
    rank fallback; the report says which. VQA answers are matched by the task's rule (strict, RSVQA's exact
    match after lower-casing) unless ``vqa_match`` says otherwise; the report says which.

    EarthGPT-X tasks read, beside ``text``, a line's ``regions`` (one answer string per ``<regionK>``; else the
    text's "Region K: ..." parts) and ``masks`` (one per ``<seg>``: a COCO RLE ``{"size": [h, w], "counts"}``,
    compressed or not, or pixel polygons ``[[x1, y1, x2, y2, ...], ...]``); a mask that does not fit its image is
    a counted miss (``masks_invalid``).
    """
    result = score_predictions_file(
        task, predictions_path, data_root, box_format, text_key, scorer, limit, meteor, vqa_match, encoder
    )
    summary = result.to_dict()
    summary["predictions"] = str(predictions_path)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        write_report([result], out / "report.md", model_name=model_name or Path(predictions_path).stem)
    return summary
