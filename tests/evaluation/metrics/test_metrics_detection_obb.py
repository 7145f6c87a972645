"""OBB detection AP equals a shapely loop on awkward rotated boxes; the batched matching equals the per-image rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earthgpt.evaluation.metrics.detection import detection_ap
from earthgpt.evaluation.metrics.matching import FP, IGNORED, TP, match_predictions
from earthgpt.geometry import HBB, OBB, Box, LabeledBox, hbb_to_obb, obb_from_rotated

from .detection_reference import coco_reference_ap, guarded_iou, voc_reference_ap
from .test_metrics_detection import LABELS, datasets

CLASSES = ("plane", "ship")


def _rotated_case(seed: int) -> tuple[list[list[LabeledBox]], list[list[LabeledBox]], list[list[bool]]]:
    """Rotated objects (some difficult) and predictions on them: jittered, identical copies, neighbours sharing
    an edge, degenerate, self-crossing and non-convex quadrilaterals, a few HBBs, tied scores, empty images."""
    rng = np.random.default_rng(seed)
    preds, gts, hard = [], [], []
    for i in range(60):
        p: list[LabeledBox] = []
        g: list[LabeledBox] = []
        d: list[bool] = []
        for _ in range(0 if i % 7 == 0 else int(rng.integers(1, 6))):
            cx, cy = rng.uniform(20, 180, 2)
            w, h, a = rng.uniform(6, 30), rng.uniform(6, 30), rng.uniform(0, math.pi)
            lab = CLASSES[int(rng.integers(2))]
            box = obb_from_rotated(cx, cy, w, h, a)
            g.append(LabeledBox(lab, box))
            d.append(bool(rng.random() < 0.2))
            kind = rng.integers(6)
            score = float(np.round(rng.random(), 1))  # ties
            if kind == 0:  # the object itself
                p.append(LabeledBox(lab, box, score))
            elif kind == 1:  # its neighbour along the width: shares an edge up to rounding
                p.append(LabeledBox(lab, obb_from_rotated(cx + w * math.cos(a), cy + w * math.sin(a), w, h, a), score))
            elif kind == 2:  # its first 60%: shares three edges up to rounding, IoU 0.6
                dx, dy = w / 5 * math.cos(a), w / 5 * math.sin(a)
                p.append(LabeledBox(lab, obb_from_rotated(cx - dx, cy - dy, w * 0.6, h, a), score))
            else:
                j = rng.normal(0, [2, 2, 3, 3, 0.15])
                p.append(LabeledBox(lab, obb_from_rotated(cx + j[0], cy + j[1], w + j[2], h + j[3], a + j[4]), score))
        for _ in range(int(rng.integers(0, 3))):  # false alarms of every awkward kind
            x, y = rng.uniform(0, 200, 2)
            odd: list[Box] = [
                OBB((x, y, x + 20, y, x + 4, y + 4, x, y + 20)),  # a dart: valid, not convex
                OBB((x, y, x + 20, y + 20, x + 20, y, x, y + 20)),  # a bow tie: IoU 0
                OBB((x, y, x + 5, y + 5, x + 10, y + 10, x + 15, y + 15)),  # collinear: IoU 0
                HBB(x, y, x + 15, y + 10),
                HBB(x, y, x, y + 10),  # zero width: IoU 0
            ]
            alarm = odd[int(rng.integers(len(odd)))]
            p.append(LabeledBox(CLASSES[int(rng.integers(2))], alarm, float(np.round(rng.random(), 1))))
        preds.append(p)
        gts.append(g)
        hard.append(d)
    return preds, gts, hard


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_awkward_rotated_boxes_give_the_shapely_loop_ap(seed: int) -> None:
    preds, gts, hard = _rotated_case(seed)
    ours = detection_ap(preds, gts, iou_thresholds=(0.3, 0.5, 0.7), difficult=hard, classes=CLASSES)
    for t, res in ours.items():
        for lab in CLASSES:
            want = voc_reference_ap(preds, gts, hard, lab, t, iou=guarded_iou)
            assert want is not None and res.per_class[lab].ap == pytest.approx(want, abs=1e-12), (t, lab)
    assert 0.1 < ours[0.5].map < 0.9  # neither trivial nor hopeless


FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(datasets())
def test_obb_copies_of_hbbs_give_pycocotools_ap(data: tuple[list, list, list]) -> None:
    # The same integer rectangles as OBBs take the polygon path; their IoUs are exact, so AP must not move.
    preds, gts, _ = data
    if not any(gts):
        return
    as_obb = [[LabeledBox(b.label, hbb_to_obb(b.box), b.score) for b in img] for img in preds]  # type: ignore[arg-type]
    ref = coco_reference_ap(preds, gts, LABELS, (0.4, 0.5))
    ours = detection_ap(as_obb, gts, classes=LABELS, matching="coco", interpolation="coco-101")
    for t in (0.4, 0.5):
        for lab, want in ref[t].items():
            got = ours[t].per_class[lab].ap
            assert (got is None) == (want is None) and (want is None or got == pytest.approx(want, abs=1e-12))


def _voc_loop(ious: np.ndarray, difficult: np.ndarray, t: float) -> list[int]:
    """The devkit rule written as a loop: each prediction in turn takes its best object (the first on ties)."""
    out, used = [], set()
    for row in ious:
        g = int(np.argmax(row)) if row.size else -1
        if g < 0 or row[g] < t:
            out.append(FP)
        elif difficult[g]:
            out.append(IGNORED)
        elif g in used:
            out.append(FP)
        else:
            used.add(g)
            out.append(TP)
    return out


def _coco_loop(ious: np.ndarray, difficult: np.ndarray, t: float) -> list[int]:
    """pycocotools' evaluateImg rule: objects sorted non-difficult first; for each prediction the last best
    free object reaching the threshold, stopping at the difficult ones once a non-difficult one matched."""
    order = np.argsort(difficult, kind="stable")
    taken: set[int] = set()
    out = []
    for row in ious:
        best, bound = -1, min(t, 1 - 1e-10)
        for g in order.tolist():
            if g in taken:
                continue
            if best > -1 and not difficult[best] and difficult[g]:
                break
            if row[g] < bound:
                continue
            best, bound = g, row[g]
        if best < 0:
            out.append(FP)
        else:
            taken.add(best)
            out.append(IGNORED if difficult[best] else TP)
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 6).flatmap(
        lambda g: st.tuples(
            st.lists(st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), min_size=g, max_size=g), max_size=6),
            st.lists(st.booleans(), min_size=g, max_size=g),
        )
    ),
    st.sampled_from([0.25, 0.5, 1.0]),
)
def test_batched_matching_equals_the_loops_with_ties(case: tuple[list, list], t: float) -> None:
    rows, flags = case
    ious = np.array(rows, dtype=np.float64).reshape(len(rows), len(flags))
    difficult = np.array(flags, dtype=bool)
    assert match_predictions(ious, difficult, t, "voc").tolist() == _voc_loop(ious, difficult, t)
    assert match_predictions(ious, difficult, t, "coco").tolist() == _coco_loop(ious, difficult, t)
