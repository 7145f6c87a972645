"""Scoring one task: parse every answer, count what was missing or unreadable, and call the paper's metrics.

A sample without an answer, with an empty answer or with an unreadable one stays in every denominator: it is
scored as a miss (no class, a wrong answer, an empty caption, no box, no detections) and counted in the result.
Headline metrics are percentages, as the paper prints them (CIDEr x 100 too).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from earthgpt.data.records import ANY_CLASS
from earthgpt.evaluation.box_confidence import RANK_FALLBACK, BoxScorer, assign_scores
from earthgpt.evaluation.metrics import (
    caption_scores,
    classification_scores,
    detection_ap,
    grounding_scores,
    vqa_scores,
)
from earthgpt.evaluation.metrics.coco_java import MeteorScorer
from earthgpt.evaluation.metrics.referring import SentenceEncoder
from earthgpt.evaluation.metrics.vqa import VQA_MATCH_NOTES, VQAMatch
from earthgpt.evaluation.region_scores import attach_parts, score_masks, score_referring
from earthgpt.evaluation.tasks.load import TaskData
from earthgpt.evaluation.tasks.parsers import parser_of
from earthgpt.evaluation.tasks.spec import BoxFormat, OutputParser, Parsed, Sample, TaskSpec
from earthgpt.geometry import LabeledBox
from earthgpt.inference.output import Generation

__all__ = ["PARSER_ERROR", "TaskResult", "score_task"]

log = logging.getLogger(__name__)


@dataclass
class TaskResult:
    """The scores of one task with everything needed to trust them: counts, score sources, the scorer used."""

    spec: TaskSpec
    metrics: dict[str, float | None]
    """Headline metrics (percent), keyed as in ``spec.metrics`` (plus extras such as AA for VQA)."""
    counts: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    box_scores: dict[str, int] = field(default_factory=dict)
    """Detection: how many boxes got their confidence from each source (given, logprob, clip, rank)."""
    scorer: str = ""
    box_format: str = "earthgpt"
    samples: list[Sample] = field(default_factory=list, repr=False)
    texts: dict[str, str] = field(default_factory=dict, repr=False)
    parsed: dict[str, Parsed] = field(default_factory=dict, repr=False)
    image_root: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.describe(),
            "metrics": self.metrics,
            "counts": self.counts,
            "box_format": self.box_format,
            "box_scores": self.box_scores,
            "scorer": self.scorer,
            "details": self.details,
        }


def _pct(v: float | None) -> float | None:
    return None if v is None else round(100.0 * float(v), 4)


def _scene(samples: list[Sample], parsed: Mapping[str, Parsed]) -> tuple[dict, dict]:
    labels = list(samples[0].categories) or sorted({s.group for s in samples})
    answers = [str(parsed[s.id].value or "") for s in samples]
    sc = classification_scores(answers, [s.group for s in samples], labels)
    metrics = {"top1": _pct(sc.accuracy), "mean_class_accuracy": _pct(sc.mean_class_accuracy)}
    details = {
        "per_class": {k: _pct(v) for k, v in sc.per_class_accuracy.items()},
        "confusion": {"labels": list(sc.labels), "matrix": sc.confusion.tolist()},
        "unmatched": sc.num_unmatched,
        "notes": [
            "answers match a class when the whole answer names it after lower-casing, punctuation as spaces and a"
            " plural s dropped (labels.match_category); other text is a miss"
        ],
    }
    return metrics, details


def _vqa(samples: list[Sample], parsed: Mapping[str, Parsed], match: VQAMatch) -> tuple[dict, dict]:
    answers = [str(parsed[s.id].value or "") for s in samples]
    sc = vqa_scores(answers, [s.answer for s in samples], [s.group for s in samples], match=match)
    # per question type where the dataset has types (CRSVQA has none: then OA alone)
    metrics: dict[str, float | None] = {t: _pct(v) for t, v in sc.per_type_accuracy.items() if t}
    metrics["OA"] = _pct(sc.overall_accuracy)
    if metrics.keys() - {"OA"}:
        metrics["AA"] = _pct(sc.average_accuracy)
    return metrics, {"per_type_count": sc.per_type_count, "answer_match": match, "notes": [VQA_MATCH_NOTES[match]]}


def _caption(samples: list[Sample], parsed: Mapping[str, Parsed], meteor: MeteorScorer | bool) -> tuple[dict, dict]:
    preds = {s.id: str(parsed[s.id].value or "") for s in samples}
    refs = {s.id: list(s.references) for s in samples}
    sc = caption_scores(preds, refs, meteor=meteor)
    metrics = {f"BLEU-{n + 1}": _pct(v) for n, v in enumerate(sc.bleu)}
    metrics.update({"METEOR": _pct(sc.meteor), "ROUGE-L": _pct(sc.rouge_l), "CIDEr": _pct(sc.cider_d)})
    metrics["SPICE"] = _pct(sc.spice)
    return metrics, {"notes": list(sc.notes)}


def _grounding(samples: list[Sample], parsed: Mapping[str, Parsed]) -> tuple[dict, dict]:
    preds = [parsed[s.id].value for s in samples]
    targets = [s.box for s in samples]
    sc = grounding_scores(preds, targets)  # type: ignore[arg-type]
    metrics: dict[str, float | None] = {f"Pr@{t:g}": _pct(v) for t, v in sc.precision_at.items()}
    metrics.update(mIoU=_pct(sc.miou), cIoU=_pct(sc.ciou))
    return metrics, {"ious": {s.id: round(float(v), 6) for s, v in zip(samples, sc.ious, strict=True)}}


def _detection(
    spec: TaskSpec,
    data: TaskData,
    parsed: Mapping[str, Parsed],
    responses: Mapping[str, Generation],
    scorer: BoxScorer | None,
    sources: Counter[str],
) -> tuple[dict, dict]:
    preds: list[list[LabeledBox]] = []
    for s in data.samples:
        p = parsed[s.id]
        boxes = assign_scores(s, responses.get(s.id, Generation("")), p.value or (), scorer, data.root, sources)
        preds.append([LabeledBox(b.label, b.box, b.score) for b in boxes])
    unparsed = sum(parsed[s.id].status != "ok" for s in data.samples)
    classes = list(data.samples[0].categories) or sorted({o.label for s in data.samples for o in s.objects})
    hard = [[o for o in s.ignored if o.label != ANY_CLASS] for s in data.samples]
    gts = [[*s.objects, *h] for s, h in zip(data.samples, hard, strict=True)]
    difficult = [[False] * len(s.objects) + [True] * len(h) for s, h in zip(data.samples, hard, strict=True)]
    regions = [[o.box for o in s.ignored if o.label == ANY_CLASS] for s in data.samples]
    res = detection_ap(
        preds,
        gts,
        iou_thresholds=spec.iou_thresholds,
        difficult=difficult,
        ignore_regions=regions,
        classes=classes,
        num_unparsed=unparsed,
    )
    metrics: dict[str, float | None] = {f"AP@{round(t * 100)}": _pct(r.map) for t, r in res.items()}
    per_class = {f"AP@{round(t * 100)}": {k: _pct(c.ap) for k, c in r.per_class.items()} for t, r in res.items()}
    top = res[max(res)]
    curves = {
        k: {"recall": c.recall.round(4).tolist(), "precision": c.precision.round(4).tolist()}
        for k, c in top.per_class.items()
        if c.num_gts
    }
    details = {
        "per_class": per_class,
        "num_gts": {k: c.num_gts for k, c in top.per_class.items()},
        "num_predictions": {k: c.num_predictions for k, c in top.per_class.items()},
        "unknown_label_boxes": top.num_unknown_label,
        "unknown_labels": dict(Counter(b.label for p in preds for b in p if b.label not in classes).most_common(10)),
        "images_without_objects": sum(not s.objects for s in data.samples),
        "difficult_objects": sum(map(len, hard)),
        "ignore_regions": sum(map(len, regions)),
        "pr_curves_iou": max(res),
        "pr_curves": curves,
    }
    return metrics, details


_SIMPLE = {"scene": _scene, "grounding": _grounding}
PARSER_ERROR = "parser error"
"""The note of an answer whose parser raised: it is scored as a miss and counted in ``counts["parser_errors"]``."""


def _parse_one(parse: OutputParser, text: str, sample: Sample, box_format: BoxFormat, spec: TaskSpec) -> Parsed:
    """One answer parsed; a parser that raises (a bug, or a custom parser meeting hostile text) makes that one
    answer an unparsed miss instead of aborting the whole score."""
    try:
        return parse(text, sample, box_format)
    except Exception as exc:  # one bad prediction line must not lose the others
        log.warning("task %s, sample %s: the parser raised %r; scored as a miss", spec.name, sample.id, exc)
        empty: Any = () if spec.kind == "detection" else None if spec.kind == "grounding" else ""
        if spec.kind in ("referring", "pixel_grounding"):
            empty = [None] * len(sample.labels if spec.kind == "referring" else sample.masks)
        return Parsed("unparsed", empty, notes=(f"{PARSER_ERROR}: {exc!r}",))


def _counts(
    data: TaskData,
    responses: Mapping[str, Generation],
    parsed: Mapping[str, Parsed],
    file_counts: Mapping[str, int] | None,
) -> dict[str, Any]:
    """What was missing or unreadable, the predictions file's own problems, and what the source skipped."""
    status = Counter(p.status for p in parsed.values())
    missing = sum(s.id not in responses for s in data.samples)
    counts: dict[str, Any] = {
        "samples": len(data.samples),
        "missing": missing,
        "empty": status["empty"] - missing,
        "unparsed": status["unparsed"],
        "parser_errors": sum(any(n.startswith(PARSER_ERROR) for n in p.notes) for p in parsed.values()),
        "boxes_dropped": sum(p.dropped for p in parsed.values()),
        "boxes_converted": sum(p.converted for p in parsed.values()),
        **dict(file_counts or {}),
        "skipped_items": dict(data.skips),
        "excluded_questions": dict(data.excluded),
    }
    if data.spec.kind == "detection":
        counts["boxes"] = sum(len(p.value or ()) for p in parsed.values())
    if data.spec.kind == "pixel_grounding":
        counts["masks_invalid"] = sum(p.dropped for p in parsed.values())
        counts["boxes_dropped"] = 0
    return counts


def score_task(
    data: TaskData,
    responses: Mapping[str, Generation],
    scorer: BoxScorer | None = None,
    box_format: BoxFormat = "earthgpt",
    meteor: MeteorScorer | bool = True,
    file_counts: Mapping[str, int] | None = None,
    vqa_match: VQAMatch | None = None,
    extras: Mapping[str, Mapping[str, Any]] | None = None,
    encoder: SentenceEncoder | None = None,
) -> TaskResult:
    """Parse and score every sample of ``data`` against ``responses`` (by sample id; absent ids are misses).

    ``vqa_match`` overrides the task's answer matching (``TaskSpec.vqa_match``, strict by default).
    ``extras`` are the ``regions`` / ``masks`` a predictions file gives beside the text (``PredictionFile.extras``);
    ``encoder`` embeds referring answers for SS (default: the shipped all-MiniLM-L6-v2, loaded when needed).

    ``file_counts`` are the predictions file's own problems (duplicates, malformed lines, unknown ids), added to
    the result's counts. ``meteor`` is passed to ``caption_scores`` (False skips METEOR).
    """
    spec = data.spec
    parse = parser_of(spec)
    texts = {s.id: responses[s.id].text for s in data.samples if s.id in responses}
    parsed = {s.id: _parse_one(parse, texts.get(s.id, ""), s, box_format, spec) for s in data.samples}
    if spec.kind in ("referring", "pixel_grounding"):
        attach_parts(spec.kind, data.samples, parsed, responses, extras or {})
    counts = _counts(data, responses, parsed, file_counts)
    sources: Counter[str] = Counter()
    if spec.kind == "detection":
        metrics, details = _detection(spec, data, parsed, responses, scorer, sources)
    elif spec.kind in ("caption", "region_caption"):
        metrics, details = _caption(data.samples, parsed, meteor)
    elif spec.kind == "referring":
        metrics, details = score_referring(data.samples, parsed, encoder)
    elif spec.kind == "pixel_grounding":
        metrics, details = score_masks(data.samples, parsed)
    elif spec.kind == "vqa":
        metrics, details = _vqa(data.samples, parsed, vqa_match or spec.vqa_match)
    else:
        metrics, details = _SIMPLE[spec.kind](data.samples, parsed)
    return TaskResult(
        spec=spec,
        metrics=metrics,
        counts=counts,
        details=details,
        box_scores=dict(sources),
        scorer=_scorer_note(spec, scorer, sources),
        box_format=box_format,
        samples=data.samples,
        texts=texts,
        parsed=parsed,
        image_root=data.root,
    )


def _scorer_note(spec: TaskSpec, scorer: BoxScorer | None, sources: Counter[str]) -> str:
    """Which confidence source ranked the boxes, in words (detection only)."""
    if spec.kind != "detection":
        return ""
    name = scorer.description if scorer is not None else "none"
    note = f"box confidence: {name}"
    if sources.get(RANK_FALLBACK):
        note += f"; {sources[RANK_FALLBACK]} box(es) without a score ranked by answer order (1 / (1 + i))"
    if len([k for k, v in sources.items() if v]) > 1:
        note += "; WARNING: scores from different sources are not comparable, AP mixes rankings"
    return note
