"""Detection average precision (AP@40, AP@50, ...) for horizontal and oriented boxes, per class and mAP.

Protocol (PASCAL VOC 2010+ / DOTA devkit):

- IoU: ``earthgpt.geometry.iou.iou_matrices`` (all images in one batch): continuous HBB IoU, exact polygon
  IoU as soon as an OBB is involved (vectorised convex clipping behind an HBB prefilter). A prediction matches when IoU >= the threshold (COCO's rule; the VOC/DOTA devkits use a
  strict ">", which differs only when an IoU equals the threshold exactly).
- Matching (``matching="voc"``): per image and class, predictions in descending score order (stable:
  ties keep the input order); each takes the ground truth it overlaps most. Above the threshold it is a
  true positive if that ground truth is free, a false positive if it was already taken, and ignored
  (neither) if it is ``difficult``. ``matching="coco"`` is pycocotools' greedy rule instead: the best
  still-free ground truth above the threshold, non-difficult ones first; the two rules agree whenever
  no prediction reaches the threshold with two ground truths.
- Ignore regions (``ignore_regions``: DontCare, crowds): class-agnostic; a prediction that is a false
  positive after matching and lies inside a region (intersection / its own area >= the threshold, as
  pycocotools treats ``iscrowd``) is ignored; a region absorbs any number of predictions.
- Every image counts, also those without ground truth: their predictions are false positives.
- Ranking: all predictions of a class over all images, stable descending score.
- AP (``interpolation="all-point"``): area under the monotone precision envelope (VOC 2010+, DOTA).
  ``"coco-101"`` samples that envelope at the 101 recalls 0, 0.01, ..., 1 as pycocotools does.
- Per class: AP, number of non-difficult ground truths and of predictions, and the recall/precision
  after each ranked prediction (for plots). mAP: mean AP over the classes that have ground truth.

An image whose model output did not parse is passed with no predictions (its objects are missed) and
counted in ``num_unparsed``, which the result reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from earthgpt.geometry import Box, LabeledBox
from earthgpt.geometry.iou import ioa_matrix, iou_matrices

__all__ = [
    "ClassAP",
    "DetectionScores",
    "average_precision",
    "detection_ap",
    "detection_scores",
    "match_predictions",
]

Matching = Literal["voc", "coco"]
Interpolation = Literal["all-point", "coco-101"]
TP, FP, IGNORED = 1, 0, -1
_COCO_RECALLS = np.linspace(0.0, 1.0, 101)  # the same floats pycocotools uses


@dataclass(frozen=True)
class ClassAP:
    """AP of one class (None without ground truth), its counts and its PR curve in ranking order."""

    label: str
    ap: float | None
    num_gts: int
    num_predictions: int
    recall: np.ndarray  # [K] after each ranked, non-ignored prediction
    precision: np.ndarray  # [K]


@dataclass(frozen=True)
class DetectionScores:
    """Per-class AP and mAP at one IoU threshold, with what the evaluation counted."""

    iou_threshold: float
    per_class: dict[str, ClassAP]
    map: float
    num_images: int
    num_unparsed: int
    num_unknown_label: int
    matching: str
    interpolation: str


def match_predictions(
    ious: np.ndarray, difficult: np.ndarray, iou_threshold: float, matching: Matching = "voc"
) -> np.ndarray:
    """TP (1), FP (0) or IGNORED (-1) for each prediction of one image and class.

    ``ious`` is [P, G] with predictions already in descending score order; ``difficult`` is [G] bool.
    """
    out = np.full(ious.shape[0], FP, dtype=np.int8)  # [P]
    if ious.shape[1] == 0:
        return out
    if matching == "voc":  # each prediction's best ground truth at once, then the sequential "taken" pass
        best = ious.argmax(axis=1)  # [P]
        reach = (ious[np.arange(ious.shape[0]), best] >= iou_threshold).tolist()
        hard, used = difficult.tolist(), set()
        for d, (g, ok) in enumerate(zip(best.tolist(), reach, strict=True)):
            if not ok:
                continue
            if hard[g]:
                out[d] = IGNORED
            elif g not in used:
                out[d] = TP
                used.add(g)
        return out
    taken = np.zeros(ious.shape[1], dtype=bool)  # [G]
    for d in range(ious.shape[0]):
        g = _coco_best(ious[d], difficult, taken, iou_threshold)
        if g >= 0:
            out[d], taken[g] = (IGNORED if difficult[g] else TP), True
    return out


def _coco_best(row: np.ndarray, difficult: np.ndarray, taken: np.ndarray, iou_threshold: float) -> int:
    """pycocotools' choice: the free ground truth with the highest IoU >= threshold (last on ties),
    looking at non-difficult ones first and at difficult ones only when no non-difficult one qualifies."""
    best, best_iou = -1, min(iou_threshold, 1 - 1e-10)
    for g in np.argsort(difficult, kind="stable"):
        if taken[g]:
            continue
        if best > -1 and not difficult[best] and difficult[g]:
            break
        if row[g] < best_iou:
            continue
        best, best_iou = int(g), row[g]
    return best


def average_precision(recall: np.ndarray, precision: np.ndarray, interpolation: Interpolation = "all-point") -> float:
    """AP from a PR curve in ranking order: area under its precision envelope, or COCO's 101 points."""
    if interpolation == "all-point":
        mrec = np.concatenate(([0.0], recall, [1.0]))
        mpre = np.concatenate(([0.0], precision, [0.0]))
        mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # precision envelope
        i = np.flatnonzero(mrec[1:] != mrec[:-1])
        return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))
    if interpolation == "coco-101":
        if precision.size == 0:
            return 0.0
        envelope = np.maximum.accumulate(precision[::-1])[::-1]
        idx = np.searchsorted(recall, _COCO_RECALLS, side="left")  # first rank reaching each recall
        sampled = np.zeros(_COCO_RECALLS.size)
        reached = idx < envelope.size
        sampled[reached] = envelope[idx[reached]]
        return float(np.mean(sampled))
    raise ValueError(f"unknown interpolation {interpolation!r}: expected 'all-point' or 'coco-101'")


def _check_inputs(
    predictions: Sequence[Sequence[LabeledBox]],
    ground_truths: Sequence[Sequence[LabeledBox]],
    difficult: Sequence[Sequence[bool]] | None,
    default_score: float | None,
) -> None:
    if len(predictions) != len(ground_truths):
        raise ValueError(f"{len(predictions)} prediction lists but {len(ground_truths)} ground-truth lists")
    if difficult is not None and [len(d) for d in difficult] != [len(g) for g in ground_truths]:
        raise ValueError("difficult must hold one flag per ground-truth box, image by image")
    if default_score is None and any(p.score is None for preds in predictions for p in preds):
        raise ValueError(
            "a prediction has no score: give every prediction a confidence (the paper uses a CLIP score)"
            " or pass default_score=... to rank unscored predictions in input order"
        )


@dataclass
class _ClassPool:
    """Ranked evaluation material of one class: per-prediction scores and outcomes, ground-truth count."""

    scores: list[np.ndarray]
    outcomes: dict[float, list[np.ndarray]]
    num_gts: int = 0


def _pool_image(
    pool: dict[str, _ClassPool],
    preds: Sequence[LabeledBox],
    gts: Sequence[LabeledBox],
    hard: Sequence[bool],
    regions: Sequence[Box],
    ious: np.ndarray,
    thresholds: Sequence[float],
    matching: Matching,
    default_score: float | None,
) -> None:
    """Match one image's predictions class by class and add them to the pools; ``ious`` is the IoU matrix of
    its predictions of known labels (in input order) against its ground truths  # [P_known, G]"""
    scores = np.array([b.score if b.score is not None else default_score for b in preds], dtype=np.float64)
    known = [i for i, b in enumerate(preds) if b.label in pool]
    inside = ioa_matrix([preds[i].box for i in known], regions).max(axis=1) if known and regions else None  # [P]
    row = {i: r for r, i in enumerate(known)}
    ranked: dict[str, list[int]] = {}  # per class, its predictions in descending score order (stable)
    for i in np.argsort(-scores, kind="stable").tolist():
        if preds[i].label in pool:
            ranked.setdefault(preds[i].label, []).append(i)
    truths: dict[str, list[int]] = {}
    for j, b in enumerate(gts):
        truths.setdefault(b.label, []).append(j)
    for label, cls in pool.items():
        g_idx = truths.get(label, [])
        cls.num_gts += sum(not hard[j] for j in g_idx)
        p_idx = ranked.get(label)
        if not p_idx:
            continue
        diff = np.array([hard[j] for j in g_idx], dtype=bool)  # [G_c]
        rows = [row[i] for i in p_idx]
        sub = ious[rows][:, g_idx]  # [P_c, G_c]
        cls.scores.append(scores[p_idx])
        for t in thresholds:
            outcome = match_predictions(sub, diff, t, matching)
            if inside is not None:  # a false positive inside an ignore region is ignored (COCO's crowd rule)
                outcome[(outcome == FP) & (inside[rows] >= t)] = IGNORED
            cls.outcomes[t].append(outcome)


def _class_ap(label: str, cls: _ClassPool, t: float, interpolation: Interpolation) -> ClassAP:
    scores = np.concatenate(cls.scores) if cls.scores else np.zeros(0)
    outcome = np.concatenate(cls.outcomes[t]) if cls.outcomes[t] else np.zeros(0, dtype=np.int8)
    ranked = outcome[np.argsort(-scores, kind="stable")]
    ranked = ranked[ranked != IGNORED]
    tp = np.cumsum(ranked == TP)
    fp = np.cumsum(ranked == FP)
    recall = tp / cls.num_gts if cls.num_gts else np.zeros(ranked.size)
    precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    ap = average_precision(recall, precision, interpolation) if cls.num_gts else None
    return ClassAP(label, ap, cls.num_gts, int(scores.size), recall, precision)


def detection_ap(
    predictions: Sequence[Sequence[LabeledBox]],
    ground_truths: Sequence[Sequence[LabeledBox]],
    *,
    iou_thresholds: Sequence[float] = (0.4, 0.5),
    difficult: Sequence[Sequence[bool]] | None = None,
    ignore_regions: Sequence[Sequence[Box]] | None = None,
    classes: Sequence[str] | None = None,
    num_unparsed: int = 0,
    matching: Matching = "voc",
    interpolation: Interpolation = "all-point",
    default_score: float | None = None,
) -> dict[float, DetectionScores]:
    """AP per class and mAP at each IoU threshold (default AP@40 and AP@50), IoUs computed once.

    ``predictions[i]`` and ``ground_truths[i]`` are the boxes of image i (same units, e.g. pixels);
    predictions carry scores. ``difficult[i][j]`` flags ground truth j of image i. ``ignore_regions[i]`` are
    class-agnostic regions of image i (DontCare, crowds): a prediction of any class that would be a false
    positive and lies inside one (intersection / prediction area >= the threshold) is ignored. ``classes`` fixes the
    class list (predictions of other labels are counted in ``num_unknown_label``); by default every
    label seen is a class. Boxes may be HBB or OBB; any OBB makes the IoU polygonal.
    """
    _check_inputs(predictions, ground_truths, difficult, default_score)
    hard = difficult if difficult is not None else [[False] * len(g) for g in ground_truths]
    regions = ignore_regions if ignore_regions is not None else [()] * len(ground_truths)
    if len(regions) != len(ground_truths):
        raise ValueError(f"{len(regions)} ignore-region lists but {len(ground_truths)} images")
    seen = {b.label for boxes in (*predictions, *ground_truths) for b in boxes}
    labels = list(classes) if classes is not None else sorted(seen)
    pool = {lab: _ClassPool([], {t: [] for t in iou_thresholds}) for lab in labels}
    # every image's IoU matrix in one batch (polygon pairs behind an HBB prefilter, clipped together)
    groups = [
        ([b.box for b in p if b.label in pool], [b.box for b in g])
        for p, g in zip(predictions, ground_truths, strict=True)
    ]
    matrices = iou_matrices(groups)
    for preds, gts, flags, ignore, ious in zip(predictions, ground_truths, hard, regions, matrices, strict=True):
        _pool_image(pool, preds, gts, flags, ignore, ious, iou_thresholds, matching, default_score)
    unknown = sum(b.label not in pool for preds in predictions for b in preds)
    if all(cls.num_gts == 0 for cls in pool.values()):
        raise ValueError("no (non-difficult) ground truth in any class: AP is undefined")
    out = {}
    for t in iou_thresholds:
        per_class = {lab: _class_ap(lab, cls, t, interpolation) for lab, cls in pool.items()}
        aps = [c.ap for c in per_class.values() if c.ap is not None]
        out[t] = DetectionScores(
            t, per_class, float(np.mean(aps)), len(ground_truths), num_unparsed, unknown, matching, interpolation
        )
    return out


def detection_scores(
    predictions: Sequence[Sequence[LabeledBox]],
    ground_truths: Sequence[Sequence[LabeledBox]],
    *,
    iou_threshold: float = 0.5,
    difficult: Sequence[Sequence[bool]] | None = None,
    ignore_regions: Sequence[Sequence[Box]] | None = None,
    classes: Sequence[str] | None = None,
    num_unparsed: int = 0,
    matching: Matching = "voc",
    interpolation: Interpolation = "all-point",
    default_score: float | None = None,
) -> DetectionScores:
    """``detection_ap`` at a single IoU threshold."""
    return detection_ap(
        predictions,
        ground_truths,
        iou_thresholds=(iou_threshold,),
        difficult=difficult,
        ignore_regions=ignore_regions,
        classes=classes,
        num_unparsed=num_unparsed,
        matching=matching,
        interpolation=interpolation,
        default_score=default_score,
    )[iou_threshold]
