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

__all__ = [
    "box_corners",
    "box_iou",
    "box_polygon",
    "convex_intersection_area",
    "hbb_iou",
    "ioa_matrix",
    "iou_matrices",
    "iou_matrix",
    "obb_iou",
]


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
    """Exact polygon IoU of every pair -> [P, G] (see :func:`iou_matrices`)."""
    return iou_matrices([(preds, gts)])[0]


def iou_matrices(groups: Sequence[tuple[Sequence[Box], Sequence[Box]]]) -> list[np.ndarray]:
    """The IoU matrix of each (predictions, ground truths) group (one image each), computed in one batch.

    All-HBB groups use the rectangle formula. Any OBB makes its group polygonal: the pairs whose enclosing
    rectangles overlap (the HBB prefilter) are clipped all at once (:func:`convex_intersection_area`, numpy);
    pairs with a non-convex quadrilateral go through shapely. Degenerate or self-crossing boxes give 0.0.
    """
    out = [np.zeros((len(p), len(g)), dtype=np.float64) for p, g in groups]
    poly: list[int] = []
    for k, (p, g) in enumerate(groups):
        if not p or not g:
            continue
        if all(isinstance(b, HBB) for b in p) and all(isinstance(b, HBB) for b in g):
            out[k] = _hbb_iou_matrix(_hbb_array(p), _hbb_array(g))
        else:
            poly.append(k)
    if poly:
        _fill_polygon_ious([groups[k] for k in poly], [out[k] for k in poly])
    return out


def _fill_polygon_ious(groups: Sequence[tuple[Sequence[Box], Sequence[Box]]], mats: list[np.ndarray]) -> None:
    """Polygon IoUs of the groups written into ``mats`` (zeros on entry)."""
    p_boxes = [b for p, _ in groups for b in p]
    g_boxes = [b for _, g in groups for b in g]
    pa, ga = _corner_array(p_boxes), _corner_array(g_boxes)  # [NP, 4, 2], [NG, 4, 2]
    p_ok, g_ok = _convex_ok(pa, p_boxes), _convex_ok(ga, g_boxes)
    n_p = np.array([len(p) for p, _ in groups])  # [N]
    n_g = np.array([len(g) for _, g in groups])
    offsets_p, offsets_g = np.cumsum(n_p) - n_p, np.cumsum(n_g) - n_g
    pairs = n_p * n_g
    ki = np.repeat(np.arange(len(groups)), pairs)  # [K] every (prediction, ground truth) pair of each group
    j = np.arange(int(pairs.sum())) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    lp, lg = j // n_g[ki], j % n_g[ki]  # indices within each group
    pi, gi = lp + offsets_p[ki], lg + offsets_g[ki]
    lo_p, hi_p, lo_g, hi_g = pa.min(1), pa.max(1), ga.min(1), ga.max(1)  # [N, 2]
    with np.errstate(invalid="ignore"):
        hit = (np.minimum(hi_p[pi], hi_g[gi]) > np.maximum(lo_p[pi], lo_g[gi])).all(axis=1)  # HBB prefilter
    hit &= (p_ok[pi] != 0) & (g_ok[gi] != 0)
    pi, gi, ki, lp, lg = pi[hit], gi[hit], ki[hit], lp[hit], lg[hit]
    convex = (p_ok[pi] == 1) & (g_ok[gi] == 1)
    inter = np.zeros(pi.size)
    inter[convex] = convex_intersection_area(pa[pi[convex]], ga[gi[convex]])
    rest = np.flatnonzero(~convex)
    if rest.size:  # a non-convex (valid) quadrilateral on either side: shapely, pair by pair
        pp, gp = shapely.polygons(pa[pi[rest]]), shapely.polygons(ga[gi[rest]])
        inter[rest] = [_pair_intersection_area(x, y) for x, y in zip(pp, gp, strict=True)]
    area_p, area_g = np.abs(_shoelace(pa)), np.abs(_shoelace(ga))  # [NP], [NG]
    union = area_p[pi] + area_g[gi] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.clip(np.nan_to_num(np.where(union > 0.0, inter / union, 0.0), nan=0.0), 0.0, 1.0)
    bounds = np.searchsorted(ki, np.arange(len(groups) + 1))  # ki is sorted: group k is bounds[k]:bounds[k + 1]
    for k, mat in enumerate(mats):
        lo, hi = bounds[k], bounds[k + 1]
        mat[lp[lo:hi], lg[lo:hi]] = iou[lo:hi]


def _shoelace(quads: np.ndarray) -> np.ndarray:
    """Signed area of each polygon [N, V, 2] -> [N] (positive when counter-clockwise in x-right, y-up axes)."""
    x, y = quads[..., 0], quads[..., 1]
    return 0.5 * np.sum(x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y, axis=1)


def _convex_ok(quads: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
    """Per box: 1 a proper convex quadrilateral, 2 a usable non-convex one (shapely), 0 unusable -> [N] int8."""
    finite = np.isfinite(quads).all(axis=(1, 2))
    q = np.where(finite[:, None, None], quads, 0.0)
    e = np.roll(q, -1, axis=1) - q  # [N, 4, 2] edges
    cross = e[:, :, 0] * np.roll(e, -1, axis=1)[:, :, 1] - e[:, :, 1] * np.roll(e, -1, axis=1)[:, :, 0]  # [N, 4]
    convex = (cross >= 0).all(axis=1) | (cross <= 0).all(axis=1)
    area = np.abs(_shoelace(q))
    proper = np.array([_hbb_is_proper(b) if isinstance(b, HBB) else True for b in boxes], dtype=bool)
    out = np.zeros(len(boxes), dtype=np.int8)
    usable = finite & proper & (area > 0.0)
    out[usable & convex] = 1
    rest = np.flatnonzero(usable & ~convex)
    if rest.size:  # a valid non-convex quad goes to shapely; a self-crossing one scores 0, as box_polygon says
        polys = shapely.polygons(q[rest])
        out[rest[shapely.is_valid(polys)]] = 2
    return out


def convex_intersection_area(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection area of K pairs of convex quadrilaterals [K, 4, 2] (any winding) -> [K], all at once.

    Sutherland-Hodgman: each polygon of ``a`` is clipped by the four edges of its partner in ``b``; the
    vertex arrays grow to at most 8 and are compacted after each edge.
    """
    a = np.where((_shoelace(a) < 0)[:, None, None], a[:, ::-1], a)  # counter-clockwise
    b = np.where((_shoelace(b) < 0)[:, None, None], b[:, ::-1], b)
    poly, n = a.copy(), np.full(len(a), 4)
    for e in range(4):
        poly, n = _clip(poly, n, b[:, e], b[:, (e + 1) % 4])
    if poly.shape[1] == 0:
        return np.zeros(len(a))
    valid = np.arange(poly.shape[1])[None, :] < n[:, None]  # [K, M]
    nxt = (np.arange(poly.shape[1])[None, :] + 1) % np.maximum(n[:, None], 1)  # [K, M]
    q = np.take_along_axis(poly, nxt[..., None].repeat(2, axis=2), axis=1)  # [K, M, 2]
    terms = poly[..., 0] * q[..., 1] - q[..., 0] * poly[..., 1]  # [K, M]
    return np.maximum(0.5 * np.sum(np.where(valid, terms, 0.0), axis=1), 0.0)


def _clip(poly: np.ndarray, n: np.ndarray, e0: np.ndarray, e1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each polygon [K, M, 2] with n [K] vertices cut to the left of its edge e0 -> e1 [K, 2]."""
    k, m = poly.shape[:2]
    idx = np.arange(m)[None, :]  # [1, M]
    valid = idx < n[:, None]  # [K, M]
    prev = np.take_along_axis(poly, ((idx - 1) % np.maximum(n[:, None], 1))[..., None].repeat(2, axis=2), axis=1)
    d = (e1 - e0)[:, None, :]  # [K, 1, 2]
    side_c = d[..., 0] * (poly[..., 1] - e0[:, None, 1]) - d[..., 1] * (poly[..., 0] - e0[:, None, 0])  # [K, M]
    side_p = d[..., 0] * (prev[..., 1] - e0[:, None, 1]) - d[..., 1] * (prev[..., 0] - e0[:, None, 0])
    in_c, in_p = side_c >= 0, side_p >= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(in_c != in_p, side_p / (side_p - side_c), 0.0)  # [K, M]
    cross = prev + t[..., None] * (poly - prev)  # [K, M, 2]
    cand = np.stack([cross, poly], axis=2).reshape(k, 2 * m, 2)  # per vertex: the crossing, then the vertex
    keep = np.stack([valid & (in_c != in_p), valid & in_c], axis=2).reshape(k, 2 * m)  # [K, 2M]
    order = np.argsort(~keep, axis=1, kind="stable")
    new_n = keep.sum(axis=1)
    width = int(new_n.max()) if k else 0
    out = np.take_along_axis(cand, order[:, :width, None].repeat(2, axis=2), axis=1)  # [K, W, 2]
    return out, new_n


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
