"""The paper's corner order for oriented boxes, and conversions between OBB, rotated-box and HBB forms.

Coordinates are image coordinates: x to the right, y downwards.

Corner order (EarthGPT, Sec. III): the first corner is the one closest to the origin (0, 0); the other
three follow in ascending order of their angle ``atan2(dy, dx)`` about that first corner. With y
pointing down, ascending angle is clockwise on screen, so an axis-aligned box comes out as top-left,
top-right, bottom-right, bottom-left.

Deterministic tie-breaks, so that the result depends only on the set of corners:

* first corner: smallest ``x*x + y*y``; on a tie the smaller y, then the smaller x;
* the others: ascending angle; on equal angles the nearer corner first, then smaller y, then smaller x
  (corners equal in all of these are identical points, so their order does not matter).

Angles are measured relative to the direction from the first corner to the centroid of the four
corners and wrapped to (-pi, pi]. For every box whose corners lie in the non-negative quadrant (every
box inside an image) this gives exactly the plain ``atan2`` order; for corners at negative coordinates
it still yields a simple (non-crossing) polygon, where plain ``atan2`` could wrap around at +-pi.

Rotated boxes ``(cx, cy, w, h, angle)`` use the roLabelImg / DIOR-R convention: the side of length
``w`` points along ``(cos(angle), sin(angle))`` in image coordinates, so a positive angle turns the box
clockwise on screen. ``obb_to_rotated`` returns the canonical form of the minimum-area rectangle:
``w >= h`` and ``angle`` in [-pi/2, pi/2) ("long side, 180 degree" range); for a square, where any
quarter turn gives the same box, ``angle`` is reduced to [-pi/4, pi/4).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from earthgpt.geometry.boxes import HBB, OBB

__all__ = ["hbb_to_obb", "min_area_rect", "obb_from_rotated", "obb_to_hbb", "obb_to_rotated", "order_obb"]

Point = tuple[float, float]

# Relative tolerance under which w and h count as equal (the box is a square).
_SQUARE_RTOL = 1e-9


def _as_corners(points: OBB | Sequence[float] | Sequence[Sequence[float]]) -> list[Point]:
    """Four (x, y) corners from an OBB, 8 numbers, or 4 pairs."""
    if isinstance(points, OBB):
        return points.corners()
    flat: list[float] = []
    for p in points:
        if isinstance(p, (int, float)):
            flat.append(float(p))
        else:
            flat.extend(float(v) for v in p)
    if len(flat) != 8:
        raise ValueError(f"an oriented box needs 4 corners (8 numbers), got {len(flat)} numbers")
    return [(flat[0], flat[1]), (flat[2], flat[3]), (flat[4], flat[5]), (flat[6], flat[7])]


def order_obb(points: OBB | Sequence[float] | Sequence[Sequence[float]]) -> OBB:
    """Corners in the paper's order (see module docstring); idempotent and independent of input order."""
    corners = _as_corners(points)
    first = min(corners, key=lambda p: (p[0] * p[0] + p[1] * p[1], p[1], p[0]))
    rest = list(corners)
    rest.remove(first)
    # fsum is exactly rounded, so the centroid does not depend on the input order.
    mx = math.fsum(p[0] for p in corners) / 4.0
    my = math.fsum(p[1] for p in corners) / 4.0
    ref = math.atan2(my - first[1], mx - first[0])

    def key(p: Point) -> tuple[float, float, float, float]:
        dx, dy = p[0] - first[0], p[1] - first[1]
        rel = math.atan2(dy, dx) - ref
        if rel <= -math.pi:
            rel += 2.0 * math.pi
        elif rel > math.pi:
            rel -= 2.0 * math.pi
        return (rel, dx * dx + dy * dy, p[1], p[0])

    rest.sort(key=key)
    out: list[float] = [first[0], first[1]]
    for p in rest:
        out.extend(p)
    return OBB(tuple(out))  # type: ignore[arg-type]


def obb_from_rotated(cx: float, cy: float, w: float, h: float, angle: float, degrees: bool = False) -> OBB:
    """Rotated box (centre, size, angle) -> OBB in the paper's corner order (angle convention above)."""
    a = math.radians(angle) if degrees else angle
    c, s = math.cos(a), math.sin(a)
    corners: list[Point] = []
    for sx, sy in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)):
        ox, oy = sx * w, sy * h
        corners.append((cx + c * ox - s * oy, cy + s * ox + c * oy))
    return order_obb(corners)


def _wrap(a: float, low: float, period: float) -> float:
    """Wrap an angle into [low, low + period)."""
    out = (a - low) % period + low
    return low if out >= low + period else out


def _canonical(cx: float, cy: float, w: float, h: float, a: float) -> tuple[float, float, float, float, float]:
    """Long side first, angle in [-pi/2, pi/2); squares in [-pi/4, pi/4)."""
    if w < h:
        w, h, a = h, w, a + math.pi / 2.0
    if w - h <= _SQUARE_RTOL * max(w, 1e-300):
        a = _wrap(a, -math.pi / 4.0, math.pi / 2.0)
    else:
        a = _wrap(a, -math.pi / 2.0, math.pi)
    return cx, cy, w, h, a


def min_area_rect(points: Sequence[Point]) -> tuple[float, float, float, float, float]:
    """Minimum-area enclosing rectangle of a few points -> canonical (cx, cy, w, h, angle in radians).

    Tries every direction given by a pair of points (a superset of the hull edges, where the optimum
    lies), so it is exact for any point set; meant for small sets such as the 4 corners of a box.
    """
    pts = [(float(x), float(y)) for x, y in points]
    best: tuple[float, float, float, float, float] | None = None
    best_area = math.inf
    for i in range(len(pts)):
        for j in range(i + 1, len(pts)):
            dx, dy = pts[j][0] - pts[i][0], pts[j][1] - pts[i][1]
            norm = math.hypot(dx, dy)
            if norm == 0.0:
                continue
            ux, uy = dx / norm, dy / norm
            pu = [x * ux + y * uy for x, y in pts]
            pv = [-x * uy + y * ux for x, y in pts]
            w, h = max(pu) - min(pu), max(pv) - min(pv)
            if w * h < best_area:
                best_area = w * h
                cu, cv = (max(pu) + min(pu)) / 2.0, (max(pv) + min(pv)) / 2.0
                best = (cu * ux - cv * uy, cu * uy + cv * ux, w, h, math.atan2(uy, ux))
    if best is None:  # all points identical (or no points)
        x0, y0 = pts[0] if pts else (0.0, 0.0)
        return (x0, y0, 0.0, 0.0, 0.0)
    return _canonical(*best)


def obb_to_rotated(obb: OBB, degrees: bool = False) -> tuple[float, float, float, float, float]:
    """OBB -> its minimum-area rectangle as (cx, cy, w, h, angle), canonical form (see module docstring)."""
    cx, cy, w, h, a = min_area_rect(obb.corners())
    return (cx, cy, w, h, math.degrees(a) if degrees else a)


def obb_to_hbb(obb: OBB) -> HBB:
    """The horizontal box enclosing an OBB."""
    xs, ys = obb.points[0::2], obb.points[1::2]
    return HBB(min(xs), min(ys), max(xs), max(ys))


def hbb_to_obb(hbb: HBB) -> OBB:
    """An HBB as an OBB: its four corners in the paper's order (top-left first, clockwise on screen)."""
    return order_obb((hbb.x1, hbb.y1, hbb.x2, hbb.y1, hbb.x2, hbb.y2, hbb.x1, hbb.y2))
