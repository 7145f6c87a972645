"""Object masks of records: reading (RLE, polygons), the bad-mask reasons, tile crops, prompts sampled inside."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as coco_mask

from earthgpt.data.masks import (
    MaskError,
    box_mask,
    crop_mask,
    mask_from_polygons,
    mask_from_rle,
    point_in_mask,
    sample_point,
    sample_scribble,
)
from earthgpt.data.records import DetectionRecord, ImageRef, Tile, record_from_dict, record_to_dict
from earthgpt.geometry import HBB, LabeledBox
from earthgpt.geometry.prompts import RleMask


def test_polygons_rasterise_as_pycocotools_does_on_real_hrsid_polygons(data_root: Path) -> None:
    path = data_root / "hrsid_modified_coco/subset_offshore_train_30imgs.json"
    anns = json.loads(path.read_text())["annotations"]
    for ann in anns[:10]:
        ours = mask_from_polygons(ann["segmentation"], 800, 800).to_array()
        ref = coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects(ann["segmentation"], 800, 800)))
        assert np.array_equal(ours, ref.astype(bool))
        assert ours.any()


def test_bad_masks_raise_their_named_reason() -> None:
    bow_tie = [[0, 0, 10, 10, 10, 0, 0, 10]]  # edges cross
    with pytest.raises(MaskError) as e:
        mask_from_polygons(bow_tie, 20, 20)
    assert e.value.reason == "self_intersecting_polygon"
    empty = RleMask.from_array(np.zeros((4, 5), bool)).to_dict()
    with pytest.raises(MaskError) as e:
        mask_from_rle(empty, 4, 5)
    assert e.value.reason == "empty_mask"
    one = RleMask.from_array(np.ones((4, 5), bool)).to_dict()
    with pytest.raises(MaskError) as e:
        mask_from_rle(one, 5, 4)
    assert e.value.reason == "mask_size_mismatch"
    with pytest.raises(MaskError) as e:
        mask_from_rle({"counts": [3, 2]}, 4, 5)
    assert e.value.reason == "malformed_mask"
    # a ring that only touches itself at a vertex (real HRSID edge polygons) is kept
    touching = [[0, 0, 6, 0, 6, 6, 3, 6, 3, 3, 3, 6, 0, 6]]
    assert mask_from_polygons(touching, 10, 10).to_array().any()


def test_crop_with_offset_and_scale_by_hand() -> None:
    full = np.zeros((6, 8), bool)
    full[1:3, 2:6] = True  # rows 1-2, cols 2-5
    tile = Tile(x=4, y=0, width=4, height=4, scale=1.0, source_width=8, source_height=6)
    crop = crop_mask(RleMask.from_array(full), tile)
    assert crop is not None
    expected = np.zeros((4, 4), bool)
    expected[1:3, 0:2] = True
    assert np.array_equal(crop.to_array(), expected)
    assert crop_mask(RleMask.from_array(full), Tile(0, 4, 4, 2, 1.0, 8, 6)) is None
    half = crop_mask(RleMask.from_array(full), Tile(0, 0, 8, 6, 0.5, 8, 6))  # 4x3 output, nearest pixel centres
    assert half is not None and (half.height, half.width) == (3, 4)
    assert np.array_equal(half.to_array(), full[[1, 3, 5]][:, [1, 3, 5, 7]])


def test_points_and_scribbles_lie_inside_the_mask_and_repeat_with_the_seed() -> None:
    arr = np.zeros((40, 40), bool)
    arr[10:20, 5:35] = True
    arr[20:30, 5:10] = True  # an L shape: its box holds pixels outside the mask
    mask = RleMask.from_array(arr)
    box = HBB(5, 10, 35, 30)
    for seed in range(20):
        x, y = sample_point(mask, box, random.Random(seed))
        assert point_in_mask(mask, x, y)
        for sx, sy in sample_scribble(mask, box, random.Random(seed)):
            assert point_in_mask(mask, sx, sy)
    assert sample_point(mask, box, random.Random(3)) == sample_point(mask, box, random.Random(3))
    x, y = sample_point(None, box, random.Random(0))  # no mask: inside the middle half of the box
    assert 12.5 <= x <= 27.5 and 15 <= y <= 25


def test_weak_box_mask_covers_the_box_pixels() -> None:
    m = box_mask(HBB(2, 3, 6, 5), 8, 8).to_array()
    assert m.sum() == 8 and m[3:5, 2:6].all()


def test_detection_record_round_trips_its_masks_and_old_records_load() -> None:
    image = ImageRef("a.png", 8, 6)
    arr = np.zeros((6, 8), bool)
    arr[1, 1] = True
    objects = (LabeledBox("ship", HBB(1, 1, 2, 2)), LabeledBox("ship", HBB(3, 3, 5, 5)))
    rec = DetectionRecord("r", "s", "train", image, objects=objects, masks=(RleMask.from_array(arr), None))
    d = json.loads(json.dumps(record_to_dict(rec)))
    assert record_from_dict(d) == rec
    del d["masks"]
    assert record_from_dict(d).masks == ()
    with pytest.raises(ValueError, match="one each"):
        DetectionRecord("r", "s", "train", image, objects=objects, masks=(None,))


def test_union_equals_the_pixel_or() -> None:
    from earthgpt.data.masks import union_mask

    rng = np.random.default_rng(0)
    arrays = [rng.random((7, 9)) > 0.7 for _ in range(3)]
    union = union_mask([RleMask.from_array(a) for a in arrays])
    assert np.array_equal(union.to_array(), arrays[0] | arrays[1] | arrays[2])
