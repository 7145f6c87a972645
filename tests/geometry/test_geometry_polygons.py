"""Boxes as areas and masks as boxes: hand-computed cases, and shapely / pycocotools on the same inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from shapely.geometry import MultiPoint, Polygon

from earthgpt.geometry import HBB, OBB
from earthgpt.geometry.masks import mask_hbb, mask_obb, rle_mask, rle_pixels
from earthgpt.geometry.polygons import (
    clamped_min_area_rect,
    enclosing_hbb,
    hull_polygon,
    min_area_obb,
    polygon_quad,
)
from tests.rle_by_hand import coco_counts


def test_the_hull_of_a_bow_tie_is_the_rectangle_it_spans() -> None:
    bow_tie = OBB((0, 0, 10, 10, 10, 0, 0, 10))  # corners out of cyclic order
    poly = hull_polygon(bow_tie)
    assert poly is not None and poly.area == 100.0
    assert hull_polygon(HBB(1, 2, 4, 8)).area == 18.0  # type: ignore[union-attr]
    assert hull_polygon(HBB(4, 2, 4, 8)) is None
    assert hull_polygon(OBB((0, 0, 5, 5, 10, 10, 2, 2))) is None  # collinear: no area
    assert hull_polygon(HBB(0, 0, math.nan, 1)) is None


def test_a_pentagon_becomes_four_corners_inside_it() -> None:
    pentagon = Polygon([(0, 0), (90, 0), (100, 10), (100, 100), (0, 100)])
    quad = polygon_quad(pentagon)
    assert len(quad) == 4 and (95.0, 5.0) in quad  # the shortest edge merged into its midpoint
    assert Polygon(quad).area < pentagon.area and pentagon.buffer(1e-9).covers(MultiPoint(quad))


def test_the_clamped_rectangle_of_a_diamond() -> None:
    diamond = Polygon([(50, 0), (100, 50), (50, 100), (0, 50)])
    corners = clamped_min_area_rect(diamond, (0.0, 0.0, 60.0, 100.0))
    assert Polygon(corners).is_valid
    got = sorted((round(x, 9), round(y, 9)) for x, y in corners)
    assert got == sorted([(50.0, 0.0), (60.0, 50.0), (50.0, 100.0), (0.0, 50.0)])  # (100, 50) clamped to x = 60


@pytest.mark.parametrize("seed", range(20))
def test_min_area_obb_equals_shapely_on_random_points(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-50, 150, size=(int(rng.integers(3, 40)), 2))
    obb = min_area_obb(pts)
    reference = MultiPoint([tuple(p) for p in pts]).minimum_rotated_rectangle
    assert Polygon(obb.corners()).area == pytest.approx(reference.area, rel=1e-9)
    assert Polygon(obb.corners()).buffer(1e-6).covers(MultiPoint([tuple(p) for p in pts]))


def test_points_without_area_have_no_rectangle() -> None:
    with pytest.raises(ValueError, match="span no area"):
        min_area_obb([(0, 0), (1, 1), (2, 2)])
    with pytest.raises(ValueError, match="NaN"):
        min_area_obb([(0, 0), (1, math.nan), (2, 0)])


def test_enclosing_hbb() -> None:
    assert enclosing_hbb(OBB((5, 0, 10, 5, 5, 10, 0, 5))) == HBB(0, 0, 10, 10)
    assert enclosing_hbb(HBB(1, 2, 3, 4)) == HBB(1, 2, 3, 4)


def test_mask_boxes_by_hand() -> None:
    rows, cols = np.array([2, 2, 3]), np.array([5, 6, 6])
    assert mask_hbb(rows, cols) == HBB(5, 2, 7, 4)  # pixel (r, c) covers [c, c+1] x [r, r+1]
    obb = mask_obb(rows, cols)
    assert Polygon(obb.corners()).area == pytest.approx(4.0)  # the 2 x 2 px square around the L
    with pytest.raises(ValueError, match="empty"):
        mask_hbb(np.zeros(0, int), np.zeros(0, int))


@pytest.mark.parametrize("seed", range(5))
def test_rle_runs_decode_as_pycocotools_does(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w = 7, 11
    mask = (rng.random((h, w)) < 0.3).astype(np.uint8)
    rle = {"counts": coco_counts(mask), "size": [h, w]}
    rows, cols = rle_pixels(rle, h, w)
    expected = mask_utils.decode(mask_utils.frPyObjects(rle, h, w))
    assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == sorted(zip(*np.nonzero(expected), strict=True))
    assert np.array_equal(rle_mask(rle, h, w), expected)
    compressed = mask_utils.encode(np.asfortranarray(mask))
    assert np.array_equal(rle_mask(compressed, h, w), mask)
    with pytest.raises(ValueError, match="sum to"):
        rle_pixels({"counts": [*rle["counts"], 3], "size": [h, w]}, h, w)
