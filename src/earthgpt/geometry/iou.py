"""Intersection over union for horizontal and oriented boxes: one pair, listed pairs of many boxes, or matrices."""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from shapely.errors import GEOSException
from shapely.geometry import Polygon

from earthgpt.geometry.boxes import HBB, OBB, Box
from earthgpt.geometry.clipping import (
    CONVEX,
    UNUSABLE,
    convex_intersection_area,
    corner_major_intersection_area,
    quad_kinds,
    shapely_intersection_area,
    signed_area,
)

logger = logging.getLogger(__name__)

__all__ = [
    "BoxArray",
    "box_corners",
    "box_iou",
    "box_polygon",
    "convex_intersection_area",
    "group_pairs",
    "hbb_iou",
    "ioa_matrix",
    "ioa_pairs",
    "iou_matrices",
    "iou_matrix",
    "iou_pairs",
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


@dataclass(frozen=True)
class BoxArray:
    """Many boxes as corner-major arrays (an HBB's corners in the order of ``box_corners``) and which are HBBs."""

    x: np.ndarray  # [4, N] the x of corner i of every box in row i
    y: np.ndarray  # [4, N]
    is_hbb: np.ndarray  # [N] bool

    @classmethod
    def of(cls, boxes: Sequence[Box]) -> BoxArray:
        is_hbb = [isinstance(b, HBB) for b in boxes]
        flat = [(b.x1, b.y1, b.x2, b.y1, b.x2, b.y2, b.x1, b.y2) if isinstance(b, HBB) else b.points for b in boxes]
        coords = np.fromiter(itertools.chain.from_iterable(flat), dtype=np.float64, count=8 * len(flat))
        corners = coords.reshape(len(flat), 4, 2)  # [N, 4, 2]
        x, y = np.ascontiguousarray(corners[..., 0].T), np.ascontiguousarray(corners[..., 1].T)
        return cls(x, y, np.array(is_hbb, dtype=bool).reshape(len(flat)))

    def __len__(self) -> int:
        return len(self.is_hbb)

    def take(self, idx: np.ndarray) -> BoxArray:
        """The boxes ``idx``."""
        return BoxArray(self.x[:, idx], self.y[:, idx], self.is_hbb[idx])

    def corners(self, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        """[N, 4, 2] corners of the boxes ``idx``."""
        return np.stack([self.x[:, idx].T, self.y[:, idx].T], axis=-1)

    def rects(self) -> np.ndarray:
        """[N, 4] (x1, y1, x2, y2) as an HBB stores them (meaningful for the HBBs)."""
        return np.stack([self.x[0], self.y[0], self.x[2], self.y[2]], axis=1)

    def proper(self) -> np.ndarray:
        """[N] bool: False for an HBB with x2 <= x1 or y2 <= y1 or a non-finite coordinate (IoU 0)."""
        x1, y1, x2, y2 = self.x[0], self.y[0], self.x[2], self.y[2]
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(x1) & np.isfinite(y1) & np.isfinite(x2) & np.isfinite(y2) & (x2 > x1) & (y2 > y1)
        return ~self.is_hbb | ok


def group_pairs(n_a: np.ndarray, n_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (a, b) pair within each group, groups laid end to end: ``n_a``, ``n_b`` [N] count the members.

    Returns indices into the concatenated a's and b's -> ([K], [K]), group by group, a-major with b ascending.
    """
    n_a, n_b = np.asarray(n_a, dtype=np.int64), np.asarray(n_b, dtype=np.int64)
    group_of_a = np.repeat(np.arange(n_a.size), n_a)  # [NA]
    per_a = n_b[group_of_a]  # [NA] pairs of each a
    first_b = (np.cumsum(n_b) - n_b)[group_of_a]  # [NA]
    ia = np.repeat(np.arange(group_of_a.size), per_a)  # [K]
    within = np.arange(ia.size) - np.repeat(np.cumsum(per_a) - per_a, per_a)
    return ia, np.repeat(first_b, per_a) + within


def _hbb_ious(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of horizontal boxes (x1, y1, x2, y2) [..., 4] against [..., 4], broadcast -> [...]; 0 if degenerate."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ok_a = np.isfinite(a).all(axis=-1) & (a[..., 2] > a[..., 0]) & (a[..., 3] > a[..., 1])
        ok_b = np.isfinite(b).all(axis=-1) & (b[..., 2] > b[..., 0]) & (b[..., 3] > b[..., 1])
        area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
        area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
        iw = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
        ih = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
        inter = np.clip(iw, 0.0, None) * np.clip(ih, 0.0, None)
        union = area_a + area_b - inter
        iou = np.where(union > 0.0, inter / union, 0.0)
    return np.where(ok_a & ok_b & np.isfinite(iou), iou, 0.0)


def iou_pairs(
    a: BoxArray, b: BoxArray, ia: np.ndarray, ib: np.ndarray, polygonal: np.ndarray | None = None
) -> np.ndarray:
    """IoU of the pairs (a[ia[k]], b[ib[k]]) -> [K] in [0, 1]; degenerate or self-crossing boxes give 0.0.

    ``polygonal`` [K] bool picks the pairs computed as polygons (an HBB is a rectangle); the others must be
    two HBBs and use the rectangle formula. By default a pair is polygonal when it holds an OBB. Polygon pairs
    whose enclosing rectangles overlap (the HBB prefilter) are clipped all at once
    (:func:`convex_intersection_area`); pairs with a non-convex quadrilateral go through shapely.
    """
    rect = a.is_hbb[ia] & b.is_hbb[ib]  # [K]
    poly = ~rect if polygonal is None else np.asarray(polygonal, dtype=bool)
    if (~poly & ~rect).any():
        raise ValueError("a pair with an OBB must be computed as polygons (polygonal=True)")
    out = np.zeros(ia.size)
    flat = np.flatnonzero(~poly)
    if flat.size:
        out[flat] = _hbb_ious(a.rects()[ia[flat]], b.rects()[ib[flat]])
    if flat.size < ia.size:
        k = np.flatnonzero(poly)
        out[k] = _polygon_pair_ious(a, b, ia[k], ib[k])
    return out


def _polygon_pair_ious(a: BoxArray, b: BoxArray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Exact polygon IoU of the pairs -> [K] (see :func:`iou_pairs`)."""
    kind_a, kind_b = quad_kinds(a.x, a.y, a.proper()), quad_kinds(b.x, b.y, b.proper())  # [NA], [NB]
    lo_a, hi_a = _usable_bounds(a, kind_a)  # [2, NA] each
    lo_b, hi_b = _usable_bounds(b, kind_b)
    with np.errstate(invalid="ignore"):  # the HBB prefilter; NaN bounds (unusable boxes) never pass
        hit = np.minimum(hi_a[0, ia], hi_b[0, ib]) > np.maximum(lo_a[0, ia], lo_b[0, ib])
        hit &= np.minimum(hi_a[1, ia], hi_b[1, ib]) > np.maximum(lo_a[1, ia], lo_b[1, ib])
    k = np.flatnonzero(hit)
    pa, pb = ia[k], ib[k]
    convex = (kind_a[pa] == CONVEX) & (kind_b[pb] == CONVEX)
    inter = np.zeros(k.size)
    ca, cb = pa[convex], pb[convex]
    inter[convex] = corner_major_intersection_area(a.x[:, ca], a.y[:, ca], b.x[:, cb], b.y[:, cb])
    rest = np.flatnonzero(~convex)
    if rest.size:  # a non-convex (valid) quadrilateral on either side: shapely
        inter[rest] = shapely_intersection_area(a.corners(pa[rest]), b.corners(pb[rest]))
    union = np.abs(signed_area(a.x, a.y))[pa] + np.abs(signed_area(b.x, b.y))[pb] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.clip(np.nan_to_num(np.where(union > 0.0, inter / union, 0.0), nan=0.0), 0.0, 1.0)
    out = np.zeros(ia.size)
    out[k] = iou
    return out


def _usable_bounds(boxes: BoxArray, kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners of each box's enclosing rectangle -> ([2, N], [2, N]), NaN for unusable boxes."""
    nan = np.where(kind == UNUSABLE, np.nan, 0.0)  # [N]
    lo = np.stack([boxes.x.min(axis=0), boxes.y.min(axis=0)]) + nan
    hi = np.stack([boxes.x.max(axis=0), boxes.y.max(axis=0)]) + nan
    return lo, hi


def iou_matrices(groups: Sequence[tuple[Sequence[Box], Sequence[Box]]]) -> list[np.ndarray]:
    """The IoU matrix [P, G] of each (predictions, ground truths) group (one image each), computed in one batch.

    All-HBB groups use the rectangle formula; any OBB makes its whole group polygonal (:func:`iou_pairs`).
    """
    a = BoxArray.of([box for p, _ in groups for box in p])
    b = BoxArray.of([box for _, g in groups for box in g])
    n_a, n_b = np.array([len(p) for p, _ in groups]), np.array([len(g) for _, g in groups])
    ia, ib = group_pairs(n_a, n_b)
    polygonal = np.array(
        [not (all(isinstance(x, HBB) for x in p) and all(isinstance(x, HBB) for x in g)) for p, g in groups]
    )
    group = np.repeat(np.arange(len(groups)), n_a * n_b)  # [K]
    iou = iou_pairs(a, b, ia, ib, polygonal[group] if len(groups) else None)
    out, first_a, first_b = [], np.cumsum(n_a) - n_a, np.cumsum(n_b) - n_b
    bounds = np.r_[0, np.cumsum(n_a * n_b)]
    for k, (p, g) in enumerate(groups):
        mat = np.zeros((len(p), len(g)))
        lo, hi = bounds[k], bounds[k + 1]
        mat[ia[lo:hi] - first_a[k], ib[lo:hi] - first_b[k]] = iou[lo:hi]
        out.append(mat)
    return out


def iou_matrix(preds: Sequence[Box], gts: Sequence[Box]) -> np.ndarray:
    """IoU of every prediction against every ground truth -> float64 array of shape [P, G].

    All-HBB inputs use vectorised numpy; any OBB switches the whole matrix to exact polygon IoU
    (HBBs become rectangles). Degenerate or invalid boxes get IoU 0.0 against everything.
    """
    if all(isinstance(b, HBB) for b in preds) and all(isinstance(b, HBB) for b in gts):
        a, b = BoxArray.of(preds).rects(), BoxArray.of(gts).rects()
        return _hbb_ious(a[:, None, :], b[None, :, :])  # [P, G]
    return iou_matrices([(preds, gts)])[0]


def ioa_pairs(a: BoxArray, regions: BoxArray, ia: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """Intersection over the area of ``a[ia[k]]`` with ``regions[ir[k]]`` -> [K] in [0, 1] (shapely).

    The overlap pycocotools uses for crowd regions (``iscrowd``) and AP's ignore regions: how much of a
    prediction lies inside the region. Degenerate or invalid boxes give 0.0.
    """
    usable_a = quad_kinds(a.x, a.y, a.proper()) != UNUSABLE  # [NA]
    usable_r = quad_kinds(regions.x, regions.y, regions.proper()) != UNUSABLE
    k = np.flatnonzero(usable_a[ia] & usable_r[ir])
    inter = shapely_intersection_area(a.corners(ia[k]), regions.corners(ir[k]))  # [K']
    with np.errstate(invalid="ignore", divide="ignore"):
        ioa = inter / np.abs(signed_area(a.x, a.y))[ia[k]]
    out = np.zeros(ia.size)
    out[k] = np.clip(np.nan_to_num(ioa, nan=0.0), 0.0, 1.0)
    return out


def ioa_matrix(preds: Sequence[Box], regions: Sequence[Box]) -> np.ndarray:
    """Intersection over the PREDICTION's area of every prediction with every region -> [P, R] in [0, 1]."""
    ia, ir = group_pairs(np.array([len(preds)]), np.array([len(regions)]))
    ioa = ioa_pairs(BoxArray.of(preds), BoxArray.of(regions), ia, ir)
    return ioa.reshape(len(preds), len(regions))
