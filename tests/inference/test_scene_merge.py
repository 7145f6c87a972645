"""Merging tile results: class-wise NMS (hand-computed cases, and against a brute-force shapely reference for OBBs),
box scores from token log-probabilities, and the shift from tile to scene pixels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Polygon

from earthgpt.geometry import HBB, LabeledBox, box_corners, obb_from_rotated
from earthgpt.inference.scene import Answer, merge_boxes, nms, scene_boxes
from earthgpt.inference.scene.predict import box_scores


def _hbb(x1: float, y1: float, x2: float, y2: float, score: float, label: str = "car") -> LabeledBox:
    return LabeledBox(label, HBB(x1, y1, x2, y2), score)


def test_hbb_nms_by_hand() -> None:
    a = _hbb(0, 0, 10, 10, 0.9)
    b = _hbb(1, 0, 11, 10, 0.8)  # IoU with a: 90 / 110 = 0.818
    d = _hbb(5, 0, 15, 10, 0.85)  # IoU with a: 50 / 150 = 1/3
    c = _hbb(20, 20, 30, 30, 0.7)
    e = _hbb(7, 0, 17, 10, 0.6)  # IoU with a: 30 / 170; with d (suppressed) 0.6, which does not count
    boxes = [a, b, c, d, e]
    assert nms(boxes, 0.3) == [0, 2, 4]
    assert nms(boxes, 1 / 3) == [0, 3, 2]  # IoU equal to the threshold survives (DOTA devkit: ovr <= thresh)
    assert nms([], 0.3) == []


def test_nms_is_class_wise() -> None:
    boxes = [_hbb(0, 0, 10, 10, 0.9, "car"), _hbb(0, 0, 10, 10, 0.5, "ship"), _hbb(1, 0, 10, 10, 0.4, "car")]
    assert merge_boxes(boxes) == [boxes[0], boxes[1]]


def _reference_poly_nms(boxes: list[LabeledBox], thresh: float) -> list[int]:
    """DOTA devkit's py_cpu_nms_poly, written plainly with shapely polygons."""
    polys = [Polygon(box_corners(b.box)) for b in boxes]
    order = sorted(range(len(boxes)), key=lambda i: -(boxes[i].score or 0.0))
    keep = []
    while order:
        i, order = order[0], order[1:]
        keep.append(i)
        inter = [polys[i].intersection(polys[j]).area for j in order]
        iou = [x / (polys[i].area + polys[j].area - x) for x, j in zip(inter, order, strict=True)]
        order = [j for j, v in zip(order, iou, strict=True) if v <= thresh]
    return keep


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", ["hbb", "obb"])
def test_nms_matches_a_shapely_reference(seed: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    boxes = []
    for _ in range(60):
        cx, cy = rng.uniform(0, 100, 2)
        w, h = rng.uniform(5, 25, 2)
        angle = rng.uniform(0, 180)
        box = (
            HBB(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            if kind == "hbb"
            else obb_from_rotated(cx, cy, w, h, angle, True)
        )
        boxes.append(LabeledBox("ship", box, rng.uniform()))
    got = nms(boxes, 0.3)
    assert got == _reference_poly_nms(boxes, 0.3)
    assert 5 < len(got) < 60


def test_box_scores_from_token_logprobs() -> None:
    text = "car [0.1,0.1,0.2,0.2]; ship [0.3,0.3,0.4,0.4]"
    spans = ((0, 4), (4, 22), (22, 24), (24, 29), (29, 45))
    answer = Answer(text, (-0.1, -0.3, -5.0, -0.2, -0.4), spans)
    got = box_scores(answer, [(0, 22), (24, 45)])  # the first box's tokens: 0, 1; the second's: 3, 4
    assert got == pytest.approx([math.exp(-0.2), math.exp(-0.3)])
    assert box_scores(Answer(text), [(0, 22), (24, 45)]) == [1.0, 0.5]  # no log-probabilities: by rank


def test_scene_boxes_are_shifted_from_the_tile_square() -> None:
    # a 100 x 50 tile at (300, 200): square side 100, the tile 25 px below its top
    boxes = scene_boxes(Answer("ship [0.100,0.250,0.200,0.500]; [0.5,0.5,0.6,0.6]"), (300, 200, 100, 50), "hbb")
    assert [b.label for b in boxes] == ["ship", "object"]
    assert boxes[0].box.as_tuple() == pytest.approx((310.0, 200.0, 320.0, 225.0))
    assert scene_boxes(Answer("plane [0.1,0.1,0.2,0.1,0.2,0.2,0.1,0.2]"), (0, 0, 10, 10), "hbb") == []
    assert scene_boxes(Answer("no ships here"), (0, 0, 10, 10), "obb") == []
