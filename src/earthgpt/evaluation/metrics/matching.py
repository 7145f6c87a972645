"""Greedy matching of ranked predictions to ground truths (VOC/DOTA devkit and pycocotools rules) over IoU pairs.

Input is sparse: the candidate (prediction, ground truth) pairs of all images at once with their IoUs, the rank of
each prediction (0 = highest score) and the ``difficult`` flag of each ground truth. Pairs only ever join a
prediction to a ground truth of the same image and class, so one pass over all of them equals matching image
by image. Output: TP (1), FP (0) or IGNORED (-1) per prediction.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["FP", "IGNORED", "TP", "Matching", "match_pairs", "match_predictions"]

Matching = Literal["voc", "coco"]
TP, FP, IGNORED = 1, 0, -1


def match_pairs(
    pred: np.ndarray,
    gt: np.ndarray,
    iou: np.ndarray,
    rank: np.ndarray,
    difficult: np.ndarray,
    iou_threshold: float,
    matching: Matching = "voc",
) -> np.ndarray:
    """TP, FP or IGNORED for each of the ``len(rank)`` predictions -> [P] int8.

    ``pred``, ``gt``, ``iou`` [K] list every (prediction, ground truth) pair of the same image and class: the
    pairs of one prediction are contiguous, with its image's ground truths of that class in input order (for
    ``"voc"``; ``"coco"`` takes any order). ``rank`` [P] orders the predictions (lower first; ties are
    not allowed within an image); ``difficult`` [G] bool. A prediction without pairs is a false positive.

    ``"voc"``: each prediction takes the ground truth it overlaps most (the first on ties); reaching the
    threshold it is ignored on a difficult one, a TP on a free one, an FP on a taken one. ``"coco"``: the
    best still-free ground truth reaching the threshold (the last on ties), non-difficult ones first.
    """
    if matching == "voc":
        return _voc(pred, gt, iou, rank, difficult, iou_threshold)
    if matching == "coco":
        return _coco(pred, gt, iou, rank, difficult, iou_threshold)
    raise ValueError(f"unknown matching {matching!r}: expected 'voc' or 'coco'")


def _voc(
    pred: np.ndarray, gt: np.ndarray, iou: np.ndarray, rank: np.ndarray, difficult: np.ndarray, t: float
) -> np.ndarray:
    """The devkit rule without a loop: each best ground truth is independent of the order, and among the
    predictions whose best is the same free object only the first in rank order is a TP."""
    out = np.full(rank.size, FP, dtype=np.int8)  # [P]
    if pred.size == 0:
        return out
    starts = np.flatnonzero(np.r_[True, pred[1:] != pred[:-1]])  # [S] one segment per prediction
    best_iou = np.maximum.reduceat(iou, starts)  # [S]
    segment = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, pred.size]))  # [K]
    at_max = np.flatnonzero(iou == best_iou[segment])
    first = at_max[np.r_[True, segment[at_max][1:] != segment[at_max][:-1]]]  # [S] first pair at the maximum
    owner, best = pred[starts], gt[first]
    reach = best_iou >= t
    out[owner[reach & difficult[best]]] = IGNORED
    claim = np.flatnonzero(reach & ~difficult[best])
    by_object = claim[np.lexsort((rank[owner[claim]], best[claim]))]  # grouped by object, in rank order
    winner = by_object[np.r_[True, best[by_object][1:] != best[by_object][:-1]]] if by_object.size else by_object
    out[owner[winner]] = TP
    return out


def _coco(
    pred: np.ndarray, gt: np.ndarray, iou: np.ndarray, rank: np.ndarray, difficult: np.ndarray, t: float
) -> np.ndarray:
    """pycocotools' rule: predictions in rank order, each trying its reachable pairs in order of preference
    (non-difficult first, then higher IoU, then the later ground truth) and taking the first free one."""
    out = np.full(rank.size, FP, dtype=np.int8)  # [P]
    ok = np.flatnonzero(iou >= min(t, 1 - 1e-10))  # pycocotools' bound, so that t = 1 can match
    p, g = pred[ok], gt[ok]
    order = np.lexsort((-g, -iou[ok], difficult[g], rank[p]))
    taken: set[int] = set()
    current, done = -1, False
    for d, obj in zip(p[order].tolist(), g[order].tolist(), strict=True):
        if d != current:
            current, done = d, False
        if done or obj in taken:
            continue
        taken.add(obj)
        out[d], done = (IGNORED if difficult[obj] else TP), True
    return out


def match_predictions(
    ious: np.ndarray, difficult: np.ndarray, iou_threshold: float, matching: Matching = "voc"
) -> np.ndarray:
    """TP (1), FP (0) or IGNORED (-1) for each prediction of one image and class -> [P] int8.

    ``ious`` is [P, G] with predictions already in descending score order; ``difficult`` is [G] bool.
    """
    n_pred, n_gt = ious.shape
    pred = np.repeat(np.arange(n_pred), n_gt)  # [P * G] prediction-major
    gt = np.tile(np.arange(n_gt), n_pred)
    flags = np.asarray(difficult, dtype=bool)
    return match_pairs(pred, gt, ious.ravel(), np.arange(n_pred), flags, iou_threshold, matching)
