"""Independent references for detection AP: a devkit-style VOC loop with plain shapely IoU, and pycocotools."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Sequence

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from shapely.geometry import Polygon

from earthgpt.geometry import HBB, Box, LabeledBox


def plain_iou(a: Box, b: Box) -> float:
    """IoU written out: rectangle arithmetic for two HBBs, a shapely polygon intersection otherwise."""
    if isinstance(a, HBB) and isinstance(b, HBB):
        iw = min(a.x2, b.x2) - max(a.x1, b.x1)
        ih = min(a.y2, b.y2) - max(a.y1, b.y1)
        if iw <= 0 or ih <= 0:
            return 0.0
        inter = iw * ih
        return inter / (a.area + b.area - inter)

    def poly(x: Box) -> Polygon:
        if isinstance(x, HBB):
            return Polygon([(x.x1, x.y1), (x.x2, x.y1), (x.x2, x.y2), (x.x1, x.y2)])
        return Polygon(x.corners())

    pa, pb = poly(a), poly(b)
    inter = pa.intersection(pb).area
    return inter / (pa.area + pb.area - inter)


def guarded_iou(a: Box, b: Box) -> float:
    """IoU of two boxes as shapely polygons, 0.0 when either is not a valid polygon of positive area (a
    self-crossing or collinear quadrilateral, an HBB with x2 <= x1 or y2 <= y1)."""
    polys = []
    for x in (a, b):
        if isinstance(x, HBB) and not (x.x2 > x.x1 and x.y2 > x.y1):
            return 0.0
        p = Polygon([(x.x1, x.y1), (x.x2, x.y1), (x.x2, x.y2), (x.x1, x.y2)] if isinstance(x, HBB) else x.corners())
        if not p.is_valid or p.area <= 0:
            return 0.0
        polys.append(p)
    inter = polys[0].intersection(polys[1]).area
    return inter / (polys[0].area + polys[1].area - inter)


def voc_reference_ap(
    predictions: Sequence[Sequence[LabeledBox]],
    ground_truths: Sequence[Sequence[LabeledBox]],
    difficult: Sequence[Sequence[bool]],
    label: str,
    threshold: float,
    iou: Callable[[Box, Box], float] = plain_iou,
) -> float | None:
    """AP of one class the way the VOC/DOTA devkits compute it (sort all, match, all-point area)."""
    gts = {
        i: [(b, d) for b, d in zip(g, f, strict=True) if b.label == label]
        for i, (g, f) in enumerate(zip(ground_truths, difficult, strict=True))
    }
    npos = sum(not d for g in gts.values() for _, d in g)
    if npos == 0:
        return None
    dets = [(i, p) for i, ps in enumerate(predictions) for p in ps if p.label == label]
    dets.sort(key=lambda d: -(d[1].score or 0.0))  # stable: ties keep image order, then input order
    used = {i: [False] * len(g) for i, g in gts.items()}
    tp, fp = [], []
    for i, det in dets:
        ovs = [iou(det.box, g.box) for g, _ in gts[i]]
        j = int(np.argmax(ovs)) if ovs else -1
        if j >= 0 and ovs[j] >= threshold:
            if gts[i][j][1]:
                continue  # difficult: neither TP nor FP
            if not used[i][j]:
                used[i][j] = True
                tp.append(1)
                fp.append(0)
                continue
        tp.append(0)
        fp.append(1)
    ctp, cfp = np.cumsum(tp), np.cumsum(fp)
    rec = ctp / npos
    prec = ctp / np.maximum(ctp + cfp, np.finfo(np.float64).eps)
    mrec = [0.0, *rec, 1.0]
    mpre = [0.0, *prec, 0.0]
    for k in range(len(mpre) - 2, -1, -1):
        mpre[k] = max(mpre[k], mpre[k + 1])
    return float(sum((mrec[k + 1] - mrec[k]) * mpre[k + 1] for k in range(len(mrec) - 1) if mrec[k + 1] != mrec[k]))


def coco_reference_ap(
    predictions: Sequence[Sequence[LabeledBox]],
    ground_truths: Sequence[Sequence[LabeledBox]],
    labels: Sequence[str],
    thresholds: Sequence[float],
    difficult: Sequence[Sequence[bool]] | None = None,
    regions: Sequence[Sequence[HBB]] | None = None,
) -> dict[float, dict[str, float | None]]:
    """pycocotools COCOeval bbox AP per class at each threshold (area 'all', no detection cap).

    ``difficult`` ground truths are written with an area outside the evaluated range, pycocotools' way of an
    ignored non-crowd object (its ``ignore`` field is overwritten by ``iscrowd``); ``regions`` become
    ``iscrowd`` annotations in every category (class-agnostic ignore regions).
    """
    cat = {lab: k + 1 for k, lab in enumerate(labels)}
    anns, dets = [], []
    hard = difficult if difficult is not None else [[False] * len(g) for g in ground_truths]
    crowds = regions if regions is not None else [[] for _ in ground_truths]
    for i, (preds, gts) in enumerate(zip(predictions, ground_truths, strict=True)):
        for b, d in zip(gts, hard[i], strict=True):
            x1, y1, x2, y2 = b.box.as_tuple()
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i + 1,
                    "category_id": cat[b.label],
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": 1e11 if d else (x2 - x1) * (y2 - y1),
                    "iscrowd": 0,
                }
            )
        for r in crowds[i]:
            x1, y1, x2, y2 = r.as_tuple()
            for k in cat.values():
                anns.append(
                    {
                        "id": len(anns) + 1,
                        "image_id": i + 1,
                        "category_id": k,
                        "bbox": [x1, y1, x2 - x1, y2 - y1],
                        "area": (x2 - x1) * (y2 - y1),
                        "iscrowd": 1,
                    }
                )
        for b in preds:
            x1, y1, x2, y2 = b.box.as_tuple()
            dets.append(
                {"image_id": i + 1, "category_id": cat[b.label], "bbox": [x1, y1, x2 - x1, y2 - y1], "score": b.score}
            )
    dataset = {
        "images": [{"id": i + 1} for i in range(len(ground_truths))],
        "categories": [{"id": v, "name": k} for k, v in cat.items()],
        "annotations": anns,
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = dataset
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(dets)  # needs at least one detection
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.params.iouThrs = np.array(thresholds, dtype=np.float64)
        ev.params.maxDets = [10**6]
        ev.params.areaRng = [[0.0, 1e10]]
        ev.params.areaRngLbl = ["all"]
        ev.evaluate()
        ev.accumulate()
    precision = ev.eval["precision"]  # [T, R, K, A, M]
    out: dict[float, dict[str, float | None]] = {}
    for t_idx, t in enumerate(thresholds):
        out[t] = {}
        for k, lab in enumerate(labels):
            p = precision[t_idx, :, k, 0, 0]
            out[t][lab] = None if p[0] == -1 else float(np.mean(p))
    return out
