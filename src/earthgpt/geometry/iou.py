"""Intersection over union for horizontal and oriented boxes, one pair at a time or as a matrix."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry import Polygon

from earthgpt.geometry.boxes import HBB, OBB, Box

logger = logging.getLogger(__name__)

__all__ = ["box_corners", "box_iou", "box_polygon", "hbb_iou", "ioa_matrix", "iou_matrix", "obb_iou"]


def box_corners(box: Box) -> np.ndarray:
    """The four corners of a box as a [4, 2] float array; an HBB goes (x1,y1), (x2,y1), (x2,y2), (x1,y2)."""
    if isinstance(box, HBB):
        return np.array(
            [[box.x1, box.y1], [box.x2, box.y1], [box.x2, box.y2], [box.x1, box.y2]], dtype=np.float64
        )  # [4, 2]
    return np.asarray(box.points, dtype=np.float64).reshape(4, 2)  # [4, 2]


def _hbb_is_proper(box: HBB) -> bool:
    """True when the HBB has finite coordinates and a positive width and height."""
    vals = box.as_tuple()
    return all(math.isfinite(v) for v in vals) and box.x2 > box.x1 and box.y2 > box.y1


def box_polygon(box: Box) -> Polygon | None:
    """The box as a valid shapely polygon of positive area, or None when it is degenerate or invalid.

    An HBB with x2 <= x1 or y2 <= y1 is degenerate. An OBB whose corners are not in cyclic order
    (a self-intersecting "bow tie") is invalid: it is not repaired, so its IoU with anything is 0.
    """
    if isinstance(box, HBB) and not _hbb_is_proper(box):
        return None
    corners = box_corners(box)
    if not np.isfinite(corners).all():
        return None
    try:
        poly = Polygon(corners)
        if not poly.is_valid or poly.area <= 0.0:
            return None
    except (GEOSException, ValueError):
        return None
    return poly


def hbb_iou(a: HBB, b: HBB) -> float:
    """IoU of two horizontal boxes in continuous coordinates (no +1 pixel); 0.0 when either is degenerate."""
    if not (_hbb_is_proper(a) and _hbb_is_proper(b)):
        return 0.0
    iw = min(a.x2, b.x2) - max(a.x1, b.x1)
    ih = min(a.y2, b.y2) - max(a.y1, b.y1)
    if iw <= 0.0 or ih <= 0.0:
        return 0.0
    inter = iw * ih
    union = a.area + b.area - inter
    return float(inter / union) if union > 0.0 else 0.0


def _polygon_iou(pa: Polygon | None, pb: Polygon | None) -> float:
    """Exact IoU of two polygons; 0.0 when either is missing or GEOS fails."""
    if pa is None or pb is None:
        return 0.0
    try:
        inter = pa.intersection(pb).area
    except GEOSException:
        logger.debug("polygon intersection failed; IoU taken as 0")
        return 0.0
    union = pa.area + pb.area - inter
    if union <= 0.0 or not math.isfinite(union):
        return 0.0
    return float(min(1.0, max(0.0, inter / union)))


def obb_iou(a: OBB, b: OBB) -> float:
    """Exact polygon IoU of two oriented boxes; degenerate or invalid polygons give 0.0, never raises."""
    return _polygon_iou(box_polygon(a), box_polygon(b))


def box_iou(a: Box, b: Box) -> float:
    """IoU of any two boxes: the HBB formula for two HBBs, polygon IoU otherwise (an HBB is a rectangle)."""
    if isinstance(a, HBB) and isinstance(b, HBB):
        return hbb_iou(a, b)
    return _polygon_iou(box_polygon(a), box_polygon(b))


def _hbb_array(boxes: Sequence[Box]) -> np.ndarray:
    """[N, 4] array of HBB coordinates."""
    if not boxes:
        return np.zeros((0, 4), dtype=np.float64)
    return np.array([b.as_tuple() for b in boxes], dtype=np.float64)  # [N, 4]


def _hbb_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Vectorised IoU of [P, 4] against [G, 4] horizontal boxes -> [P, G]."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ok_a = np.isfinite(a).all(axis=1) & (a[:, 2] > a[:, 0]) & (a[:, 3] > a[:, 1])  # [P]
        ok_b = np.isfinite(b).all(axis=1) & (b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])  # [G]
        area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])  # [P]
        area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # [G]
        iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])  # [P, G]
        ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])  # [P, G]
        inter = np.clip(iw, 0.0, None) * np.clip(ih, 0.0, None)  # [P, G]
        union = area_a[:, None] + area_b[None, :] - inter  # [P, G]
        iou = np.where(union > 0.0, inter / union, 0.0)  # [P, G]
    ok = ok_a[:, None] & ok_b[None, :]
    return np.where(ok & np.isfinite(iou), iou, 0.0)


def _corner_array(boxes: Sequence[Box]) -> np.ndarray:
    """[N, 4, 2] corners of many boxes (HBB corners in the order of ``box_corners``)."""
    flat = np.array(
        [(b.x1, b.y1, b.x2, b.y1, b.x2, b.y2, b.x1, b.y2) if isinstance(b, HBB) else b.points for b in boxes],
        dtype=np.float64,
    )  # [N, 8]
    return flat.reshape(len(boxes), 4, 2)


def _polygon_array(boxes: Sequence[Box]) -> tuple[np.ndarray, np.ndarray]:
    """Shapely polygons for the boxes ([N] object array) and a [N] mask of the usable ones."""
    if len(boxes) == 0:
        return np.empty(0, dtype=object), np.zeros(0, dtype=bool)
    coords = _corner_array(boxes)  # [N, 4, 2]
    finite = np.isfinite(coords).all(axis=(1, 2))  # [N]
    coords = np.where(finite[:, None, None], coords, 0.0)
    proper_hbb = np.array([_hbb_is_proper(b) if isinstance(b, HBB) else True for b in boxes])  # [N]
    polys = shapely.polygons(coords)  # [N]
    ok = finite & proper_hbb & shapely.is_valid(polys) & (shapely.area(polys) > 0.0)  # [N]
    return polys, ok


def _polygon_iou_matrix(preds: Sequence[Box], gts: Sequence[Box]) -> np.ndarray:
    """IoU matrix through an STRtree over the ground-truth polygons -> [P, G]."""
    out = np.zeros((len(preds), len(gts)), dtype=np.float64)
    p_polys, p_ok = _polygon_array(preds)
    g_polys, g_ok = _polygon_array(gts)
    p_idx = np.flatnonzero(p_ok)
    g_idx = np.flatnonzero(g_ok)
    if p_idx.size == 0 or g_idx.size == 0:
        return out
    tree = shapely.STRtree(g_polys[g_idx])
    qi, ti = tree.query(p_polys[p_idx], predicate="intersects")  # [K], [K]
    if qi.size == 0:
        return out
    pi, gi = p_idx[qi], g_idx[ti]
    pa, ga = p_polys[pi], g_polys[gi]
    try:
        inter = shapely.area(shapely.intersection(pa, ga))  # [K]
    except GEOSException:
        inter = np.array([_pair_intersection_area(x, y) for x, y in zip(pa, ga, strict=True)])
    union = shapely.area(pa) + shapely.area(ga) - inter  # [K]
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0.0, inter / union, 0.0)
    out[pi, gi] = np.clip(np.nan_to_num(iou, nan=0.0), 0.0, 1.0)
    return out


def _pair_intersection_area(a: Polygon, b: Polygon) -> float:
    """Intersection area of one pair, 0.0 when GEOS fails."""
    try:
        return float(a.intersection(b).area)
    except GEOSException:
        return 0.0


def iou_matrix(preds: Sequence[Box], gts: Sequence[Box]) -> np.ndarray:
    """IoU of every prediction against every ground truth -> float64 array of shape [P, G].

    All-HBB inputs use vectorised numpy; any OBB switches the whole matrix to exact polygon IoU
    (HBBs become rectangles). Degenerate or invalid boxes get IoU 0.0 against everything.
    """
    if all(isinstance(b, HBB) for b in preds) and all(isinstance(b, HBB) for b in gts):
        return _hbb_iou_matrix(_hbb_array(preds), _hbb_array(gts))
    return _polygon_iou_matrix(preds, gts)


def ioa_matrix(preds: Sequence[Box], regions: Sequence[Box]) -> np.ndarray:
    """Intersection over the PREDICTION's area of every prediction with every region -> [P, R] in [0, 1].

    The overlap pycocotools uses for crowd regions (``iscrowd``) and AP's ignore regions: how much of a
    prediction lies inside the region. Degenerate or invalid boxes give 0.0.
    """
    out = np.zeros((len(preds), len(regions)), dtype=np.float64)
    if not preds or not regions:
        return out
    p_polys, p_ok = _polygon_array(preds)
    r_polys, r_ok = _polygon_array(regions)
    pi, ri = np.flatnonzero(p_ok), np.flatnonzero(r_ok)
    if pi.size == 0 or ri.size == 0:
        return out
    a = np.repeat(pi, ri.size)  # [K]
    b = np.tile(ri, pi.size)  # [K]
    try:
        inter = shapely.area(shapely.intersection(p_polys[a], r_polys[b]))  # [K]
    except GEOSException:
        inter = np.array([_pair_intersection_area(x, y) for x, y in zip(p_polys[a], r_polys[b], strict=True)])
    with np.errstate(invalid="ignore", divide="ignore"):
        ioa = inter / shapely.area(p_polys[a])
    out[a, b] = np.clip(np.nan_to_num(ioa, nan=0.0), 0.0, 1.0)
    return out
