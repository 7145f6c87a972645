"""Detection average precision (AP@40, AP@50, ...) for horizontal and oriented boxes, per class and mAP.

Protocol (PASCAL VOC 2010+ / DOTA devkit):

- IoU: ``earthgpt.geometry.iou.iou_pairs`` over every (prediction, ground truth) pair of the same image and
  class, all images in one batch: continuous HBB IoU, exact polygon IoU for an image with any OBB
  (vectorised convex clipping behind an HBB prefilter). A prediction matches when IoU >= the threshold
  (COCO's rule; the VOC/DOTA devkits use a strict ">", which differs only when an IoU equals the threshold).
- Matching (``metrics.matching``, ``matching="voc"``): per image and class, predictions in descending score
  order (stable: ties keep the input order); each takes the ground truth it overlaps most. Above the threshold it is a
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

from earthgpt.evaluation.metrics.matching import FP, IGNORED, TP, Matching, match_pairs, match_predictions
from earthgpt.geometry import Box, LabeledBox
from earthgpt.geometry.iou import BoxArray, group_pairs, ioa_pairs, iou_pairs

__all__ = [
    "ClassAP",
    "DetectionScores",
    "average_precision",
    "detection_ap",
    "detection_scores",
    "match_predictions",
]

Interpolation = Literal["all-point", "coco-101"]
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
    ignore_regions: Sequence[Sequence[Box]] | None,
) -> None:
    if len(predictions) != len(ground_truths):
        raise ValueError(f"{len(predictions)} prediction lists but {len(ground_truths)} ground-truth lists")
    if difficult is not None and [len(d) for d in difficult] != [len(g) for g in ground_truths]:
        raise ValueError("difficult must hold one flag per ground-truth box, image by image")
    if ignore_regions is not None and len(ignore_regions) != len(ground_truths):
        raise ValueError(f"{len(ignore_regions)} ignore-region lists but {len(ground_truths)} images")


@dataclass(frozen=True)
class _Flat:
    """The boxes of all images end to end, with their image and class index (-1 for a label not evaluated)."""

    boxes: BoxArray
    image: np.ndarray  # [N]
    label: np.ndarray  # [N]
    per_image: np.ndarray  # [I]

    @classmethod
    def of(cls, flat: Sequence[LabeledBox], per_image: np.ndarray, label_ids: dict[str, int]) -> _Flat:
        labels = np.array([label_ids.get(b.label, -1) for b in flat], dtype=np.int64).reshape(len(flat))
        image = np.repeat(np.arange(per_image.size), per_image)
        return cls(BoxArray.of([b.box for b in flat]), image, labels, per_image)

    def take(self, idx: np.ndarray) -> _Flat:
        """The boxes ``idx`` (in increasing order, so images stay end to end)."""
        per_image = np.bincount(self.image[idx], minlength=self.per_image.size)
        return _Flat(self.boxes.take(idx), self.image[idx], self.label[idx], per_image)


def _scores(flat: Sequence[LabeledBox], default_score: float | None) -> np.ndarray:
    """[P] the prediction scores, ``default_score`` for unscored ones."""
    scores = [b.score for b in flat]
    if None in scores:
        if default_score is None:
            raise ValueError(
                "a prediction has no score: give every prediction a confidence (the paper uses a CLIP score)"
                " or pass default_score=... to rank unscored predictions in input order"
            )
        scores = [default_score if s is None else s for s in scores]
    return np.array(scores, dtype=np.float64).reshape(len(flat))


def _pair_ious(preds: _Flat, gts: _Flat, num_labels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (prediction, ground truth) pair of the same image and class with its IoU -> 3 x [K].

    The pairs of one prediction are contiguous, its ground truths in input order. An image is polygonal as a
    whole when any of its predictions or ground truths is an OBB (HBB pairs there are clipped as rectangles).
    """
    n_keys = preds.per_image.size * num_labels
    p_key = preds.image * num_labels + preds.label  # [P] all labels known
    g_known = np.flatnonzero(gts.label >= 0)
    g_key = gts.image[g_known] * num_labels + gts.label[g_known]
    p_order, g_order = np.argsort(p_key, kind="stable"), g_known[np.argsort(g_key, kind="stable")]
    ip, ig = group_pairs(np.bincount(p_key, minlength=n_keys), np.bincount(g_key, minlength=n_keys))
    pred, gt = p_order[ip], g_order[ig]
    n_img = preds.per_image.size
    oriented = np.bincount(preds.image, ~preds.boxes.is_hbb, n_img) + np.bincount(gts.image, ~gts.boxes.is_hbb, n_img)
    return pred, gt, iou_pairs(preds.boxes, gts.boxes, pred, gt, polygonal=oriented[preds.image[pred]] > 0)


def _inside_regions(preds: _Flat, regions: Sequence[Sequence[Box]]) -> np.ndarray | None:
    """Per prediction, the largest share of it inside one ignore region of its image -> [P] (None: no regions)."""
    per_image = np.array([len(r) for r in regions], dtype=np.int64)
    if not per_image.any() or not len(preds.image):
        return None
    ip, ir = group_pairs(preds.per_image, per_image)  # predictions are already image-major
    ioa = ioa_pairs(preds.boxes, BoxArray.of([r for rs in regions for r in rs]), ip, ir)
    inside = np.zeros(len(preds.image))
    np.maximum.at(inside, ip, ioa)
    return inside


def _class_ap(label: str, outcome: np.ndarray, num_gts: int, interpolation: Interpolation) -> ClassAP:
    """AP of one class from the outcomes of its predictions in ranking order [P_c]."""
    ranked = outcome[outcome != IGNORED]
    tp = np.cumsum(ranked == TP)
    fp = np.cumsum(ranked == FP)
    recall = tp / num_gts if num_gts else np.zeros(ranked.size)
    precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    ap = average_precision(recall, precision, interpolation) if num_gts else None
    return ClassAP(label, ap, num_gts, int(outcome.size), recall, precision)


def _flatten(
    predictions: Sequence[Sequence[LabeledBox]],
    ground_truths: Sequence[Sequence[LabeledBox]],
    difficult: Sequence[Sequence[bool]] | None,
    classes: Sequence[str] | None,
    default_score: float | None,
) -> tuple[list[str], _Flat, _Flat, np.ndarray, np.ndarray, int]:
    """The class list, the predictions of known labels and all ground truths end to end, the [G] difficult flags,
    the [P] scores and the number of predictions of unknown labels."""
    flat_preds = [b for bs in predictions for b in bs]
    flat_gts = [b for bs in ground_truths for b in bs]
    labels = list(classes) if classes is not None else sorted({b.label for b in (*flat_preds, *flat_gts)})
    label_ids = {lab: k for k, lab in enumerate(labels)}
    preds = _Flat.of(flat_preds, np.array([len(bs) for bs in predictions]), label_ids)
    gts = _Flat.of(flat_gts, np.array([len(bs) for bs in ground_truths]), label_ids)
    scores = _scores(flat_preds, default_score)  # [P]
    known = preds.label >= 0
    unknown = int(known.size - known.sum())
    if unknown:
        keep = np.flatnonzero(known)
        preds, scores = preds.take(keep), scores[keep]
    hard = np.zeros(len(flat_gts), dtype=bool)
    if difficult is not None:
        hard[:] = [bool(d) for flags in difficult for d in flags]
    return labels, preds, gts, hard, scores, unknown


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
    label seen is a class. Boxes may be HBB or OBB; any OBB makes the IoU of its image polygonal.
    """
    _check_inputs(predictions, ground_truths, difficult, ignore_regions)
    labels, preds, gts, hard, scores, unknown = _flatten(predictions, ground_truths, difficult, classes, default_score)
    num_gts = np.bincount(gts.label[(gts.label >= 0) & ~hard], minlength=len(labels))  # [C]
    if not num_gts.any():
        raise ValueError("no (non-difficult) ground truth in any class: AP is undefined")
    order = np.argsort(-scores, kind="stable")  # ranking: descending score, ties in image then input order
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    by_class = [order[preds.label[order] == c] for c in range(len(labels))]  # [P_c] each, in ranking order
    pred, gt, iou = _pair_ious(preds, gts, len(labels))
    inside = _inside_regions(preds, ignore_regions) if ignore_regions is not None else None
    out = {}
    for t in iou_thresholds:
        outcome = match_pairs(pred, gt, iou, rank, hard, t, matching)  # [P]
        if inside is not None:  # a false positive inside an ignore region is ignored (COCO's crowd rule)
            outcome[(outcome == FP) & (inside >= t)] = IGNORED
        per_class = {
            lab: _class_ap(lab, outcome[by_class[c]], int(num_gts[c]), interpolation) for c, lab in enumerate(labels)
        }
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
