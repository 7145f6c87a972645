"""Normalisation: the worked 640x512 example, exact inverses, frame conversions, clipping."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earthgpt.geometry import (
    HBB,
    OBB,
    clip_box,
    denormalize,
    inside_fraction,
    normalize,
    obb_from_rotated,
    pad_offsets,
    per_axis_to_square,
    square_to_per_axis,
)
from tests.geometry.strategies import hbbs, rect_obbs

sizes = st.integers(min_value=1, max_value=5000)


def test_worked_example_640x512() -> None:
    # S = 640, dx = 0, dy = (640 - 512) / 2 = 64 (see docs/boxes.md).
    assert pad_offsets(640, 512) == (640.0, 0.0, 64.0)
    n = normalize(HBB(100, 50, 300, 250), 640, 512)
    assert n == HBB(100 / 640, 114 / 640, 300 / 640, 314 / 640)
    # A portrait image pads left and right instead.
    assert normalize(HBB(0, 0, 512, 640), 512, 640) == HBB(64 / 640, 0.0, 576 / 640, 1.0)


def test_whole_image_maps_to_centred_band() -> None:
    assert normalize(HBB(0, 0, 640, 512), 640, 512) == HBB(0.0, 0.1, 1.0, 0.9)


@pytest.mark.parametrize("w,h", [(0, 10), (10, -1), (math.nan, 5)])
def test_bad_image_size_raises(w: float, h: float) -> None:
    with pytest.raises(ValueError, match="width and height"):
        normalize(HBB(0, 0, 1, 1), w, h)


@settings(max_examples=150, deadline=None)
@given(hbbs(0, 5000), sizes, sizes)
def test_hbb_round_trip(box: HBB, w: int, h: int) -> None:
    back = denormalize(normalize(box, w, h), w, h)
    assert back.as_tuple() == pytest.approx(box.as_tuple(), abs=1e-9 * max(w, h))


@settings(max_examples=150, deadline=None)
@given(rect_obbs(0, 5000), sizes, sizes)
def test_obb_round_trip_keeps_point_order(box: OBB, w: int, h: int) -> None:
    back = denormalize(normalize(box, w, h), w, h)
    assert isinstance(back, OBB)
    assert back.as_tuple() == pytest.approx(box.as_tuple(), abs=1e-9 * max(w, h))


@settings(max_examples=100, deadline=None)
@given(hbbs(), sizes, sizes)
def test_per_axis_frame_round_trip(box: HBB, w: int, h: int) -> None:
    sq = per_axis_to_square(box, w, h)
    assert square_to_per_axis(sq, w, h).as_tuple() == pytest.approx(box.as_tuple(), abs=1e-12)
    # Both frames describe the same pixels.
    px_a = HBB(box.x1 * w, box.y1 * h, box.x2 * w, box.y2 * h)
    assert denormalize(sq, w, h).as_tuple() == pytest.approx(px_a.as_tuple(), abs=1e-9 * max(w, h))


def test_clip_hbb() -> None:
    assert clip_box(HBB(-5, 10, 50, 120), 40, 100) == HBB(0, 10, 40, 100)
    assert clip_box(HBB(-5, -5, -1, -1), 40, 100).area == 0.0


def test_clip_obb_inside_is_unchanged_and_outside_is_cut() -> None:
    inside = obb_from_rotated(50, 50, 20, 10, 0.3)
    assert clip_box(inside, 100, 100) == inside
    half = obb_from_rotated(0, 50, 20, 10, 0.3)  # centre on the left edge
    cut = clip_box(half, 100, 100)
    assert isinstance(cut, OBB)
    assert all(0 <= v <= 100 for v in cut.points)
    assert 0 < cut.area < half.area
    assert inside_fraction(half, 100, 100) == pytest.approx(0.5)
    assert clip_box(obb_from_rotated(-50, -50, 10, 10, 0.3), 100, 100).area == 0.0


def test_inside_fraction_hand_cases() -> None:
    assert inside_fraction(HBB(-1, 0, 1, 1), 10, 10) == pytest.approx(0.5)
    assert inside_fraction(HBB(2, 2, 3, 3), 10, 10) == 1.0
    assert inside_fraction(HBB(20, 20, 30, 30), 10, 10) == 0.0
    assert inside_fraction(HBB(3, 3, 2, 2), 10, 10) == 0.0
