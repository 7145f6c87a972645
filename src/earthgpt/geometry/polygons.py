"""Boxes as areas: the polygon a box covers, a convex polygon reduced to a box, minimum-area rectangles of point sets."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon
from shapely.geometry import box as shapely_box

from earthgpt.geometry.boxes import HBB, OBB, Box
from earthgpt.geometry.order import min_area_rect, obb_from_rotated, obb_to_hbb

__all__ = ["clamped_min_area_rect", "enclosing_hbb", "hull_polygon", "min_area_obb", "polygon_quad"]

Point = tuple[float, float]


def hull_polygon(box: Box) -> Polygon | None:
    """The area a box covers as a polygon: an HBB's rectangle, the convex hull of an OBB's corners (so corner order
    does not matter); None for a box with a non-finite coordinate or no area.

    Unlike :func:`earthgpt.geometry.iou.box_polygon`, which scores an OBB as written (a bow tie is invalid there),
    this is what an annotation covers, for cutting boxes by tile edges."""
    coords = box.as_tuple()
    if not all(math.isfinite(v) for v in coords):
        return None
    if isinstance(box, HBB):
        if box.x2 <= box.x1 or box.y2 <= box.y1:
            return None
        return shapely_box(box.x1, box.y1, box.x2, box.y2)
    hull = MultiPoint(box.corners()).convex_hull
    return hull if isinstance(hull, Polygon) and hull.area > 0 else None


def polygon_quad(poly: Polygon) -> list[Point]:
    """A convex polygon reduced to four corners: the ends of its shortest edge merge into their midpoint until four
    remain (a triangle keeps its vertices and repeats the last one). Every corner stays inside the polygon's hull."""
    pts = [(float(x), float(y)) for x, y in shapely.simplify(poly, 0.0).exterior.coords[:-1]]
    while len(pts) > 4:
        n = len(pts)
        i = min(range(n), key=lambda k: math.dist(pts[k], pts[(k + 1) % n]))
        j = (i + 1) % n
        pts[i] = ((pts[i][0] + pts[j][0]) / 2.0, (pts[i][1] + pts[j][1]) / 2.0)
        del pts[j]
    while len(pts) < 4:
        pts.append(pts[-1])
    return pts


def clamped_min_area_rect(poly: Polygon, frame: tuple[float, float, float, float]) -> list[Point]:
    """The corners (paper order) of the minimum-area rectangle around ``poly``, clamped into ``frame`` (x1, y1,
    x2, y2)."""
    corners = min_area_obb(list(poly.exterior.coords)[:-1]).corners()
    x1, y1, x2, y2 = frame
    return [(min(max(float(x), x1), x2), min(max(float(y), y1), y2)) for x, y in corners]


def min_area_obb(points: Sequence[Point] | np.ndarray) -> OBB:
    """The minimum-area rectangle around a point set (polygon vertices, mask pixel corners), in the paper's
    corner order; ValueError for points that are not finite or span no area."""
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)  # [N, 2]
    if not np.isfinite(xy).all():
        raise ValueError("a point is NaN or infinite")
    hull = shapely.convex_hull(shapely.multipoints(xy))
    if not isinstance(hull, Polygon):
        raise ValueError(f"{len(xy)} points span no area, so they have no enclosing rectangle")
    cx, cy, w, h, angle = min_area_rect(list(hull.exterior.coords)[:-1])
    return obb_from_rotated(cx, cy, w, h, angle)


def enclosing_hbb(box: Box) -> HBB:
    """The horizontal box enclosing any box."""
    return box if isinstance(box, HBB) else obb_to_hbb(box)
