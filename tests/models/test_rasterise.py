"""Prompts and masks in the model-input geometry: golden maps per kind on padded (non-square) images, the way back."""

from __future__ import annotations

import numpy as np
import pytest

from earthgpt.data.imagery import model_input
from earthgpt.geometry.boxes import HBB, OBB
from earthgpt.geometry.prompts import PromptError, RleMask, VisualPrompt
from earthgpt.models.prompts.rasterise import (
    POINT_RADIUS,
    STROKE_WIDTH,
    mask_to_image,
    rasterise_mask,
    rasterise_prompts,
    to_input,
)


def _one(prompt: VisualPrompt, width: int, height: int, size: int) -> np.ndarray:
    return rasterise_prompts([prompt], width, height, size)[0]


def test_box_is_filled_with_its_exact_coverage_below_the_top_padding() -> None:
    # an 8 x 4 image pads to an 8 x 8 square with 2 rows above; size 8 keeps the scale at 1
    got = _one(VisualPrompt.box(HBB(1, 0, 3.5, 2)), 8, 4, 8)
    want = np.zeros((8, 8), np.float32)
    want[2:4, 1:3] = 1.0
    want[2:4, 3] = 0.5  # x from 3 to 3.5 covers half of column 3
    np.testing.assert_array_equal(got, want)


def test_box_scales_with_the_resize_and_pads_left_on_a_tall_image() -> None:
    # 4 x 8 image: side 8, 2 columns of padding on the left; size 4 halves every length
    got = _one(VisualPrompt.box(HBB(0, 0, 2, 4)), 4, 8, 4)
    want = np.zeros((4, 4), np.float32)
    want[0:2, 1] = 1.0  # x 0..2 -> u 1..2, y 0..4 -> v 0..2
    np.testing.assert_array_equal(got, want)


def test_point_is_a_disc_of_the_documented_radius() -> None:
    got = _one(VisualPrompt.point(40, 20), 80, 40, 80)  # padding 20 rows above: the centre lands on (40, 40)
    assert got[40, 40] == 1.0 and got[40, 40 + int(POINT_RADIUS) + 1] == 0.0 and got[40 - 20, 40] == 0.0
    assert got[36:44, 36:44].sum() == pytest.approx(np.pi * POINT_RADIUS**2, rel=0.05)
    assert got.sum() == got[36:44, 36:44].sum()  # nothing outside the disc's square


def test_polygon_and_obb_are_filled() -> None:
    # a triangle on an 8 x 4 image (2 rows of top padding): interior pixels full, the hypotenuse half covered
    got = _one(VisualPrompt.polygon([(1, 0), (5, 0), (5, 4)]), 8, 4, 8)
    assert got[2, 2:5].tolist() == [1.0, 1.0, 1.0] and got[5, 4] > 0.4 and got[5, 1] == 0.0
    assert got.sum() == pytest.approx(8.0, abs=0.6)  # the triangle's area, 4 * 4 / 2
    # a diamond OBB centred at (20, 10) of a 40 x 20 image: centre full, corners of its box empty, area 2 * 8 * 8 / 2
    diamond = VisualPrompt.obb(OBB((20, 2, 28, 10, 20, 18, 12, 10)))
    got = _one(diamond, 40, 20, 40)  # 10 rows of top padding
    assert got[20, 20] == 1.0 and got[13, 13] == 0.0 and got[27, 27] == 0.0
    assert got.sum() == pytest.approx(128.0, rel=0.03)


def test_scribble_is_a_polyline_of_the_stroke_width() -> None:
    got = _one(VisualPrompt.scribble([[(3, 1), (12, 1)]]), 16, 8, 16)  # 4 rows of padding: the line is at v = 5
    assert STROKE_WIDTH == 3.0
    # v from 3.5 to 6.5: half of row 3, rows 4 and 5, half of row 6; round caps 1.5 px beyond each end
    np.testing.assert_array_equal(got[3:7, 3:12], np.ones((4, 9), np.float32) * [[0.5], [1.0], [1.0], [0.5]])
    assert got[2].sum() == 0 and got[7].sum() == 0 and got[:, 0].sum() == 0 and got[:, 14].sum() == 0
    assert got[5, 1] > 0 and got[5, 13] > 0  # the caps
    dots = _one(VisualPrompt.scribble([[(8, 4)], [(1, 1), (1, 6)]]), 16, 8, 16)  # a one-point stroke is a dot
    assert dots[8, 8] == 1.0 and dots[5:10, 1].min() == 1.0


def test_mask_prompt_is_its_area_coverage() -> None:
    m = np.zeros((4, 8), bool)
    m[1:3, 2:6] = True
    got = _one(VisualPrompt.from_mask(RleMask.from_array(m)), 8, 4, 4)  # halve: each input pixel is 2 x 2 image px
    want = np.zeros((4, 4), np.float32)
    want[1, 1:3] = 0.5  # image rows 1..2 land at input rows 1.5..2.5: half of row 1, half of row 2
    want[2, 1:3] = 0.5
    np.testing.assert_array_equal(got, want)


def test_a_prompt_smaller_than_a_sample_still_marks_its_pixel() -> None:
    tiny = VisualPrompt.box(HBB(1000, 500, 1001, 501))  # 1 px in a 2000 x 1000 frame, 1/100 of an input pixel
    got = _one(tiny, 2000, 1000, 20)
    u, v = to_input(np.array([[1000.5, 500.5]]), 2000, 1000, 20)[0]
    assert got.max() == pytest.approx(1e-4) and got[int(v), int(u)] > 0
    dot = VisualPrompt.polygon([(1000, 500), (1001, 500), (1001, 501)])
    got = _one(dot, 2000, 1000, 20)
    assert got.sum() == 1.0 and got[int(v), int(u)] == 1.0


def test_maps_stack_one_channel_per_prompt_in_order() -> None:
    prompts = [VisualPrompt.point(1, 1), VisualPrompt.box(HBB(4, 4, 8, 8))]
    maps = rasterise_prompts(prompts, 8, 8, 8)
    assert maps.shape == (2, 8, 8) and maps.dtype == np.float32
    assert maps[0, 1, 1] == 1.0 and maps[0, 6, 6] == 0 and maps[1, 6, 6] == 1.0 and maps[1, 1, 1] == 0
    assert rasterise_prompts([], 8, 8, 8).shape == (0, 8, 8)


@pytest.mark.parametrize(
    ("prompt", "match"),
    [
        (VisualPrompt.point(float("nan"), 3), r"<region2> \(point\).*not a finite"),
        (VisualPrompt.point(9, 3), r"<region2> \(point\).*outside the 8x8"),
        (VisualPrompt.scribble([[(1, 1)], []]), r"<region2> \(scribble\).*empty stroke"),
        (VisualPrompt("scribble"), r"<region2> \(scribble\).*empty stroke"),
        (VisualPrompt.polygon([(1, 1), (2, 2)]), r"<region2> \(polygon\).*at least 3"),
    ],
)
def test_bad_prompts_are_named(prompt: VisualPrompt, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        rasterise_prompts([VisualPrompt.point(1, 1), prompt], 8, 8, 8)


def test_mask_targets_are_binary_and_a_tiny_mask_keeps_one_pixel() -> None:
    m = np.zeros((4, 8), bool)
    m[0:3, 1:6] = True
    got = rasterise_mask(RleMask.from_array(m), 4)
    assert set(np.unique(got).tolist()) <= {0.0, 1.0}
    np.testing.assert_array_equal(got[1:3, 1:3], np.ones((2, 2)))  # >= half covered
    assert got[0].sum() == 0 and got[3].sum() == 0
    speck = np.zeros((100, 200), bool)
    speck[50, 100] = True
    assert rasterise_mask(RleMask.from_array(speck), 10).sum() == 1.0


def test_mask_geometry_matches_the_image_model_input() -> None:
    """A bright square drawn in the image and the same square as a mask land on the same input pixels."""
    rgb = np.zeros((60, 100, 3), np.uint8)
    rgb[20:40, 30:60] = 255
    pixels = model_input(rgb, 50)[0]  # [S, S]
    target = rasterise_mask(RleMask.from_array(rgb[:, :, 0] > 0), 50)
    np.testing.assert_array_equal(target > 0, pixels > 0.5)


def test_mask_to_image_undoes_the_resize_and_padding() -> None:
    m = np.zeros((6, 10), bool)  # side 10, 2 rows of padding above
    m[1:5, 2:9] = True
    mask = RleMask.from_array(m)
    logits = rasterise_mask(mask, 10) * 2 - 1  # same scale: the way back is exact
    assert mask_to_image(logits, 10, 6) == mask
    # a disc on a 301 x 200 image through a 64 px input and back: IoU >= 0.95 (the input is 4.7x coarser)
    yy, xx = np.mgrid[:200, :301]
    disc = (xx - 150) ** 2 + (yy - 90) ** 2 < 60**2
    import torch

    back = mask_to_image(torch.from_numpy(rasterise_mask(RleMask.from_array(disc), 64) * 4 - 2), 301, 200)
    got = back.to_array()
    assert got.shape == (200, 301)
    assert (got & disc).sum() / (got | disc).sum() >= 0.95
    assert not mask_to_image(np.full((8, 8), -1.0), 5, 3).to_array().any()
    with pytest.raises(ValueError, match="square"):
        mask_to_image(np.zeros((4, 5)), 5, 4)


def test_mask_to_image_follows_the_pixels_pil_resizes() -> None:
    """Logits that are the resized image itself map back onto the image's bright pixels (geometry agreement)."""
    rgb = np.zeros((40, 90, 3), np.uint8)
    rgb[10:30, 20:70] = 255
    logits = model_input(rgb, 45)[0] - 0.5  # [45, 45]
    back = mask_to_image(logits, 90, 40).to_array()
    truth = rgb[:, :, 0] > 0
    assert (back & truth).sum() / (back | truth).sum() >= 0.9
