"""Grounding metrics by hand, unparsed outputs, and the "+1 on normalised coordinates" inflation."""

from __future__ import annotations

import numpy as np
import pytest

from earthgpt.evaluation.metrics.grounding import grounding_scores
from earthgpt.geometry import HBB, OBB


def test_by_hand() -> None:
    gt = [HBB(0, 0, 10, 10), HBB(0, 0, 10, 10), HBB(0, 0, 20, 10), HBB(0, 0, 10, 10)]
    pred = [
        HBB(0, 0, 10, 10),  # IoU 1: I 100, U 100
        HBB(5, 0, 15, 10),  # I 50, U 150 -> 1/3
        HBB(0, 0, 16, 10),  # I 160, U 200 -> 0.8
        None,  # did not parse: IoU 0, I 0, U = gt area 100
    ]
    s = grounding_scores(pred, gt)
    np.testing.assert_allclose(s.ious, [1.0, 1 / 3, 0.8, 0.0])
    assert s.miou == pytest.approx((1 + 1 / 3 + 0.8) / 4)
    assert s.ciou == pytest.approx((100 + 50 + 160) / (100 + 150 + 200 + 100))
    assert s.precision_at[0.5] == 0.5 and s.precision_at[0.8] == 0.5 and s.precision_at[0.9] == 0.25
    assert s.num_unparsed == 1


def test_obb_targets() -> None:
    square = OBB((0.0, 0.0, 10.0, 0.0, 10.0, 10.0, 0.0, 10.0))
    s = grounding_scores([HBB(0, 0, 10, 5)], [square])
    assert s.miou == pytest.approx(0.5) and s.ciou == pytest.approx(0.5)


def _buggy_iou(a: HBB, b: HBB) -> float:
    """The widespread pixel convention (+1 on widths) applied to normalised [0, 1] boxes: the bug."""
    iw = min(a.x2, b.x2) - max(a.x1, b.x1) + 1
    ih = min(a.y2, b.y2) - max(a.y1, b.y1) + 1
    inter = max(iw, 0) * max(ih, 0)
    area = lambda r: (r.x2 - r.x1 + 1) * (r.y2 - r.y1 + 1)  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def test_plus_one_on_normalised_coordinates_inflates() -> None:
    rng = np.random.default_rng(0)
    size = 800.0
    preds, gts, buggy = [], [], []
    for _ in range(200):  # small objects and poor localisation, as in RS grounding
        x, y = rng.uniform(0, 700, 2)
        w, h = rng.uniform(10, 80, 2)
        gt = HBB(x, y, x + w, y + h)
        dx, dy = rng.uniform(-60, 60, 2)
        pred = HBB(x + dx, y + dy, x + dx + w, y + dy + h)
        gts.append(gt)
        preds.append(pred)
        norm = lambda b: HBB(b.x1 / size, b.y1 / size, b.x2 / size, b.y2 / size)  # noqa: E731
        buggy.append(_buggy_iou(norm(pred), norm(gt)))
    ours = grounding_scores(preds, gts)
    buggy_pr50 = float(np.mean(np.array(buggy) >= 0.5))
    assert buggy_pr50 > 0.95  # every pair "hits" under the bug, even disjoint ones
    assert ours.precision_at[0.5] < 0.4
    assert np.mean(buggy) > ours.miou + 0.5
    # IoU is invariant to scaling, so normalised coordinates are not the problem: the +1 is.
    scaled = grounding_scores(
        [HBB(b.x1 / size, b.y1 / size, b.x2 / size, b.y2 / size) for b in preds],
        [HBB(b.x1 / size, b.y1 / size, b.x2 / size, b.y2 / size) for b in gts],
    )
    np.testing.assert_allclose(scaled.ious, ours.ious, atol=1e-12)


def test_length_mismatch() -> None:
    with pytest.raises(ValueError, match="one per expression"):
        grounding_scores([None], [])
