"""Batched convex clipping against shapely on the cases that break naive clippers; IoU of listed pairs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from earthgpt.geometry import HBB, OBB, Box, box_iou, obb_from_rotated
from earthgpt.geometry.clipping import convex_intersection_area
from earthgpt.geometry.iou import BoxArray, group_pairs, iou_pairs


def _quad(box: OBB) -> np.ndarray:
    return np.array(box.corners())  # [4, 2]


def _shapely_areas(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return shapely.area(shapely.intersection(shapely.polygons(a), shapely.polygons(b)))


def _awkward_pairs() -> tuple[np.ndarray, np.ndarray]:
    """Pairs [K, 4, 2] with shared, touching and rounding-coincident edges, in both windings."""
    rng = np.random.default_rng(0)
    a, b = [], []
    for _ in range(200):
        cx, cy = rng.uniform(-500, 500, 2)
        w, h, t = rng.uniform(1, 60), rng.uniform(1, 60), rng.uniform(-math.pi, math.pi)
        box = _quad(obb_from_rotated(cx, cy, w, h, t))
        c, s = math.cos(t), math.sin(t)
        neighbour = _quad(obb_from_rotated(cx + w * c, cy + w * s, w, h, t))  # touching up to rounding
        part = _quad(obb_from_rotated(cx - 0.2 * w * c, cy - 0.2 * w * s, 0.6 * w, h, t))  # 3 edges up to rounding
        half = np.array([box[0], box[1], (box[1] + box[2]) / 2, (box[0] + box[3]) / 2])  # shares edge 0 exactly
        outside = np.array([box[3], box[2], 2 * box[2] - box[1], 2 * box[3] - box[0]])  # shares edge 2, reversed
        corner = box + (box[2] - box[0])  # touches at one corner
        for other in (box, np.roll(box, 1, axis=0), box[::-1], neighbour, part, half, outside, corner):
            a.append(box)
            b.append(other)
    return np.array(a), np.array(b)


def test_shared_touching_and_identical_edges_equal_shapely() -> None:
    a, b = _awkward_pairs()
    want = _shapely_areas(a, b)
    got = convex_intersection_area(a, b)
    scale = np.abs(shapely.area(shapely.polygons(a)))
    np.testing.assert_allclose(got / scale, want / scale, rtol=0, atol=1e-12)
    np.testing.assert_allclose(convex_intersection_area(b, a) / scale, want / scale, rtol=0, atol=1e-12)
    same = np.arange(len(a)) % 8 < 3  # identical, rolled start, reversed winding: the whole area
    np.testing.assert_allclose(got[same], scale[same], rtol=1e-14)


def test_integer_rectangles_are_exact() -> None:
    rng = np.random.default_rng(1)
    lo = rng.integers(0, 20, (2, 3000, 2)).astype(np.float64)  # [2 sides, K, (x, y)]
    hi = lo + rng.integers(1, 12, (2, 3000, 2))
    (ax1, ay1), (ax2, ay2) = lo[0].T, hi[0].T
    (bx1, by1), (bx2, by2) = lo[1].T, hi[1].T
    a = np.stack([np.stack(c, axis=1) for c in ((ax1, ay1), (ax2, ay1), (ax2, ay2), (ax1, ay2))], axis=1)
    b = np.stack([np.stack(c, axis=1) for c in ((bx1, by1), (bx2, by1), (bx2, by2), (bx1, by2))], axis=1)
    np.testing.assert_array_equal(convex_intersection_area(a, b), _shapely_areas(a, b))  # [K, 4, 2] each


def test_random_rotated_pairs_equal_shapely() -> None:
    rng = np.random.default_rng(2)
    n = 3000
    centres, sizes, angles = rng.uniform(0, 40, (2 * n, 2)), rng.uniform(0.5, 30, (2 * n, 2)), rng.uniform(0, 3, 2 * n)
    boxes = [
        _quad(obb_from_rotated(float(c[0]), float(c[1]), float(s[0]), float(s[1]), float(t)))
        for c, s, t in zip(centres, sizes, angles, strict=True)
    ]
    a, b = np.array(boxes[:n]), np.array(boxes[n:])
    got = convex_intersection_area(a, b)
    want = _shapely_areas(a, b)
    assert (want > 0).mean() > 0.2  # many pairs overlap
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


def test_group_pairs_lists_each_group_a_major() -> None:
    ia, ib = group_pairs(np.array([2, 0, 1, 1]), np.array([2, 3, 0, 1]))
    # group 0: a 0-1 x b 0-1; group 1: no a; group 2: no b; group 3: a 3 x b 5
    assert list(zip(ia.tolist(), ib.tolist(), strict=True)) == [(0, 0), (0, 1), (1, 0), (1, 1), (3, 5)]


def test_iou_pairs_equal_box_iou_and_refuse_an_obb_as_rectangle() -> None:
    a: list[Box] = [HBB(0, 0, 10, 10), OBB((0, 0, 10, 0, 2, 2, 0, 10)), OBB((0, 0, 10, 10, 10, 0, 0, 10))]
    a.append(HBB(5, 5, 5, 9))
    b: list[Box] = [HBB(5, 0, 15, 10), obb_from_rotated(5, 5, 10, 10, 0.3)]
    ia, ib = group_pairs(np.array([len(a)]), np.array([len(b)]))
    got = iou_pairs(BoxArray.of(a), BoxArray.of(b), ia, ib)
    want = [box_iou(a[i], b[j]) for i, j in zip(ia.tolist(), ib.tolist(), strict=True)]
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert got[0] == pytest.approx(50 / 150) and got[4] == 0.0 and got[5] == 0.0  # the bow tie scores 0
    with pytest.raises(ValueError, match="polygonal"):
        iou_pairs(BoxArray.of(a), BoxArray.of(b), ia, ib, polygonal=np.zeros(ia.size, dtype=bool))
