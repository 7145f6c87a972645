"""Scoring EarthGPT-X tasks: region answers (Osprey's SS, S-IoU, accuracy) and masks (gIoU, cIoU, Pr@t, mIoU).

The parts another model writes beside its text (a predictions line's ``regions`` and ``masks``, see
``evaluation.predfile``) take precedence over what the text says; our model's masks come in
``Generation.masks``. A mask that cannot be read at the target's size (bad RLE, a size that differs, a polygon
with fewer than 3 points) is scored as a miss and counted in ``counts["masks_invalid"]``, never resized.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from earthgpt.evaluation.metrics.masks import MASK_PR_THRESHOLDS, mask_runs, mask_scores
from earthgpt.evaluation.metrics.referring import SentenceEncoder, referring_scores
from earthgpt.evaluation.tasks.spec import Parsed, Sample
from earthgpt.inference.output import Generation

__all__ = ["attach_parts", "score_masks", "score_referring"]

Extras = Mapping[str, Mapping[str, Any]]


def _pct(v: float) -> float:
    return round(100.0 * float(v), 4)


def _regions(sample: Sample, raw: Any) -> Parsed | None:
    """A ``regions`` list of a predictions line as the parsed answer; None when it is not a list of strings."""
    if not isinstance(raw, list) or not all(isinstance(r, str) or r is None for r in raw):
        return None
    answers = [(raw[k] or None) if k < len(raw) else None for k in range(len(sample.labels))]
    return Parsed("ok" if any(a is not None for a in answers) else "empty", answers, notes=("regions field",))


def _masks(sample: Sample, raw: list[Any]) -> Parsed:
    """The first ``len(sample.masks)`` masks, each checked against its target's size (a bad one is None)."""
    out: list[Any] = []
    notes: list[str] = []
    for i, target in enumerate(sample.masks):
        mask = raw[i] if i < len(raw) else None
        if isinstance(mask, list) and mask and not isinstance(mask[0], list):
            mask = [mask]  # one flat polygon
        if mask is not None:
            try:
                mask_runs(mask, (target.height, target.width), f"sample {sample.id} mask {i}")
            except (ValueError, TypeError) as e:
                notes.append(f"invalid mask: {e}")
                mask = None
        out.append(mask)
    status: Literal["ok", "empty", "unparsed"] = (
        "ok" if any(m is not None for m in out) else "unparsed" if raw else "empty"
    )
    return Parsed(status, out, dropped=len(notes), notes=tuple(notes))


def attach_parts(
    kind: str, samples: list[Sample], parsed: dict[str, Parsed], responses: Mapping[str, Generation], extras: Extras
) -> None:
    """Replace the text-parsed answers by the regions / masks given beside the text, where there are any."""
    for s in samples:
        extra = extras.get(s.id, {})
        if kind == "referring" and "regions" in extra:
            found = _regions(s, extra["regions"])
            if found is not None:
                parsed[s.id] = found
        elif kind == "pixel_grounding":
            gen = responses.get(s.id)
            raw = extra.get("masks")
            if raw is None:
                raw = [m.to_dict() for m in gen.masks] if gen is not None and gen.masks else []
            text_status = parsed[s.id].status
            found = _masks(s, list(raw))
            parsed[s.id] = found if raw or text_status != "empty" else Parsed("empty", [None] * len(s.masks))


def score_referring(
    samples: list[Sample], parsed: Mapping[str, Parsed], encoder: SentenceEncoder | None
) -> tuple[dict[str, float | None], dict[str, Any]]:
    """SS, S-IoU and accuracy over every region of every sample (percent)."""
    answers = [a for s in samples for a in (parsed[s.id].value or [None] * len(s.labels))]
    targets = [t for s in samples for t in s.labels]
    sc = referring_scores(answers, targets, encoder)
    metrics: dict[str, float | None] = {
        "SS": _pct(sc.semantic_similarity),
        "S-IoU": _pct(sc.semantic_iou),
        "accuracy": _pct(sc.accuracy),
    }
    details = {
        "regions": sc.num_samples,
        "unanswered_regions": sc.num_unparsed,
        "notes": ["SS and S-IoU follow Osprey's evaluation (metrics/referring.py); means over regions"],
    }
    return metrics, details


def score_masks(samples: list[Sample], parsed: Mapping[str, Parsed]) -> tuple[dict[str, float | None], dict[str, Any]]:
    """gIoU, cIoU, Pr@0.5..0.9 and mIoU over every target mask (percent)."""
    preds = [m for s in samples for m in (parsed[s.id].value or [None] * len(s.masks))]
    targets = [t.to_dict() for s in samples for t in s.masks]
    classes = [s.group for s in samples for _ in s.masks]
    sc = mask_scores(preds, targets, classes=classes)
    metrics: dict[str, float | None] = {"gIoU": _pct(sc.giou), "cIoU": _pct(sc.ciou)}
    metrics.update({f"Pr@{t:g}": _pct(sc.precision_at[t]) for t in MASK_PR_THRESHOLDS})
    metrics["mIoU"] = _pct(sc.miou)
    keys = [s.id if len(s.masks) == 1 else f"{s.id}:{i}" for s in samples for i in range(len(s.masks))]
    details = {
        "masks": sc.num_samples,
        "masks_missing": sc.num_unparsed,
        "ious": {k: round(float(v), 6) for k, v in zip(keys, sc.ious, strict=True)},
    }
    return metrics, details
