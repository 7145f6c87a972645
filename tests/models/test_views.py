"""View plans: parsing, the windows of each plan, the pixels of every view, and what zooming in buys a small object."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from earthgpt.data.imagery import load_image, model_input
from earthgpt.data.records import ImageRef, Tile
from earthgpt.geometry.boxes import HBB
from earthgpt.geometry.prompts import PromptError, VisualPrompt
from earthgpt.models.views import MIN_REGION_SIDE, ViewPlan, plan_views, view_pixels


def test_parse_the_three_plans_and_name_a_bad_one() -> None:
    assert ViewPlan.parse("global") == ViewPlan() and ViewPlan.parse("") == ViewPlan()
    assert ViewPlan.parse("", default="grid:2") == ViewPlan("grid", 2)
    assert ViewPlan.parse(" Grid:3 ").num_views == 10 and str(ViewPlan.parse("grid:3")) == "grid:3"
    assert ViewPlan.parse("region:2") == ViewPlan("region", 2) and ViewPlan.parse("region:2").num_views == 2
    for bad in ("zoom", "grid:1", "grid:9", "grid:x", "region:0", "region"):
        with pytest.raises(ValueError, match=f"view plan '{bad}' is not one of"):
            ViewPlan.parse(bad)


def test_grid_windows_tile_the_image_row_major() -> None:
    windows = plan_views(ViewPlan("grid", 2), 10, 7, [])
    assert windows == [(0, 0, 10, 7), (0, 0, 5, 4), (5, 0, 5, 4), (0, 4, 5, 3), (5, 4, 5, 3)]
    assert plan_views(ViewPlan(), 10, 7, []) == [(0, 0, 10, 7)]


def test_region_window_is_a_square_with_context_kept_inside_the_image() -> None:
    box = VisualPrompt.box(HBB(100, 100, 140, 120))  # 40 px long side -> an 80 px square centred on (120, 110)
    assert plan_views(ViewPlan("region", 1), 500, 400, [box]) == [(0, 0, 500, 400), (80, 70, 80, 80)]
    corner = VisualPrompt.point(2, 398)  # no extent: the smallest crop, moved inside the frame
    assert plan_views(ViewPlan("region", 2), 500, 400, [box, corner])[1] == (0, 400 - 64, 64, 64)
    assert MIN_REGION_SIDE == 64
    assert plan_views(ViewPlan("region", 1), 30, 20, [corner.__class__.point(5, 5)])[1] == (0, 0, 30, 20)
    with pytest.raises(PromptError, match=r"zooms into <region2> but only 1 prompts"):
        plan_views(ViewPlan("region", 2), 500, 400, [box])
    with pytest.raises(PromptError, match=r"<region1> \(point\).*outside"):
        plan_views(ViewPlan("region", 1), 500, 400, [VisualPrompt.point(600, 1)])


def test_a_small_object_covers_more_visual_tokens_zoomed_in() -> None:
    """A 12 px object in a 2000 px frame: its area in input pixels over the patch area, per view."""
    size, patch = 160, 16  # the tiny encoder: 160 px input, 16 px patches
    frame = np.zeros((1500, 2000, 3), np.uint8)
    frame[300:312, 1500:1512] = 255
    prompt = VisualPrompt.box(HBB(1500, 300, 1512, 312))
    tokens = {}
    for plan in ("global", "region:1", "grid:4"):
        windows = plan_views(ViewPlan.parse(plan), 2000, 1500, [prompt])
        pixels = view_pixels(frame, windows, size)  # [V, 3, S, S]
        assert pixels.shape == (len(windows), 3, size, size)
        tokens[plan] = float(pixels[:, 0].sum(axis=(1, 2)).max()) / patch**2  # the view that sees it best
    assert tokens["global"] == pytest.approx((12 * size / 2000) ** 2 / patch**2, rel=0.15)  # ~0.004 tokens
    assert tokens["grid:4"] > 10 * tokens["global"]  # 500 px tiles: 4x the scale, 16x the area
    assert tokens["region:1"] > 1.0 > tokens["grid:4"]  # a 64 px crop: 30 input px across, several tokens


def test_views_of_a_file_equal_the_views_of_its_pixels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (90, 120, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    ref = ImageRef(path="a.png", width=120, height=90)
    windows = plan_views(ViewPlan("grid", 2), 120, 90, [])
    from_file = view_pixels(ref, windows, 32, tmp_path)
    np.testing.assert_array_equal(from_file, view_pixels(rgb, windows, 32))
    np.testing.assert_array_equal(from_file[0], model_input(load_image(ref, tmp_path, max_side=32), 32))


def test_views_of_a_tiff_tile_are_read_by_window(tmp_path: Path) -> None:
    import tifffile

    rng = np.random.default_rng(1)
    raster = rng.integers(0, 65535, (200, 300), dtype=np.uint16)  # a 16-bit single-band scene
    tifffile.imwrite(tmp_path / "s.tif", raster)
    tile = Tile(x=100, y=50, width=120, height=80)
    ref = ImageRef(path="s.tif", width=120, height=80, bands=1, dtype="uint16", tile=tile)
    window = (20, 10, 40, 40)
    got = view_pixels(ref, [window], 40, tmp_path)[0]
    from earthgpt.data.imagery import to_rgb8

    want = model_input(to_rgb8(raster[60:100, 120:160]), 40)  # the window in file pixels, stretched on its own
    np.testing.assert_array_equal(got, want)
