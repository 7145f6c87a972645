"""Speed of our detection AP: HBB vs pycocotools (same AP asserted), OBB vs a plain shapely loop.

HBB: synthetic images with integer boxes, pycocotools COCOeval (bbox, iouThrs [0.4, 0.5], area 'all',
no detection cap; the tests' reference ``coco_reference_ap``) against ``detection_ap(matching="coco",
interpolation="coco-101")``, whose values must be equal. OBB: synthetic rotated boxes over ``--images`` images,
``detection_ap`` (VOC all-point) against a straightforward loop (shapely polygon per pair, devkit-style matching),
values equal.
The two sides run in turn ``--repeats`` rounds after a warm-up (``bench/_timing.py``); the script prints the
median with min-max of each and of their ratio round by round; never asserts timings. Run from the repository
root: ``python bench/detection_ap.py [--images 1000] [--repeats 5]`` (it imports this checkout's code and the
tests' reference).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' reference
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's code, not an install

import numpy as np
from _timing import Spread, interleaved, ratio
from shapely.geometry import Polygon
from tests.evaluation.metrics.detection_reference import coco_reference_ap

from earthgpt.evaluation.metrics.detection import detection_ap
from earthgpt.geometry import HBB, OBB, LabeledBox

LABELS = ("plane", "ship", "car")


def synthetic(n_images: int, oriented: bool, seed: int) -> tuple[list[list[LabeledBox]], list[list[LabeledBox]]]:
    rng = np.random.default_rng(seed)
    preds, gts = [], []
    for _ in range(n_images):
        g, p = [], []
        for _ in range(rng.integers(1, 12)):
            cx, cy, w, h = rng.integers(20, 780, 2).tolist() + rng.integers(8, 60, 2).tolist()
            lab = LABELS[rng.integers(3)]
            a = rng.uniform(0, math.pi)
            g.append(LabeledBox(lab, _make(cx, cy, w, h, a, oriented)))
            if rng.random() < 0.85:
                j = rng.integers(-5, 6, 4)
                p.append(
                    LabeledBox(
                        lab,
                        _make(
                            cx + j[0], cy + j[1], max(2, w + j[2]), max(2, h + j[3]), a + rng.normal(0, 0.1), oriented
                        ),
                        float(rng.random()),
                    )
                )
        for _ in range(rng.integers(0, 4)):
            cx, cy = rng.integers(20, 780, 2).tolist()
            p.append(LabeledBox(LABELS[rng.integers(3)], _make(cx, cy, 30, 20, 0.3, oriented), float(rng.random())))
        preds.append(p)
        gts.append(g)
    return preds, gts


def _make(cx: int, cy: int, w: int, h: int, a: float, oriented: bool) -> HBB | OBB:
    if not oriented:
        return HBB(float(cx - w // 2), float(cy - h // 2), float(cx - w // 2 + w), float(cy - h // 2 + h))
    c, s = math.cos(a), math.sin(a)
    pts: list[float] = []
    for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)):
        pts += [cx + dx * c - dy * s, cy + dx * s + dy * c]
    return OBB(tuple(pts))  # type: ignore[arg-type]


def cocoeval(preds: list, gts: list, thresholds: tuple[float, ...]) -> dict[float, float]:
    """pycocotools mAP at each threshold: the mean over the classes that have ground truth."""
    per_class = coco_reference_ap(preds, gts, LABELS, thresholds)
    return {t: float(np.mean([ap for ap in aps.values() if ap is not None])) for t, aps in per_class.items()}


def shapely_loop_map(preds: list, gts: list, t: float) -> float:
    aps = []
    for lab in LABELS:
        g = {i: [Polygon(b.box.corners()) for b in img if b.label == lab] for i, img in enumerate(gts)}
        npos = sum(len(v) for v in g.values())
        dets = sorted(((i, b) for i, img in enumerate(preds) for b in img if b.label == lab), key=lambda d: -d[1].score)
        used = {i: [False] * len(v) for i, v in g.items()}
        tp = []
        for i, b in dets:
            pd = Polygon(b.box.corners())
            ovs = [pd.intersection(q).area / (pd.area + q.area - pd.intersection(q).area) for q in g[i]]
            j = int(np.argmax(ovs)) if ovs else -1
            hit = j >= 0 and ovs[j] >= t and not used[i][j]
            if hit:
                used[i][j] = True
            tp.append(1 if hit else 0)
        ctp = np.cumsum(tp)
        rec, prec = ctp / npos, ctp / np.arange(1, len(tp) + 1)
        mrec, mpre = np.r_[0, rec, 1], np.r_[0, prec, 0]
        mpre = np.maximum.accumulate(mpre[::-1])[::-1]
        k = np.flatnonzero(mrec[1:] != mrec[:-1])
        aps.append(float(np.sum((mrec[k + 1] - mrec[k]) * mpre[k + 1])))
    return float(np.mean(aps))


def compare(repeats: int, ours: Callable[[], Any], ref: Callable[[], Any]) -> tuple[Any, Any, str]:
    """Both sides ``repeats`` rounds in turn (``bench/_timing.py``) -> (our value, reference value, summary)."""
    seconds = interleaved({"ours": ours, "ref": ref}, repeats=repeats)
    return (
        ours(),
        ref(),
        f"ours {Spread.of(seconds['ours']).format(unit=' s')}  reference {Spread.of(seconds['ref']).format(unit=' s')}"
        f"  reference / ours {ratio(seconds['ref'], seconds['ours']).format('.1f', 'x')}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    thr = (0.4, 0.5)
    preds, gts = synthetic(args.images, oriented=False, seed=0)
    ours, ref, summary = compare(
        args.repeats,
        lambda: detection_ap(preds, gts, iou_thresholds=thr, matching="coco", interpolation="coco-101"),
        lambda: cocoeval(preds, gts, thr),
    )
    for t in thr:
        assert abs(ours[t].map - ref[t]) <= 1e-9, (t, ours[t].map, ref[t])
    print(f"HBB, {args.images} images, AP@40+AP@50 vs pycocotools: {summary}  (mAP@50 {ours[0.5].map:.6f} both)")
    preds, gts = synthetic(args.images, oriented=True, seed=1)
    ours, ref50, summary = compare(
        args.repeats, lambda: detection_ap(preds, gts, iou_thresholds=(0.5,)), lambda: shapely_loop_map(preds, gts, 0.5)
    )
    assert abs(ours[0.5].map - ref50) <= 1e-12, (ours[0.5].map, ref50)
    print(f"OBB, {args.images} images, AP@50 vs a shapely loop: {summary}  (mAP@50 {ref50:.6f} both)")


if __name__ == "__main__":
    main()
