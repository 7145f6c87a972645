"""Batched geometry of quadrilaterals in numpy: signed areas, convexity and convex-convex intersection areas.

Internally corner-major: a batch of K quadrilaterals is ``x`` [4, K] and ``y`` [4, K] (corner i of every one in
row i), so each step is one contiguous array operation.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.errors import GEOSException

__all__ = [
    "CONVEX",
    "NON_CONVEX",
    "UNUSABLE",
    "convex_intersection_area",
    "corner_major_intersection_area",
    "quad_kinds",
    "shapely_intersection_area",
    "signed_area",
]

UNUSABLE, CONVEX, NON_CONVEX = 0, 1, 2
_NEXT = np.array([1, 2, 3, 0])  # the corner after each of four
_TINY = np.finfo(np.float64).tiny
_NEAR = 1e-12  # an edge this close to a line (relative to the pair's extent) is "on it, up to rounding"


def signed_area(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Signed area of quadrilaterals [4, K] -> [K] (positive when counter-clockwise in x-right, y-up axes)."""
    return 0.5 * np.sum(x * y[_NEXT] - x[_NEXT] * y, axis=0)


def quad_kinds(x: np.ndarray, y: np.ndarray, proper: np.ndarray) -> np.ndarray:
    """Per quadrilateral [4, N]: CONVEX, NON_CONVEX (valid, for shapely) or UNUSABLE -> [N] int8.

    ``proper`` [N] bool marks the ones allowed at all (an HBB with x2 <= x1 or y2 <= y1 is not). Non-finite,
    zero-area and self-crossing ("bow tie") quadrilaterals are UNUSABLE: their IoU with anything is 0.
    """
    finite = np.isfinite(x).all(axis=0) & np.isfinite(y).all(axis=0)  # [N]
    x, y = np.where(finite, x, 0.0), np.where(finite, y, 0.0)
    ex, ey = x[_NEXT] - x, y[_NEXT] - y  # [4, N] edges
    turn = ex * ey[_NEXT] - ey * ex[_NEXT]  # [4, N] at each corner
    convex = (turn >= 0).all(axis=0) | (turn <= 0).all(axis=0)
    usable = finite & proper & (signed_area(x, y) != 0.0)
    out = np.full(x.shape[1], UNUSABLE, dtype=np.int8)
    out[usable & convex] = CONVEX
    rest = np.flatnonzero(usable & ~convex)
    if rest.size:  # a valid non-convex quad goes to shapely; a self-crossing one stays unusable
        polys = shapely.polygons(np.stack([x[:, rest].T, y[:, rest].T], axis=-1))
        out[rest[shapely.is_valid(polys)]] = NON_CONVEX
    return out


def convex_intersection_area(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection area of K pairs of convex quadrilaterals [K, 4, 2] (any winding) -> [K], all at once."""
    return corner_major_intersection_area(a[..., 0].T, a[..., 1].T, b[..., 0].T, b[..., 1].T)


def corner_major_intersection_area(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Intersection area of K pairs of convex quadrilaterals given corner-major, [4, K] each -> [K].

    Green's theorem over the boundary of the intersection, which is made of the parts of each polygon's edges
    that lie inside the other: every edge is cut to its partner's half-planes (Cyrus-Beck) and adds the cross
    product of its ends. An edge of ``b`` lying exactly on an edge of ``a`` with the same direction is left to
    ``a``, so a shared stretch of boundary counts once; opposite ones (boxes touching from outside) cancel.
    Where an edge lies within rounding of the other polygon's edge line without being exactly on it, inside
    and outside cannot be told apart reliably: those pairs go to shapely. Coordinates are taken relative to a
    corner of ``a`` so the terms stay small.
    """
    ox, oy = ax[0], ay[0]  # [K]
    ax, ay = _counter_clockwise(ax - ox, ay - oy)
    bx, by = _counter_clockwise(bx - ox, by - oy)
    scale = np.maximum.reduce([np.abs(v).max(axis=0) for v in (ax, ay, bx, by)])  # [K]
    twice_a, near_a = _edge_terms_inside(ax, ay, bx, by, scale, keep_shared=True)
    twice_b, near_b = _edge_terms_inside(bx, by, ax, ay, scale, keep_shared=False)
    area = np.maximum(0.5 * (twice_a + twice_b), 0.0)  # [K]
    near = np.flatnonzero(near_a | near_b)
    if near.size:
        pa = np.stack([ax[:, near].T, ay[:, near].T], axis=-1)  # [N, 4, 2]
        pb = np.stack([bx[:, near].T, by[:, near].T], axis=-1)
        area[near] = shapely_intersection_area(pa, pb)
    return area


def shapely_intersection_area(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection area of K pairs of valid polygons [K, V, 2] with GEOS -> [K]; 0.0 where GEOS fails."""
    pa, pb = shapely.polygons(a), shapely.polygons(b)
    try:
        return np.asarray(shapely.area(shapely.intersection(pa, pb)), dtype=np.float64)
    except GEOSException:
        return np.array([_one_intersection_area(x, y) for x, y in zip(pa, pb, strict=True)], dtype=np.float64)


def _one_intersection_area(a: shapely.Geometry, b: shapely.Geometry) -> float:
    try:
        return float(shapely.area(shapely.intersection(a, b)))
    except GEOSException:
        return 0.0


def _counter_clockwise(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The quadrilaterals [4, K] with their corners reversed where they turn clockwise."""
    cw = signed_area(x, y) < 0  # [K]
    x[:, cw], y[:, cw] = x[::-1, cw], y[::-1, cw]  # x and y are fresh arrays here
    return x, y


def _edge_terms_inside(
    px: np.ndarray, py: np.ndarray, qx: np.ndarray, qy: np.ndarray, scale: np.ndarray, keep_shared: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Twice the signed area that the parts of the edges of ``p`` inside ``q`` add -> [K], and [K] whether an
    edge of ``p`` lies within rounding of an edge line of ``q`` without being exactly on it.

    ``p`` and ``q`` are [4, K] per coordinate, ``q`` counter-clockwise. The part of edge i (p_i + t d_i)
    inside ``q`` is t in [lo, hi], closed (on an edge of ``q`` counts), and adds the cross product of its two
    ends. With ``keep_shared`` False an edge of ``p`` exactly on an edge of ``q`` with the same direction adds
    nothing. Written without masked selections (slow in numpy): crossing parameters are clamped to [-1, 2],
    which keeps every comparison with [0, 1], and bounds that do not apply are shifted out of range.
    """
    dx, dy = px[_NEXT] - px, py[_NEXT] - py  # [4, K] edges i of p
    lo, hi = np.zeros_like(px), np.ones_like(px)  # [4, K]
    near = np.zeros(px.shape[1], dtype=bool)  # [K]
    for j in range(4):  # cut every edge of p to the half-plane left of edge j of q
        ex, ey = qx[_NEXT[j]] - qx[j], qy[_NEXT[j]] - qy[j]  # [K]
        side = ex * py - ey * px - (ex * qy[j] - ey * qx[j])  # [4, K] where p_i lies: >= 0 inside
        fall = ey * dx - ex * dy  # how fast side falls along d_i
        parallel = fall == 0
        fall -= _TINY * parallel  # parallel: inside (side >= 0) gives no bound, outside an empty one
        with np.errstate(over="ignore"):
            t = np.clip(side / fall, -1.0, 2.0)  # where edge i crosses the line of edge j
        np.maximum(lo, t - 4.0 * (fall > 0), out=lo)  # entering where side rises
        np.minimum(hi, t + 4.0 * (fall < 0), out=hi)  # leaving where it falls
        tol = _NEAR * scale * (np.abs(ex) + np.abs(ey))  # [K] side is |e_j| times the distance to the line
        if (np.abs(fall) <= 2 * tol).any():  # (nearly) parallel: the rare cases, on their own
            near |= _near_edges(parallel, side, fall, tol, lo, dx * ex + dy * ey > 0, keep_shared)
    np.maximum(hi, lo, out=hi)  # an empty part has zero length
    x0, y0, x1, y1 = px + lo * dx, py + lo * dy, px + hi * dx, py + hi * dy  # [4, K] the part inside
    return np.sum(x0 * y1 - x1 * y0, axis=0), near


def _near_edges(
    parallel: np.ndarray,
    side: np.ndarray,
    fall: np.ndarray,
    tol: np.ndarray,
    lo: np.ndarray,
    forward: np.ndarray,
    keep_shared: bool,
) -> np.ndarray:
    """Edges of p [4, K] (nearly) parallel to an edge line of q: one exactly on that line with the same
    direction is cut away (``lo`` set past 1) unless ``keep_shared``; -> [K] whether one lies within ``tol``
    of the line at both ends without being exactly on it."""
    on_line = parallel & (side == 0)
    if not keep_shared:
        lo[on_line & forward] = 2.0
    close = (np.abs(side) <= tol) & (np.abs(side - fall) <= tol) & ~on_line
    return close.any(axis=0)
