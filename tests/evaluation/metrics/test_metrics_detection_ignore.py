"""AP over every image, with difficult objects and class-agnostic ignore regions: by hand and against pycocotools."""

from __future__ import annotations

import numpy as np
import pytest

from earthgpt.evaluation.metrics.detection import detection_ap, detection_scores
from earthgpt.geometry import HBB, LabeledBox
from earthgpt.geometry.iou import ioa_matrix

from .detection_reference import coco_reference_ap


def _box(x: float, y: float, w: float, h: float, label: str = "car", score: float | None = None) -> LabeledBox:
    return LabeledBox(label, HBB(x, y, x + w, y + h), score)


def test_false_positives_on_an_image_without_ground_truth_count() -> None:
    gts = [[_box(0, 0, 10, 10)], []]
    preds = [[_box(0, 0, 10, 10, score=0.9)], [_box(50, 50, 10, 10, score=0.95)]]
    # ranked: FP (the empty image), TP -> precision 0, 1/2 at recall 0, 1 -> AP 0.5
    assert detection_scores(preds, gts).per_class["car"].ap == pytest.approx(0.5)
    assert detection_scores(preds[:1], gts[:1]).per_class["car"].ap == pytest.approx(1.0)


def test_a_prediction_inside_an_ignore_region_is_neither_tp_nor_fp() -> None:
    gts = [[_box(0, 0, 10, 10)]]
    region = [[HBB(100, 100, 200, 200)]]
    # a small box wholly inside the region: IoU with it is 0.01, but 100% of the box lies inside
    preds = [[_box(0, 0, 10, 10, score=0.5), _box(120, 120, 10, 10, "person", 0.9), _box(190, 190, 20, 20, score=0.8)]]
    plain = detection_scores(preds, gts, classes=["car", "person"])
    ignored = detection_scores(preds, gts, ignore_regions=region, classes=["car", "person"])
    # without regions: car ranked FP (0.8, a quarter inside), TP -> 0.5; with: the quarter (IoA 0.25 < 0.5) stays FP
    assert plain.per_class["car"].ap == pytest.approx(0.5)
    assert ignored.per_class["car"].ap == pytest.approx(0.5)
    assert ignored.per_class["person"].num_predictions == 1 and ignored.per_class["person"].recall.size == 0
    # the quarter-inside box is ignored at IoA threshold 0.25
    low = detection_ap(preds, gts, iou_thresholds=(0.25,), ignore_regions=region, classes=["car"])
    assert low[0.25].per_class["car"].ap == pytest.approx(1.0)


def test_a_region_absorbs_any_number_of_predictions_a_difficult_object_one() -> None:
    gts = [[_box(0, 0, 10, 10), _box(50, 0, 10, 10)]]
    preds = [[_box(0, 0, 10, 10, score=0.5), _box(50, 0, 10, 10, score=0.9), _box(50, 0, 10, 10, score=0.8)]]
    voc = detection_scores(preds, gts, difficult=[[False, True]])
    assert voc.per_class["car"].ap == pytest.approx(1.0)  # VOC: every match of a difficult object is ignored
    coco = detection_scores(preds, gts, difficult=[[False, True]], matching="coco", interpolation="coco-101")
    assert coco.per_class["car"].ap == pytest.approx(0.5, abs=0.01)  # COCO: the second match is an FP
    regions = [[HBB(45, -5, 65, 15)]]
    both = detection_scores(preds, [gts[0][:1]], ignore_regions=regions, matching="coco", interpolation="coco-101")
    assert both.per_class["car"].ap == pytest.approx(1.0)


def test_ioa_is_intersection_over_the_prediction_area() -> None:
    got = ioa_matrix([HBB(0, 0, 10, 10), HBB(0, 0, 0, 10)], [HBB(5, 0, 100, 100), HBB(20, 20, 30, 30)])
    assert got.tolist() == [[0.5, 0.0], [0.0, 0.0]]


def _random_case(seed: int) -> tuple[list, list, list, list]:
    """Images with objects left of x=400 (some difficult), ignore regions right of x=500, none in some images."""
    rng = np.random.default_rng(seed)
    preds, gts, hard, regions = [], [], [], []
    for i in range(40):
        g, p, d, r = [], [], [], []
        for _ in range(0 if i % 5 == 0 else int(rng.integers(1, 6))):
            x, y, w, h = (int(v) for v in (*rng.integers(0, 340, 2), *rng.integers(10, 50, 2)))
            lab = ("car", "person")[int(rng.integers(2))]
            g.append(_box(x, y, w, h, lab))
            d.append(bool(rng.random() < 0.25))
            for _ in range(int(rng.integers(0, 3))):
                j = rng.integers(-6, 7, 4)
                p.append(_box(x + j[0], y + j[1], w + j[2], h + j[3], lab, float(rng.random())))
        if rng.random() < 0.5:
            x, y = (int(v) for v in rng.integers(500, 700, 2))
            r.append(HBB(x, y, x + 80, y + 80))
            for _ in range(int(rng.integers(1, 4))):  # predictions in the region, some sticking out
                a, b = (int(v) for v in rng.integers(-10, 70, 2))
                p.append(_box(x + a, y + b, 20, 20, ("car", "person")[int(rng.integers(2))], float(rng.random())))
        for _ in range(int(rng.integers(0, 2))):  # plain false positives anywhere
            a, b = (int(v) for v in rng.integers(0, 700, 2))
            p.append(_box(a, b, 25, 25, "car", float(rng.random())))
        preds.append(p)
        gts.append(g)
        hard.append(d)
        regions.append(r)
    return preds, gts, hard, regions


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_difficult_regions_and_empty_images_equal_pycocotools(seed: int) -> None:
    preds, gts, hard, regions = _random_case(seed)
    ours = detection_ap(
        preds,
        gts,
        iou_thresholds=(0.4, 0.5),
        difficult=hard,
        ignore_regions=regions,
        matching="coco",
        interpolation="coco-101",
    )
    ref = coco_reference_ap(preds, gts, ("car", "person"), (0.4, 0.5), difficult=hard, regions=regions)
    for t in (0.4, 0.5):
        for lab, want in ref[t].items():
            got = ours[t].per_class[lab].ap
            assert want is not None and got == pytest.approx(want, abs=1e-12), (t, lab)
