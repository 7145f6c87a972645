"""Tiling: window arithmetic, HBB/OBB clipping and visibility, tile records, all on hand-computed cases."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from earthgpt.data.corpus.config import TilingOptions
from earthgpt.data.corpus.tiling import (
    clip_to_image,
    cut_box,
    cut_record,
    needs_tiling,
    polygon_quad,
    tile_windows,
    window_starts,
)
from earthgpt.data.records import DetectionRecord, ImageRef, Tile
from earthgpt.data.sources.base import Skip
from earthgpt.geometry import HBB, OBB, LabeledBox


def _tile(x: int, y: int, w: int = 800, h: int = 800, sw: int = 1400, sh: int = 800, scale: float = 1.0) -> Tile:
    return Tile(x, y, w, h, scale, sw, sh)


def _corners(box: OBB | HBB | None) -> set[tuple[float, float]]:
    assert isinstance(box, OBB)
    return {(round(x, 6), round(y, 6)) for x, y in box.corners()}


@pytest.mark.parametrize(
    ("length", "window", "stride", "expected"),
    [
        (500, 800, 600, [0]),  # shorter than a tile: one window
        (800, 800, 600, [0]),  # exactly one tile
        (1000, 800, 600, [0, 200]),  # last window shifted back to end at the edge
        (1400, 800, 600, [0, 600]),  # 600 + 800 = 1400 ends exactly at the edge
        (1401, 800, 600, [0, 600, 601]),  # one pixel more needs a third window (devkit behaviour)
        (2000, 800, 600, [0, 600, 1200]),
        (2000, 1600, 1200, [0, 400]),  # the scale-0.5 windows of a 2000 px axis
    ],
)
def test_window_starts_stride_arithmetic(length: int, window: int, stride: int, expected: list[int]) -> None:
    starts = window_starts(length, window, stride)
    assert starts == expected
    assert starts[-1] + min(window, length) == max(length, min(window, length))  # reaches the edge, never past it


def test_tile_windows_cover_the_image_row_by_row() -> None:
    tiles = tile_windows(1400, 500, size=800, overlap=200)
    assert [(t.x, t.y, t.width, t.height) for t in tiles] == [(0, 0, 800, 500), (600, 0, 800, 500)]
    assert all((t.source_width, t.source_height, t.scale) == (1400, 500, 1.0) for t in tiles)


def test_tile_windows_at_half_scale_are_twice_as_large_in_source_pixels() -> None:
    tiles = tile_windows(2000, 2000, size=800, overlap=200, scale=0.5)
    assert [(t.x, t.y) for t in tiles] == [(0, 0), (400, 0), (0, 400), (400, 400)]
    assert {(t.width, t.height, t.scale) for t in tiles} == {(1600, 1600, 0.5)}


def test_hbb_straddling_two_tiles() -> None:
    # 1400 x 800 image, tiles x in [0, 800] and [600, 1400]; a 300 x 10 box from x = 550 to 850.
    box = HBB(550, 0, 850, 10)
    left = cut_box(box, _tile(0, 0), min_visible=0.7)  # 250 / 300 = 0.83 visible
    right = cut_box(box, _tile(600, 0), min_visible=0.7)  # 250 / 300 = 0.83 visible, shifted by -600
    assert left == HBB(550, 0, 800, 10)
    assert right == HBB(0, 0, 250, 10)
    # a 200 px box half in the left tile only: 0.5 < 0.7 there, whole in the right tile
    assert cut_box(HBB(700, 100, 900, 200), _tile(0, 0), 0.7) is None
    assert cut_box(HBB(700, 100, 900, 200), _tile(600, 0), 0.7) == HBB(100, 100, 300, 200)


def test_visibility_threshold_is_inclusive() -> None:
    box = HBB(100, 0, 1100, 10)  # 1000 px wide, 700 px inside [0, 800]
    assert cut_box(box, _tile(0, 0), min_visible=0.7) == HBB(100, 0, 800, 10)
    assert cut_box(box, _tile(0, 0), min_visible=0.71) is None


def test_visibility_counts_only_the_area_inside_the_image() -> None:
    # half of this box lies left of the image: inside the image it is whole in the tile, so it is kept
    assert cut_box(HBB(-100, 0, 100, 10), _tile(0, 0), min_visible=0.9) == HBB(0, 0, 100, 10)


def test_obb_inside_a_tile_keeps_its_corners_shifted() -> None:
    diamond = OBB((770, 300, 870, 400, 770, 500, 670, 400))
    out = cut_box(diamond, _tile(600, 0), 0.7)
    assert isinstance(out, OBB) and out.points == (170, 300, 270, 400, 170, 500, 70, 400)


def test_obb_at_a_tile_edge_becomes_the_visible_quad() -> None:
    # a 45-degree square of area 20000 centred at (770, 400); x > 800 cuts a triangle of base 140 and height 70
    # (area 4900), so 15100 / 20000 = 0.755 is visible: the pentagon (770,300) (800,330) (800,470) (770,500)
    # (670,400). Its two shortest edges (42.43 px) tie; either one merges into its midpoint.
    diamond = OBB((770, 300, 870, 400, 770, 500, 670, 400))
    out = cut_box(diamond, _tile(0, 0), 0.7, "polygon_quad")
    options = [
        {(785.0, 315.0), (800.0, 470.0), (770.0, 500.0), (670.0, 400.0)},
        {(770.0, 300.0), (800.0, 330.0), (785.0, 485.0), (670.0, 400.0)},
    ]
    assert _corners(out) in options
    assert cut_box(diamond, _tile(0, 0), 0.76) is None  # 0.755 visible


def test_obb_cut_by_an_edge_as_min_area_rect() -> None:
    # an axis-aligned rectangle given as corners, half outside the left tile
    rect = OBB((700, 100, 900, 100, 900, 200, 700, 200))
    out = cut_box(rect, _tile(0, 0), 0.5, "min_area_rect")
    assert _corners(out) == {(700, 100), (800, 100), (800, 200), (700, 200)}
    quad = cut_box(rect, _tile(0, 0), 0.5, "polygon_quad")
    assert _corners(quad) == {(700, 100), (800, 100), (800, 200), (700, 200)}


def test_polygon_quad_merges_the_shortest_edge() -> None:
    # a 100 x 100 square with its top-right corner cut by a 10 px edge: (0,0) (90,0) (100,10) (100,100) (0,100)
    pentagon = Polygon([(0, 0), (90, 0), (100, 10), (100, 100), (0, 100)])
    assert set(polygon_quad(pentagon)) == {(0, 0), (95, 5), (100, 100), (0, 100)}


def test_scaled_tile_scales_boxes() -> None:
    tile = Tile(400, 0, 1600, 1600, 0.5, 2000, 2000)
    assert cut_box(HBB(500, 100, 700, 300), tile, 0.7) == HBB(50, 50, 150, 150)


def _record(width: int, height: int, objects: list[LabeledBox]) -> DetectionRecord:
    image = ImageRef("dota/train/images/P1.png", width, height, "optical", "GE", bands=1, dtype="uint16")
    return DetectionRecord(id="dota/P1", source="dota", split="train", image=image, objects=tuple(objects))


def test_cut_record_tiles_refer_to_the_untouched_image() -> None:
    record = _record(1400, 800, [LabeledBox("ship", HBB(550, 0, 850, 10)), LabeledBox("car", HBB(10, 10, 20, 20))])
    assert needs_tiling(record, TilingOptions(size=800))
    out, counts = cut_record(record, "P1", TilingOptions(size=800, overlap=200))
    left, right = out
    assert isinstance(left, DetectionRecord) and isinstance(right, DetectionRecord)
    assert left.id == "dota/P1@0_0" and right.id == "dota/P1@600_0"
    assert right.image.tile == Tile(600, 0, 800, 800, 1.0, 1400, 800)
    assert (right.image.width, right.image.height) == (800, 800)
    assert (right.image.path, right.image.bands, right.image.dtype) == ("dota/train/images/P1.png", 1, "uint16")
    assert [o.label for o in left.objects] == ["ship", "car"] and [o.label for o in right.objects] == ["ship"]
    assert counts == {"images_tiled": 1, "tiles": 2, "objects_in_no_tile": 0}


def test_cut_record_skips_empty_tiles_and_counts_lost_objects() -> None:
    # a 1200 px object is at most 700 / 1200 = 0.58 visible in any tile: it is in no tile
    record = _record(1400, 800, [LabeledBox("bridge", HBB(100, 0, 1300, 100))])
    out, counts = cut_record(record, "P1", TilingOptions(size=800, overlap=200))
    assert all(isinstance(s, Skip) and s.item == "P1" for s in out)
    assert [s.reason for s in out if isinstance(s, Skip)] == [
        "tile_without_objects",
        "tile_without_objects",
        "object_larger_than_tile",  # one per lost object, after the tiles
    ]
    lost = out[-1]
    assert isinstance(lost, Skip) and "bridge of 1200x100 source px" in lost.detail and "0.7 visible" in lost.detail
    assert counts["objects_in_no_tile"] == 1 and counts["object_pieces_dropped"] == 2
    kept, _ = cut_record(record, "P1", TilingOptions(size=800, overlap=200, keep_empty=True))
    assert [len(r.objects) for r in kept if isinstance(r, DetectionRecord)] == [0, 0]


def test_small_images_are_not_tiled() -> None:
    assert not needs_tiling(_record(800, 800, []), TilingOptions(size=800))


def test_clip_to_image_cuts_only_boxes_that_leave_the_image() -> None:
    inside = LabeledBox("car", OBB((10, 10, 20, 10, 20, 20, 10, 20)))
    over = LabeledBox("car", OBB((630, 10, 640.5, 10, 640.5, 20, 630, 20)))  # 0.5 px past the right edge
    gone = LabeledBox("car", HBB(700, 10, 720, 20))
    clipped, dropped = clip_to_image(_record(640, 512, [inside, over, gone]), TilingOptions())
    assert dropped == 1
    assert clipped.objects[0] is inside
    assert _corners(clipped.objects[1].box) == {(630, 10), (640, 10), (640, 20), (630, 20)}


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    width=st.integers(801, 3000),
    height=st.integers(100, 3000),
    fx=st.floats(0, 1),
    fy=st.floats(0, 1),
    w=st.floats(1, 200),
    h=st.floats(1, 200),
    turn=st.floats(0, 3.14159),
)
def test_any_object_up_to_the_overlap_is_whole_in_some_tile(
    width: int, height: int, fx: float, fy: float, w: float, h: float, turn: float
) -> None:
    w, h = min(w, width), min(h, height)
    x1, y1 = fx * (width - w), fy * (height - h)
    hbb = HBB(x1, y1, x1 + w, y1 + h)
    cx, cy, r = x1 + w / 2, y1 + h / 2, min(w, h) / 2  # an OBB: a square turned by `turn`, inside the HBB
    corners = [(cx + r * math.cos(turn + k * math.pi / 2), cy + r * math.sin(turn + k * math.pi / 2)) for k in range(4)]
    obb = OBB(tuple(v for xy in corners for v in xy))  # type: ignore[arg-type]
    tiles = tile_windows(width, height, size=800, overlap=200)
    for box in (hbb, obb):
        cuts = [cut_box(box, t, 0.7) for t in tiles]
        whole = [
            c for c, t in zip(cuts, tiles, strict=True) if c is not None and abs(c.area - box.area) < 1e-6 * box.area
        ]
        assert whole, f"{box} is whole in no tile of a {width}x{height} image"
        for c, t in zip(cuts, tiles, strict=True):
            if c is not None:
                xs, ys = c.as_tuple()[0::2], c.as_tuple()[1::2]
                assert (
                    min(xs) >= -1e-6 and min(ys) >= -1e-6 and max(xs) <= t.width + 1e-6 and max(ys) <= t.height + 1e-6
                )
