"""Structured output: the answer's boxes back in image pixels (by hand), masks as RLE + rings, GeoJSON through the
image's own affine transform (checked against rasterio)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from earthgpt.geometry import HBB
from earthgpt.geometry.prompts import RleMask
from earthgpt.inference.output import Generation
from earthgpt.serving.images import InputImage
from earthgpt.serving.structured import answer_boxes, mask_polygons, structured_output

TRANSFORM = (10.0, 0.0, 500000.0, 0.0, -10.0, 4200000.0)  # 10 m pixels, north up


def _image(width: int = 200, height: int = 100, crs: str | None = None) -> InputImage:
    transform = TRANSFORM if crs else None
    return InputImage(np.zeros((height, width, 3), np.uint8), width, height, crs, transform)


def test_boxes_are_denormalised_from_the_centred_square_to_pixels() -> None:
    # 200 x 100: side 200, the image sits 50 px down in the square. x = 200 u, y = 200 v - 50.
    text = "ship [0.100,0.300,0.500,0.600]; harbour [0.1,0.3,0.5,0.3,0.5,0.6,0.1,0.6]"
    boxes = answer_boxes(Generation(text), 200, 100)
    assert [b.label for b in boxes] == ["ship", "harbour"]
    assert boxes[0].box.as_tuple() == pytest.approx((20, 10, 100, 70))
    assert boxes[1].box.as_tuple() == pytest.approx((20, 10, 100, 10, 100, 70, 20, 70))
    assert [b.score for b in boxes] == [1.0, 0.5]  # no token log-probs: the rank fallback 1 / (1 + i)


def test_box_scores_are_the_model_token_probabilities() -> None:
    text = "ship [0.1,0.3,0.5,0.6]"
    gen = Generation(text, token_logprobs=[-0.5, -1.5], token_spans=[(0, 4), (4, len(text))])
    (box,) = answer_boxes(gen, 200, 100)
    assert box.score == pytest.approx(math.exp(-1.0))


def test_mask_rings_in_pixels_and_map_coordinates() -> None:
    arr = np.zeros((6, 8), bool)
    arr[1:4, 2:6] = True
    mask = RleMask.from_array(arr)
    (ring,) = mask_polygons(mask)
    xs, ys = {p[0] for p in ring}, {p[1] for p in ring}
    assert (xs, ys) == ({2.0, 6.0}, {1.0, 4.0})
    (mapped,) = mask_polygons(mask, TRANSFORM)
    assert {p[0] for p in mapped} == {500020.0, 500060.0} and {p[1] for p in mapped} == {4199990.0, 4199960.0}


def test_geojson_for_a_georeferenced_image_uses_its_transform() -> None:
    from rasterio.transform import Affine

    arr = np.zeros((100, 200), bool)
    arr[10:20, 30:50] = True
    gen = Generation("ship [0.100,0.300,0.500,0.600]", masks=[RleMask.from_array(arr)])
    out = structured_output(gen, _image(crs="EPSG:32633"))
    assert out.crs == "EPSG:32633" and out.geojson is not None
    box_feature, mask_feature = out.geojson["features"]
    ring = box_feature["geometry"]["coordinates"][0]
    affine = Affine(*TRANSFORM)
    assert ring[0] == pytest.approx(list(affine @ (20, 10)))
    assert ring[2] == pytest.approx(list(affine @ (100, 70)))
    assert mask_feature["properties"] == {"kind": "mask", "mask_index": 0}
    assert out.masks[0].rle == {"size": [100, 200], "counts": gen.masks[0].counts}  # type: ignore[index]
    assert sorted(out.masks[0].polygons[0][0::2]) == [30.0, 30.0, 30.0, 50.0, 50.0]


def test_a_plain_image_gets_pixels_and_no_geojson() -> None:
    out = structured_output(Generation("nothing to see"), _image())
    assert out.geojson is None and out.boxes == [] and (out.width, out.height) == (200, 100)


def test_prompts_and_masks_follow_a_decimated_view() -> None:
    from earthgpt.geometry.prompts import VisualPrompt
    from earthgpt.serving.completions import scale_prompt
    from earthgpt.serving.structured import resize_mask

    box = scale_prompt(VisualPrompt.box(HBB(100, 40, 300, 80)), 0.25, 0.5)
    assert box.points == ((25, 20), (75, 40))
    arr = np.zeros((4, 8), bool)
    arr[0:2, 2:4] = True
    small = scale_prompt(VisualPrompt.from_mask(RleMask.from_array(arr)), 0.5, 0.5)
    assert small.mask is not None and small.mask.to_array().tolist() == [[False, True, False, False], [False] * 4]
    back = resize_mask(small.mask, 8, 4).to_array()
    assert back[0:2, 2:4].all() and back.sum() == 4
