"""Visual grounding: Pr@0.5..0.9, mIoU and cIoU of one predicted box per referring expression.

Boxes are in de-normalised PIXEL coordinates and IoU is continuous (area = width * height, no +1):
``earthgpt.geometry.box_iou``. A pixel "+1" applied to normalised [0, 1] coordinates makes every box
about one unit larger than the image and inflates IoU towards 1; one popular RS model reported ~80%
this way where the real figure was under 12%. The tests reproduce that inflation.

- Pr@t: fraction of expressions whose IoU >= t.
- mIoU: mean IoU over expressions.
- cIoU: cumulative intersection / cumulative union over all expressions.

A prediction that failed to parse (``None``) counts with IoU 0, intersection 0 and union equal to
the ground-truth area: it stays in every denominator and is reported in ``num_unparsed``.
Intersection and union come from ``box_iou`` and the two areas (I = IoU (A + B) / (1 + IoU)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from earthgpt.geometry import HBB, Box, box_iou, box_polygon

__all__ = ["PR_THRESHOLDS", "GroundingScores", "grounding_scores"]

PR_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class GroundingScores:
    """Precision at each IoU threshold, mIoU, cIoU, per-sample IoU and the count of unparsed outputs."""

    precision_at: dict[float, float]
    miou: float
    ciou: float
    ious: np.ndarray  # [N]
    num_samples: int
    num_unparsed: int


def _area(box: Box) -> float:
    """Area of a usable box, 0 for a degenerate one (the same boxes box_iou treats as empty)."""
    if isinstance(box, HBB):
        return box.area if box.x2 > box.x1 and box.y2 > box.y1 else 0.0
    poly = box_polygon(box)
    return float(poly.area) if poly is not None else 0.0


def grounding_scores(
    predictions: Sequence[Box | None],
    targets: Sequence[Box],
    thresholds: Sequence[float] = PR_THRESHOLDS,
) -> GroundingScores:
    """Pr@thresholds, mIoU and cIoU of pixel-coordinate predictions (None = did not parse) vs targets."""
    if len(predictions) != len(targets):
        raise ValueError(f"{len(predictions)} predictions but {len(targets)} targets: one per expression")
    if not targets:
        raise ValueError("no expressions to score")
    ious = np.zeros(len(targets))  # [N]
    inter_sum, union_sum = 0.0, 0.0
    for i, (pred, gt) in enumerate(zip(predictions, targets, strict=True)):
        area_gt = _area(gt)
        if pred is None:
            union_sum += area_gt
            continue
        area_pred = _area(pred)
        iou = box_iou(pred, gt)
        inter = iou * (area_pred + area_gt) / (1.0 + iou)
        ious[i] = iou
        inter_sum += inter
        union_sum += area_pred + area_gt - inter
    return GroundingScores(
        precision_at={t: float(np.mean(ious >= t)) for t in thresholds},
        miou=float(ious.mean()),
        ciou=inter_sum / union_sum if union_sum > 0 else 0.0,
        ious=ious,
        num_samples=len(targets),
        num_unparsed=sum(p is None for p in predictions),
    )
