"""Detection AP: hand-computed cases, a devkit-style VOC reference, pycocotools, real HIT-UAV boxes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earthgpt.evaluation.metrics.detection import DetectionScores, average_precision, detection_ap, detection_scores
from earthgpt.geometry import HBB, LabeledBox, iou_matrix

from .detection_reference import coco_reference_ap, voc_reference_ap
from .real_data import hit_uav_hbb, hit_uav_obb, rotated_box


def _box(x: float, y: float, w: float, h: float, label: str = "car", score: float | None = None) -> LabeledBox:
    return LabeledBox(label, HBB(x, y, x + w, y + h), score)


def _assert_same_aps(ours: DetectionScores, reference: Mapping[str, float | None], tol: float) -> None:
    """Each class of ``reference``: undefined in both, or the same AP within ``tol``."""
    for lab, want in reference.items():
        got = ours.per_class[lab].ap
        assert (got is None) == (want is None), lab
        if want is not None:
            assert got == pytest.approx(want, abs=tol), lab


# ----------------------------------------------------------------------------------------- by hand


def test_ap_by_hand() -> None:
    # 3 objects; ranked predictions: TP, FP (nothing there), TP, FP (duplicate of object 0)
    gts = [[_box(0, 0, 10, 10), _box(20, 0, 10, 10), _box(40, 0, 10, 10)]]
    preds = [
        [
            _box(0, 0, 10, 10, score=0.9),
            _box(80, 80, 5, 5, score=0.8),
            _box(20, 0, 10, 10, score=0.7),
            _box(1, 0, 10, 10, score=0.6),
        ]
    ]
    s = detection_scores(preds, gts)
    c = s.per_class["car"]
    # recall 1/3, 1/3, 2/3, 2/3; precision 1, 1/2, 2/3, 1/2
    np.testing.assert_allclose(c.recall, [1 / 3, 1 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(c.precision, [1, 1 / 2, 2 / 3, 1 / 2])
    # envelope: 1 up to recall 1/3, 2/3 up to recall 2/3, 0 after -> 1/3 * 1 + 1/3 * 2/3 = 5/9
    assert c.ap == pytest.approx(5 / 9)
    assert s.map == pytest.approx(5 / 9)
    # COCO: recalls 0..0.33 (34 points) at 1, 0.34..0.66 (33 points) at 2/3, 0.67..1 at 0 -> 56/101
    assert average_precision(c.recall, c.precision, "coco-101") == pytest.approx(56 / 101)
    assert (c.num_gts, c.num_predictions) == (3, 4)


def test_threshold_is_inclusive_and_thresholds_share_ious() -> None:
    gts = [[_box(0, 0, 10, 10)]]
    preds = [[_box(0, 0, 10, 5, score=1.0)]]  # IoU exactly 0.5
    res = detection_ap(preds, gts, iou_thresholds=(0.4, 0.5, 0.6))
    assert res[0.4].map == 1.0 and res[0.5].map == 1.0 and res[0.6].map == 0.0


def test_difficult_is_neither_tp_nor_fp() -> None:
    gts = [[_box(0, 0, 10, 10), _box(50, 50, 10, 10)]]
    hard = [[False, True]]
    preds = [[_box(50, 50, 10, 10, score=0.9), _box(0, 0, 10, 10, score=0.8)]]
    c = detection_scores(preds, gts, difficult=hard).per_class["car"]
    assert c.num_gts == 1  # the difficult object is not counted
    np.testing.assert_allclose(c.precision, [1.0])  # the prediction on it is dropped from the curve
    assert c.ap == 1.0


def test_voc_and_coco_matching_differ_by_hand() -> None:
    # two overlapping objects; the first prediction covers both and takes A (its best);
    # the second prediction's best is also A (taken): VOC -> FP, COCO -> falls back to free B -> TP.
    gts = [[_box(0, 0, 10, 10), _box(2, 0, 10, 10)]]
    preds = [[_box(0, 0, 11, 10, score=0.9), _box(0.5, 0, 10, 10, score=0.8)]]
    ious = iou_matrix([p.box for p in preds[0]], [g.box for g in gts[0]])
    assert ious[1, 0] > ious[1, 1] >= 0.5
    voc = detection_scores(preds, gts, matching="voc").per_class["car"]
    coco = detection_scores(preds, gts, matching="coco").per_class["car"]
    np.testing.assert_allclose(voc.precision, [1.0, 0.5])
    np.testing.assert_allclose(coco.precision, [1.0, 1.0])


def test_classes_without_ground_truth_and_unknown_labels() -> None:
    gts = [[_box(0, 0, 10, 10, "car")]]
    preds = [[_box(0, 0, 10, 10, "car", 0.9), _box(0, 0, 10, 10, "ship", 0.5), _box(0, 0, 9, 9, "tank", 0.4)]]
    s = detection_scores(preds, gts, classes=["car", "ship"], num_unparsed=3)
    assert s.per_class["ship"].ap is None and s.per_class["ship"].num_predictions == 1
    assert s.map == 1.0  # mean over classes with ground truth only
    assert s.num_unknown_label == 1 and s.num_unparsed == 3
    missed = detection_scores([[]], gts)  # an output that did not parse: its objects are missed
    assert missed.map == 0.0


def test_scores_are_required() -> None:
    gts = [[_box(0, 0, 10, 10)]]
    with pytest.raises(ValueError, match="no score"):
        detection_scores([[_box(0, 0, 10, 10)]], gts)
    assert detection_scores([[_box(0, 0, 10, 10)]], gts, default_score=1.0).map == 1.0
    with pytest.raises(ValueError, match="undefined"):
        detection_scores([[]], [[]])


# ------------------------------------------------------------------------------- random datasets

LABELS = ("car", "person")


@st.composite
def datasets(draw: st.DrawFn, separated: bool = False) -> tuple[list, list, list]:
    """Images with integer boxes; predictions are jittered copies of objects plus false alarms."""
    preds, gts, hard = [], [], []
    for _ in range(draw(st.integers(1, 6))):
        g, p, d = [], [], []
        cells = draw(st.lists(st.integers(0, 15), max_size=5, unique=True)) if separated else []
        for k in range(len(cells) if separated else draw(st.integers(0, 5))):
            if separated:  # objects in distinct cells of a 4x4 grid of 40-px cells: never overlapping
                x, y = 40 * (cells[k] % 4) + draw(st.integers(0, 8)), 40 * (cells[k] // 4) + draw(st.integers(0, 8))
                w, h = draw(st.integers(8, 30)), draw(st.integers(8, 30))
            else:
                x, y, w, h = (
                    draw(st.integers(0, 60)),
                    draw(st.integers(0, 60)),
                    draw(st.integers(2, 30)),
                    draw(st.integers(2, 30)),
                )
            label = draw(st.sampled_from(LABELS))
            g.append(_box(x, y, w, h, label))
            d.append(draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()))
            for _ in range(draw(st.integers(0, 2))):
                dx, dy, dw, dh = (draw(st.integers(-4, 4)) for _ in range(4))
                p.append(_box(x + dx, y + dy, max(1, w + dw), max(1, h + dh), label, draw(st.floats(0, 1))))
        for _ in range(draw(st.integers(0, 2))):
            p.append(
                _box(
                    draw(st.integers(0, 150)),
                    draw(st.integers(0, 150)),
                    draw(st.integers(2, 30)),
                    draw(st.integers(2, 30)),
                    draw(st.sampled_from(LABELS)),
                    draw(st.floats(0, 1)),
                )
            )
        preds.append(p)
        gts.append(g)
        hard.append(d)
    preds[0].append(_box(0, 0, 5, 5, "car", 0.01))  # pycocotools needs one detection
    return preds, gts, hard


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(datasets())
def test_voc_matches_devkit_reference(data: tuple[list, list, list]) -> None:
    preds, gts, hard = data
    if not any(not d for flags in hard for d in flags):
        with pytest.raises(ValueError, match="undefined"):
            detection_ap(preds, gts, difficult=hard, classes=LABELS)
        return
    ours = detection_ap(preds, gts, difficult=hard, classes=LABELS)
    for t, res in ours.items():
        _assert_same_aps(res, {lab: voc_reference_ap(preds, gts, hard, lab, t) for lab in LABELS}, 1e-12)


@FAST
@given(datasets())
def test_coco_matching_equals_pycocotools(data: tuple[list, list, list]) -> None:
    preds, gts, _ = data
    if not any(gts):
        return  # no object at all: AP undefined (checked in the VOC test)
    ref = coco_reference_ap(preds, gts, LABELS, (0.4, 0.5))
    ours = detection_ap(preds, gts, classes=LABELS, matching="coco", interpolation="coco-101")
    for t in (0.4, 0.5):
        _assert_same_aps(ours[t], ref[t], 1e-9)


@FAST
@given(datasets(separated=True))
def test_voc_equals_pycocotools_when_objects_do_not_overlap(data: tuple[list, list, list]) -> None:
    # With pairwise disjoint objects no prediction reaches IoU 0.5 with two of them, so the VOC and
    # COCO greedy rules coincide and the VOC all-point code sampled at 101 recalls must equal COCOeval.
    preds, gts, _ = data
    if not any(gts):
        return
    ref = coco_reference_ap(preds, gts, LABELS, (0.5,))[0.5]
    ours = detection_ap(preds, gts, iou_thresholds=(0.5,), classes=LABELS, interpolation="coco-101")[0.5]
    _assert_same_aps(ours, ref, 1e-9)


# ------------------------------------------------------------------------------- real HIT-UAV


def _perturb(gts: list[list[LabeledBox]], seed: int, integer: bool) -> list[list[LabeledBox]]:
    """Predictions from real objects: jittered (some badly), some missed, some relabelled, plus false alarms."""
    rng = np.random.default_rng(seed)
    labels = sorted({b.label for g in gts for b in g})
    preds = []
    for g in gts:
        p = []
        for b in g:
            if rng.random() < 0.15:
                continue
            label = b.label if rng.random() < 0.9 else labels[rng.integers(len(labels))]
            if isinstance(b.box, HBB):
                w, h = b.box.width, b.box.height
                d = rng.normal(0, 0.25, 4) * [w, h, w, h]
                d = np.round(d) if integer else d
                x1, y1 = b.box.x1 + d[0], b.box.y1 + d[1]
                box = HBB(x1, y1, max(x1 + 1, b.box.x2 + d[2]), max(y1 + 1, b.box.y2 + d[3]))
            else:
                c = np.array(b.box.points).reshape(4, 2)
                ctr, size = c.mean(0), np.linalg.norm(c[1] - c[0])
                side = np.linalg.norm(c[2] - c[1])
                ang = np.arctan2(*(c[1] - c[0])[::-1])
                box = rotated_box(
                    *(ctr + rng.normal(0, 0.2 * size, 2)),
                    size * rng.uniform(0.8, 1.2),
                    side * rng.uniform(0.8, 1.2),
                    ang + rng.normal(0, 0.2),
                )
            p.append(LabeledBox(label, box, float(rng.random())))
        for _ in range(rng.integers(0, 3)):
            x, y = rng.integers(0, 600), rng.integers(0, 480)
            p.append(_box(float(x), float(y), 20.0, 20.0, labels[rng.integers(len(labels))], float(rng.random())))
        preds.append(p)
    return preds


def _single_reach(preds: list[LabeledBox], gts: list[LabeledBox], t: float) -> bool:
    """True when no prediction of the image reaches IoU >= t with two same-class objects."""
    for label in {b.label for b in preds}:
        p = [b.box for b in preds if b.label == label]
        g = [b.box for b in gts if b.label == label]
        if p and g and ((iou_matrix(p, g) >= t).sum(axis=1) > 1).any():
            return False
    return True


def test_hit_uav_hbb_equals_pycocotools(data_root: Path) -> None:
    images = hit_uav_hbb(data_root)
    gts = [boxes for boxes, _ in images]
    labels = sorted({b.label for g in gts for b in g})
    preds = _perturb(gts, seed=0, integer=True)
    ref = coco_reference_ap(preds, gts, labels, (0.4, 0.5))
    coco = detection_ap(preds, gts, classes=labels, matching="coco", interpolation="coco-101")
    for t in (0.4, 0.5):
        for lab in labels:
            assert abs(coco[t].per_class[lab].ap - ref[t][lab]) <= 1e-9  # type: ignore[operator]
    # The VOC rule must agree too on the images where no prediction reaches two objects at IoU 0.5.
    keep = [i for i in range(len(gts)) if _single_reach(preds[i], gts[i], 0.5)]
    assert len(keep) > 0.9 * len(gts)
    sub_p, sub_g = [preds[i] for i in keep], [gts[i] for i in keep]
    ref50 = coco_reference_ap(sub_p, sub_g, labels, (0.5,))[0.5]
    voc = detection_ap(sub_p, sub_g, iou_thresholds=(0.5,), classes=labels, interpolation="coco-101")[0.5]
    for lab in labels:
        assert abs(voc.per_class[lab].ap - ref50[lab]) <= 1e-9  # type: ignore[operator]


def test_hit_uav_hbb_with_difficult_matches_devkit_reference(data_root: Path) -> None:
    images = hit_uav_hbb(data_root)
    gts, hard = [b for b, _ in images], [d for _, d in images]
    assert any(any(d) for d in hard)  # the real set has difficult objects
    preds = _perturb(gts, seed=1, integer=False)
    ours = detection_ap(preds, gts, difficult=hard)
    for t, res in ours.items():
        _assert_same_aps(res, {lab: voc_reference_ap(preds, gts, hard, lab, t) for lab in res.per_class}, 1e-12)


def test_hit_uav_obb_matches_shapely_loop(data_root: Path) -> None:
    gts = hit_uav_obb(data_root)[:120]
    hard = [[False] * len(g) for g in gts]
    preds = _perturb(gts, seed=2, integer=False)
    ours = detection_ap(preds, gts)
    for t, res in ours.items():
        _assert_same_aps(res, {lab: voc_reference_ap(preds, gts, hard, lab, t) for lab in res.per_class}, 1e-9)
    assert 0.05 < ours[0.5].map < 0.95  # the perturbation leaves a non-trivial task
