"""IoU: hand-computed cases, agreement between the HBB and polygon paths, pycocotools and a clipping reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils

from earthgpt.geometry import HBB, OBB, box_iou, hbb_iou, hbb_to_obb, iou_matrix, obb_from_rotated, obb_iou
from earthgpt.geometry.iou import box_polygon, convex_intersection_area, iou_matrices
from tests.geometry.strategies import hbbs, rect_obbs

SQ2 = math.sqrt(2.0)


def test_hbb_hand_cases() -> None:
    a = HBB(0, 0, 2, 2)
    assert hbb_iou(a, a) == 1.0
    assert hbb_iou(a, HBB(3, 3, 4, 4)) == 0.0  # disjoint
    assert hbb_iou(a, HBB(2, 0, 4, 2)) == 0.0  # touching edge, no +1 pixel
    assert hbb_iou(a, HBB(0.5, 0.5, 1.5, 1.5)) == pytest.approx(1 / 4)  # nested: 1 / 4
    assert hbb_iou(a, HBB(1, 0, 3, 2)) == pytest.approx(2 / 6)  # half overlap: 2 / (4 + 4 - 2)
    assert hbb_iou(a, HBB(1, 1, 3, 3)) == pytest.approx(1 / 7)  # corner overlap: 1 / (4 + 4 - 1)


def test_degenerate_boxes_give_zero() -> None:
    a = HBB(0, 0, 2, 2)
    assert hbb_iou(a, HBB(1, 1, 1, 2)) == 0.0  # zero width
    assert hbb_iou(a, HBB(2, 2, 0, 0)) == 0.0  # reversed
    assert hbb_iou(a, HBB(math.nan, 0, 1, 1)) == 0.0
    bow_tie = OBB((0, 0, 2, 2, 2, 0, 0, 2))
    assert obb_iou(bow_tie, hbb_to_obb(a)) == 0.0
    assert obb_iou(OBB((0, 0, 1, 1, 2, 2, 3, 3)), hbb_to_obb(a)) == 0.0  # collinear
    assert obb_iou(OBB((math.inf,) * 8), hbb_to_obb(a)) == 0.0
    m = iou_matrix([bow_tie, HBB(2, 2, 0, 0), a], [a, OBB((math.nan,) * 8)])
    np.testing.assert_array_equal(m, [[0, 0], [0, 0], [1, 0]])


def test_rotated_square_vs_axis_aligned_twin() -> None:
    # Side 2 centred at (1, 1); turned 45 degrees it pokes out of the twin by 4 triangles of area (sqrt2-1)^2.
    square = HBB(0, 0, 2, 2)
    diamond = OBB((1, 1 - SQ2, 1 + SQ2, 1, 1, 1 + SQ2, 1 - SQ2, 1))
    inter = 4 - 4 * (SQ2 - 1) ** 2
    expected = inter / (8 - inter)  # = 1 / sqrt(2)
    assert expected == pytest.approx(1 / SQ2)
    assert box_iou(square, diamond) == pytest.approx(expected, rel=1e-12)
    assert obb_iou(hbb_to_obb(square), diamond) == pytest.approx(expected, rel=1e-12)
    assert obb_iou(obb_from_rotated(1, 1, 2, 2, math.pi / 4), diamond) == pytest.approx(1.0)
    assert iou_matrix([square], [diamond])[0, 0] == pytest.approx(expected, rel=1e-12)


def test_empty_inputs_give_empty_matrices() -> None:
    assert iou_matrix([], []).shape == (0, 0)
    assert iou_matrix([HBB(0, 0, 1, 1)], []).shape == (1, 0)
    assert iou_matrix([], [OBB((0, 0, 1, 0, 1, 1, 0, 1))]).shape == (0, 1)


@settings(max_examples=150, deadline=None)
@given(hbbs(min_size=1e-3), hbbs(min_size=1e-3))
def test_hbb_iou_equals_polygon_iou(a: HBB, b: HBB) -> None:
    assert hbb_iou(a, b) == pytest.approx(obb_iou(hbb_to_obb(a), hbb_to_obb(b)), abs=1e-9)
    assert hbb_iou(a, b) == pytest.approx(hbb_iou(b, a), abs=1e-15)


@settings(max_examples=60, deadline=None)
@given(st.lists(hbbs(0, 100), max_size=6), st.lists(hbbs(0, 100), max_size=6))
def test_hbb_matrix_equals_pycocotools(preds: list[HBB], gts: list[HBB]) -> None:
    ours = iou_matrix(preds, gts)
    assert ours.shape == (len(preds), len(gts))
    if not preds or not gts:
        return
    coco = lambda bs: [[b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1] for b in bs]  # noqa: E731
    ref = mask_utils.iou(coco(preds), coco(gts), [0] * len(gts))
    ok = np.array([[p.area > 0 and g.area > 0 for g in gts] for p in preds])
    np.testing.assert_allclose(ours[ok], np.asarray(ref)[ok], atol=1e-9)


Pt = tuple[float, float]


def _convex_intersection_area(a: list[Pt], b: list[Pt]) -> float:
    """Area of the intersection of two convex quadrilaterals, computed independently of shapely.

    The intersection is the convex hull of the corners of each inside the other and of all edge crossings.
    """

    def side(p: Pt, q: Pt, r: Pt) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    def inside(pt: Pt, poly: list[Pt]) -> bool:
        s = [side(poly[i], poly[(i + 1) % 4], pt) for i in range(4)]
        return all(v >= -1e-9 for v in s) or all(v <= 1e-9 for v in s)  # corners on an edge count as inside

    pts = [p for p in a if inside(p, b)] + [p for p in b if inside(p, a)]
    for i in range(4):
        p, q = a[i], a[(i + 1) % 4]
        for j in range(4):
            r, t = b[j], b[(j + 1) % 4]
            den = (q[0] - p[0]) * (t[1] - r[1]) - (q[1] - p[1]) * (t[0] - r[0])
            if abs(den) < 1e-9:  # (nearly) parallel edges: their shared points are corners, counted above
                continue
            u = ((r[0] - p[0]) * (t[1] - r[1]) - (r[1] - p[1]) * (t[0] - r[0])) / den
            v = ((r[0] - p[0]) * (q[1] - p[1]) - (r[1] - p[1]) * (q[0] - p[0])) / den
            if 0 <= u <= 1 and 0 <= v <= 1:
                pts.append((p[0] + u * (q[0] - p[0]), p[1] + u * (q[1] - p[1])))
    pts = sorted(set(pts))
    if len(pts) < 3:
        return 0.0
    hull: list[Pt] = []
    for seq in (pts, pts[::-1]):  # monotone chain
        start = len(hull)
        for pt in seq:
            while len(hull) >= start + 2 and side(hull[-2], hull[-1], pt) <= 0:
                hull.pop()
            hull.append(pt)
        hull.pop()
    return abs(sum(hull[i - 1][0] * q[1] - q[0] * hull[i - 1][1] for i, q in enumerate(hull))) / 2


_INSIDE_TOUCHING = (  # a rotated square inside a rectangle, two corners on its edges (found by hypothesis): IoU 0.4
    OBB((0.2128345030241469, 0.3244516381545778, 0.41312040691088037, 0.17483360212858867,
         0.7871654969758531, 0.6755483618454222, 0.5868795930891197, 0.8251663978714113)),
    OBB((0.32504803004363875, 0.47466606606962786, 0.5253339339303722, 0.32504803004363875,
         0.6749519699563613, 0.5253339339303722, 0.47466606606962786, 0.6749519699563613)),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(rect_obbs(min_size=0.01), rect_obbs(min_size=0.01))
@example(*_INSIDE_TOUCHING)
def test_obb_iou_equals_convex_clipping_reference(a: OBB, b: OBB) -> None:
    inter = _convex_intersection_area(a.corners(), b.corners())
    expected = inter / (a.area + b.area - inter)
    assert obb_iou(a, b) == pytest.approx(expected, abs=1e-7)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.one_of(hbbs(min_size=0.01), rect_obbs(min_size=0.01)), max_size=7),
    st.lists(st.one_of(hbbs(min_size=0.01), rect_obbs(min_size=0.01)), max_size=7),
)
def test_matrix_equals_pairwise(preds: list, gts: list) -> None:  # type: ignore[type-arg]
    m = iou_matrix(preds, gts)
    assert m.shape == (len(preds), len(gts))
    for i, p in enumerate(preds):
        for j, g in enumerate(gts):
            assert m[i, j] == pytest.approx(box_iou(p, g), abs=1e-9)
            assert 0.0 <= m[i, j] <= 1.0


@settings(max_examples=100, deadline=None)
@given(rect_obbs(min_size=0.01), rect_obbs(min_size=0.01))
@example(*_INSIDE_TOUCHING)
def test_batched_convex_clipping_equals_shapely(a: OBB, b: OBB) -> None:
    pair = np.array([a.corners()]), np.array([b.corners()])
    got = convex_intersection_area(*pair)[0]
    assert got == pytest.approx(box_polygon(a).intersection(box_polygon(b)).area, abs=1e-12)  # type: ignore[union-attr]
    reversed_winding = convex_intersection_area(pair[0][:, ::-1], pair[1])[0]
    assert reversed_winding == pytest.approx(got, abs=1e-12)


def test_iou_matrices_per_group_with_non_convex_bow_tie_and_empty_groups() -> None:
    square = OBB((0, 0, 10, 0, 10, 10, 0, 10))
    dart = OBB((0, 0, 10, 0, 2, 2, 0, 10))  # valid but not convex: shapely computes it
    bow_tie = OBB((0, 0, 10, 10, 10, 0, 0, 10))  # self-crossing: IoU 0, as box_polygon says
    far = OBB((100, 100, 110, 100, 110, 110, 100, 110))  # removed by the HBB prefilter
    groups = [([square, dart], [square, bow_tie, far]), ([], [square]), ([HBB(0, 0, 10, 10)], [dart]), ([dart], [])]
    got = iou_matrices(groups)
    assert [m.shape for m in got] == [(2, 3), (0, 1), (1, 1), (1, 0)]
    want = [[box_iou(p, g) for g in groups[0][1]] for p in groups[0][0]]
    np.testing.assert_allclose(got[0], want, atol=1e-12)
    assert got[0][0].tolist()[1:] == [0.0, 0.0]
    assert got[0][1, 0] == pytest.approx(20 / 100)  # the dart (area 20) lies inside the square
    assert got[2][0, 0] == pytest.approx(20 / 100)
