"""Mask metrics by hand, the empty and size-mismatch rules, and equality with pycocotools on random and real masks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as coco_mask

from earthgpt.evaluation.metrics.masks import mask_iou, mask_runs, mask_scores
from earthgpt.geometry.masks import decode_rle_counts
from tests.rle_by_hand import coco_counts


def _box(h: int, w: int, rows: slice, cols: slice) -> np.ndarray:
    m = np.zeros((h, w), dtype=np.uint8)
    m[rows, cols] = 1
    return m


def _rle(m: np.ndarray) -> dict:
    return coco_mask.encode(np.asfortranarray(m.astype(np.uint8)))


def test_by_hand() -> None:
    gts = [_box(4, 4, slice(0, 2), slice(0, 2)), _box(4, 4, slice(0, 1), slice(0, 4))]
    gts += [_box(4, 4, slice(3, 4), slice(3, 4)), _box(4, 4, slice(2, 4), slice(0, 4))]
    preds = [_box(4, 4, slice(0, 2), slice(0, 3)), gts[1].copy(), None, _box(4, 4, slice(3, 4), slice(0, 4))]
    # I / U per object: 4/6, 4/4, 0/1 (unparsed), 4/8
    s = mask_scores(preds, gts)
    np.testing.assert_array_equal(s.intersections, [4, 4, 0, 4])
    np.testing.assert_array_equal(s.unions, [6, 4, 1, 8])
    assert s.giou == pytest.approx((2 / 3 + 1 + 0 + 0.5) / 4)
    assert s.ciou == pytest.approx(12 / 19)
    assert s.miou == s.ciou  # one class
    assert s.precision_at == pytest.approx({0.5: 0.75, 0.6: 0.5, 0.7: 0.25, 0.8: 0.25, 0.9: 0.25})
    assert s.num_unparsed == 1 and s.num_empty_targets == 0
    by_class = mask_scores(preds, gts, classes=["ship", "ship", "tank", "tank"])
    assert by_class.miou == pytest.approx((8 / 10 + 4 / 9) / 2)


def test_every_form_gives_the_same_iou() -> None:
    target = _box(5, 6, slice(1, 4), slice(1, 5))  # 12 px
    pred = _box(5, 6, slice(2, 5), slice(0, 3))  # 9 px, I = 2 rows x 2 cols = 4
    as_counts = {"size": [5, 6], "counts": coco_counts(pred)}
    forms = [pred, _rle(pred), {**_rle(pred), "counts": _rle(pred)["counts"].decode()}, as_counts]
    for form in forms:
        assert mask_iou(form, target) == pytest.approx(4 / 17)
    square = [[0.0, 2.0, 3.0, 2.0, 3.0, 5.0, 0.0, 5.0]]
    ref = coco_mask.merge(coco_mask.frPyObjects(square, 5, 6))
    assert mask_runs(square, (5, 6)).area == coco_mask.area(ref) == 9  # 3 x 3 pixels by hand
    assert mask_iou(square, _rle(target), (5, 6)) == coco_mask.iou([ref], [_rle(target)], [0])[0, 0]


def test_uncompressed_rle_by_hand() -> None:
    # 2x2, column-major 0,1,1,0 -> [[0, 1], [1, 0]]
    diagonal = np.array([[0, 1], [1, 0]])
    assert mask_iou({"size": [2, 2], "counts": [1, 2, 1]}, diagonal) == 1.0
    assert mask_iou({"size": [2, 2], "counts": [0, 1, 3]}, diagonal) == 0.0  # only pixel (0, 0)
    assert mask_runs({"size": [2, 2], "counts": [0, 4]}).area == 4


def test_compressed_text_matches_pycocotools() -> None:
    rng = np.random.default_rng(3)
    m = rng.random((37, 23)) < 0.4
    rle = _rle(m)
    np.testing.assert_array_equal(decode_rle_counts(rle["counts"]), coco_counts(m.astype(np.uint8)))
    with pytest.raises(ValueError, match="not COCO compressed"):
        decode_rle_counts("ab ")
    with pytest.raises(ValueError, match="cut"):
        decode_rle_counts("o")  # 'o' - 48 = 63: the continuation bit is set and nothing follows


def test_empty_rule() -> None:
    empty = np.zeros((3, 3))
    one = _box(3, 3, slice(0, 1), slice(0, 1))
    s = mask_scores([empty, one, None], [empty, empty, one])
    np.testing.assert_array_equal(s.ious, [1.0, 0.0, 0.0])  # both empty = 1, an empty target hit by pixels = 0
    np.testing.assert_array_equal(s.unions, [0, 1, 1])
    assert s.num_empty_targets == 2 and s.ciou == 0.0 and s.giou == pytest.approx(1 / 3)
    assert coco_mask.iou([_rle(empty)], [_rle(empty)], [0])[0, 0] == 0.0  # where pycocotools differs
    assert mask_scores([empty], [empty]).ciou == 1.0


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match=r"prediction 1: mask size \(4, 4\).*\(3, 3\)"):
        mask_scores([np.zeros((3, 3)), np.zeros((4, 4))], [np.zeros((3, 3)), np.zeros((3, 3))])
    with pytest.raises(ValueError, match="target 0: RLE counts sum to 3"):
        mask_scores([None], [{"size": [2, 2], "counts": [1, 2]}])
    with pytest.raises(ValueError, match=r"prediction 0: RLE counts must be .* in 0\.\.height\*width"):
        mask_scores([{"size": [2, 2], "counts": [9, -5]}], [np.zeros((2, 2))])  # sums to 4, runs impossible
    with pytest.raises(ValueError, match="target 0: RLE 'size' must be"):
        mask_scores([None], [{"size": [2], "counts": [4]}])
    with pytest.raises(ValueError, match="prediction 0: RLE counts must be COCO text"):
        mask_scores([{"size": [2, 2], "counts": [1.5, 2.5]}], [np.zeros((2, 2))])
    with pytest.raises(ValueError, match="target 0: polygons carry no image size"):
        mask_scores([None], [[[0, 0, 1, 0, 1, 1]]])
    with pytest.raises(ValueError, match="polygon 0 has 4 coordinates"):
        mask_runs([[0, 0, 1, 1]], (3, 3))
    with pytest.raises(ValueError, match="2 predictions but 1 targets"):
        mask_scores([None, None], [np.zeros((2, 2))])


def test_random_masks_equal_pycocotools() -> None:
    rng = np.random.default_rng(0)
    preds, gts = [], []
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 60, 2))
        preds.append(_rle(rng.random((h, w)) < rng.random()))
        gts.append(_rle(rng.random((h, w)) < rng.random()))
    s = mask_scores(preds, gts)
    for i, (p, g) in enumerate(zip(preds, gts, strict=True)):
        ref = coco_mask.iou([p], [g], [0])[0, 0]
        both_empty = coco_mask.area(p) == 0 and coco_mask.area(g) == 0
        assert s.ious[i] == (1.0 if both_empty else ref)
        assert s.intersections[i] == coco_mask.area(coco_mask.merge([p, g], intersect=True))


def test_sen2ships_rle_equal_pycocotools(data_root: Path) -> None:
    doc = json.loads((data_root / "sen2ships/sen2ships/coco_annotations.json").read_text(encoding="utf-8"))
    targets, preds, refs = [], [], []
    for ann in doc["annotations"][:150]:
        seg = ann["segmentation"]  # uncompressed RLE
        h, w = seg["size"]
        m = coco_mask.decode(coco_mask.frPyObjects(seg, h, w))
        shifted = np.roll(m, (ann["id"] % 3, 1 + ann["id"] % 2), axis=(0, 1))  # a ship found a pixel or two off
        targets.append(seg)
        preds.append(shifted)
        refs.append(coco_mask.iou([_rle(shifted)], [coco_mask.frPyObjects(seg, h, w)], [0])[0, 0])
    s = mask_scores(preds, targets)
    np.testing.assert_array_equal(s.ious, refs)
    assert 0.05 < s.giou < 0.9  # real overlaps, neither all hits nor all misses


def test_hrsid_polygons_equal_pycocotools(data_root: Path) -> None:
    doc = json.loads((data_root / "hrsid_modified_coco/subset_offshore_train_30imgs.json").read_text(encoding="utf-8"))
    sizes = {im["id"]: (im["height"], im["width"]) for im in doc["images"]}
    targets, preds, refs = [], [], []
    for ann in doc["annotations"]:
        h, w = sizes[ann["image_id"]]
        gt = coco_mask.merge(coco_mask.frPyObjects(ann["segmentation"], h, w))  # compressed RLE
        moved = [[v + (3 if k % 2 == 0 else 2) for k, v in enumerate(p)] for p in ann["segmentation"]]
        targets.append(gt)
        preds.append(moved)  # polygons, rasterised at the target's size
        refs.append(coco_mask.iou([coco_mask.merge(coco_mask.frPyObjects(moved, h, w))], [gt], [0])[0, 0])
    s = mask_scores(preds, targets)
    assert len(refs) == 45
    np.testing.assert_array_equal(s.ious, refs)


def test_hrsid_mini_png_masks_equal_pycocotools(data_root: Path) -> None:
    """Whole-tile SAR ship masks (800x800 PNG, ships green) as arrays, predictions as compressed RLE."""
    paths = sorted((data_root / "hrsid_mini/mini_test/masks").glob("*.png"))
    targets = [(np.asarray(Image.open(p).convert("RGB"))[..., 1] > 127).astype(np.uint8) for p in paths]
    preds = [_rle(np.roll(t, (k % 4, 2), axis=(0, 1))) for k, t in enumerate(targets)]
    s = mask_scores(preds, targets)
    refs = [coco_mask.iou([p], [_rle(t)], [0])[0, 0] for p, t in zip(preds, targets, strict=True)]
    assert len(paths) == 36
    np.testing.assert_array_equal(s.ious, refs)
    inter = sum(
        int(coco_mask.area(coco_mask.merge([p, _rle(t)], intersect=True))) for p, t in zip(preds, targets, strict=True)
    )
    union = sum(int(coco_mask.area(coco_mask.merge([p, _rle(t)]))) for p, t in zip(preds, targets, strict=True))
    assert s.ciou == pytest.approx(inter / union, abs=1e-15)
