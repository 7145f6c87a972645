"""Corner order of the paper, rotated-box conversions, and the angle convention on real DIOR-R / HIT-UAV labels."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings

from earthgpt.geometry import (
    HBB,
    OBB,
    hbb_iou,
    hbb_to_obb,
    obb_from_rotated,
    obb_iou,
    obb_to_hbb,
    obb_to_rotated,
    order_obb,
)
from tests.geometry.strategies import quads, rect_obbs, rotated


def test_axis_aligned_box_order() -> None:
    shuffled = [(30, 40), (10, 20), (10, 40), (30, 20)]
    assert order_obb(shuffled) == OBB((10, 20, 30, 20, 30, 40, 10, 40))
    assert hbb_to_obb(HBB(10, 20, 30, 40)) == OBB((10, 20, 30, 20, 30, 40, 10, 40))


def test_tie_breaks() -> None:
    # (0, 5) and (5, 0) are equally close to the origin: the smaller y wins.
    assert order_obb([(0, 5), (5, 10), (10, 5), (5, 0)]).points[:2] == (5, 0)
    # A degenerate box with repeated corners still has one answer whatever the input order.
    pts = [(1, 1), (1, 1), (3, 1), (3, 1)]
    assert {order_obb(list(p)) for p in itertools.permutations(pts)} == {OBB((1, 1, 1, 1, 3, 1, 3, 1))}


@settings(max_examples=200, deadline=None)
@given(rect_obbs(0, 1000))
def test_order_matches_paper_definition(box: OBB) -> None:
    ordered = order_obb(box)
    c = ordered.corners()
    first = c[0]
    assert first == min(box.corners(), key=lambda p: (p[0] ** 2 + p[1] ** 2, p[1], p[0]))
    angles = [math.atan2(p[1] - first[1], p[0] - first[0]) for p in c[1:]]
    assert angles == sorted(angles)
    assert obb_iou(ordered, box) == pytest.approx(1.0)  # still a simple polygon


@settings(max_examples=150, deadline=None)
@given(quads())
def test_order_is_idempotent_and_ignores_input_order(corners: list[tuple[float, float]]) -> None:
    ordered = order_obb(corners)
    assert order_obb(ordered) == ordered
    for perm in itertools.permutations(corners):
        assert order_obb(list(perm)) == ordered


@settings(max_examples=100, deadline=None)
@given(rect_obbs(-100, 100))
def test_negative_coordinates_still_give_a_simple_polygon(box: OBB) -> None:
    assert obb_iou(order_obb(box), box) == pytest.approx(1.0)


@settings(max_examples=200, deadline=None)
@given(rotated(0, 1000))
def test_rotated_round_trip(params: tuple[float, ...]) -> None:
    cx, cy, w, h, a = params
    obb = obb_from_rotated(cx, cy, w, h, a)
    cx2, cy2, w2, h2, a2 = obb_to_rotated(obb)
    assert (cx2, cy2) == pytest.approx((cx, cy), abs=1e-9)
    assert (w2, h2) == pytest.approx((max(w, h), min(w, h)), rel=1e-9)
    assert w2 >= h2
    assert -math.pi / 2 <= a2 < math.pi / 2
    assert obb_from_rotated(cx2, cy2, w2, h2, a2).as_tuple() == pytest.approx(obb.as_tuple(), abs=1e-9)
    deg = obb_to_rotated(obb, degrees=True)
    assert obb_from_rotated(*deg, degrees=True).as_tuple() == pytest.approx(obb.as_tuple(), abs=1e-9)


def test_angle_convention_hand_cases() -> None:
    # w along (cos a, sin a) in image coordinates: +90 degrees turns a wide box into a tall one.
    tall = obb_from_rotated(10, 10, 8, 2, 90, degrees=True)
    assert obb_to_hbb(tall).as_tuple() == pytest.approx((9, 6, 11, 14))
    # +30 degrees (clockwise on screen): the right end of the long side moves down.
    turned = obb_from_rotated(0, 0, 2, 0.0, 30, degrees=True)
    ends = sorted(turned.corners())
    assert ends[-1][1] == pytest.approx(math.sin(math.radians(30)))
    assert obb_to_rotated(turned, degrees=True)[4] == pytest.approx(30)
    sq = obb_to_rotated(obb_from_rotated(5, 5, 2, 2, 80, degrees=True), degrees=True)
    assert sq[4] == pytest.approx(-10)  # squares reduce to [-45, 45)


def test_obb_to_hbb_encloses() -> None:
    assert obb_to_hbb(OBB((1, 0, 2, 1, 1, 2, 0, 1))) == HBB(0, 0, 2, 2)


def _dior_objects(xml: Path) -> list[tuple[OBB, float]]:
    out = []
    for obj in ET.parse(xml).getroot().iter("object"):
        rb = obj.find("robndbox")
        names = ["left_top", "right_top", "right_bottom", "left_bottom"]
        pts = [float(rb.findtext(f"{a}_{n}")) for n in names for a in ("x", "y")]  # type: ignore[union-attr,arg-type]
        out.append((OBB(tuple(pts)), float(obj.findtext("angle"))))  # type: ignore[arg-type]
    return out


def test_dior_r_angles_follow_our_convention(data_root: Path) -> None:
    folder = data_root / "falcon_image_samples" / "dior_annotations" / "oriented"
    objects = [o for xml in sorted(folder.glob("*.xml")) for o in _dior_objects(xml)]
    assert objects
    turned = 0
    for quad, angle in objects:
        c = quad.corners()
        w, h = math.dist(c[0], c[1]), math.dist(c[0], c[3])
        cx, cy = sum(p[0] for p in c) / 4, sum(p[1] for p in c) / 4
        rebuilt = obb_from_rotated(cx, cy, w, h, angle, degrees=True)
        assert obb_iou(rebuilt, quad) > 0.85, (quad, angle)
        if min(w, h) < 0.8 * max(w, h) and 10 <= abs(angle) <= 80:
            turned += 1
            mirrored = obb_from_rotated(cx, cy, w, h, -angle, degrees=True)
            assert obb_iou(mirrored, quad) < obb_iou(rebuilt, quad)
    assert turned > 0  # the sign of the angle was actually tested


def test_hit_uav_radians_match_its_horizontal_labels(data_root: Path) -> None:
    rot_dir = data_root / "hit_uav" / "rotate_xml" / "Annotations"
    hbb_dir = data_root / "hit_uav" / "normal_xml" / "Annotations"
    ious = []
    for xml in sorted(rot_dir.glob("*.xml"))[:15]:
        hbb_xml = hbb_dir / xml.name
        if not hbb_xml.exists():
            continue
        gts = [
            HBB(*(float(o.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")))  # type: ignore[arg-type]
            for o in ET.parse(hbb_xml).getroot().iter("object")
        ]
        for o in ET.parse(xml).getroot().iter("object"):
            v = [float(o.findtext(f"robndbox/{k}")) for k in ("cx", "cy", "w", "h", "angle")]  # type: ignore[arg-type]
            enclosing = obb_to_hbb(obb_from_rotated(*v))
            ious.append(max((hbb_iou(enclosing, g) for g in gts), default=0.0))
    assert len(ious) > 20
    assert sorted(ious)[len(ious) // 2] > 0.85  # median: radians, not degrees
