"""EarthGPT box normalisation: pad the image to a centred square, shift, divide by the side -> [0, 1].

For an image of ``width`` x ``height`` pixels the side is ``S = max(width, height)`` and the image sits
in the middle of the square, offset by ``dx = (S - width) / 2`` and ``dy = (S - height) / 2``. A pixel
point (x, y) becomes ``((x + dx) / S, (y + dy) / S)``; ``denormalize`` is the exact inverse. Both keep
the point order of an OBB (call ``order_obb`` afterwards for the paper's order).

Some other models (GeoChat, Falcon) normalise each axis by its own size instead (x / width, y / height);
``per_axis_to_square`` and ``square_to_per_axis`` convert between the two frames.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from shapely.geometry import Polygon
from shapely.geometry import box as shapely_box

from earthgpt.geometry.boxes import HBB, OBB, Box
from earthgpt.geometry.iou import box_polygon
from earthgpt.geometry.order import obb_from_rotated, obb_to_rotated, order_obb

__all__ = [
    "clip_box",
    "denormalize",
    "inside_fraction",
    "normalize",
    "pad_offsets",
    "per_axis_to_square",
    "square_to_per_axis",
]

PointMap = Callable[[float, float], tuple[float, float]]


def _check_size(width: float, height: float) -> None:
    """Raise ValueError unless both image sides are positive and finite."""
    if not (math.isfinite(width) and math.isfinite(height) and width > 0 and height > 0):
        raise ValueError(f"image size {width}x{height} is not positive: pass the image's width and height in pixels")


def pad_offsets(width: float, height: float) -> tuple[float, float, float]:
    """Side S of the padded square and the offsets (dx, dy) of the image inside it -> (S, dx, dy)."""
    _check_size(width, height)
    side = float(max(width, height))
    return side, (side - width) / 2.0, (side - height) / 2.0


def _map_box(box: Box, fn: PointMap) -> Box:
    """Apply a monotone per-axis point map to every corner of a box (keeps the point order)."""
    if isinstance(box, HBB):
        x1, y1 = fn(box.x1, box.y1)
        x2, y2 = fn(box.x2, box.y2)
        return HBB(x1, y1, x2, y2)
    out: list[float] = []
    for x, y in box.corners():
        out.extend(fn(x, y))
    return OBB(tuple(out))  # type: ignore[arg-type]


def normalize(box: Box, width: float, height: float) -> Box:
    """Pixel box -> EarthGPT normalised box in [0, 1] (centred square padding of side max(w, h))."""
    side, dx, dy = pad_offsets(width, height)
    return _map_box(box, lambda x, y: ((x + dx) / side, (y + dy) / side))


def denormalize(box: Box, width: float, height: float) -> Box:
    """EarthGPT normalised box -> pixel box; the exact inverse of ``normalize``."""
    side, dx, dy = pad_offsets(width, height)
    return _map_box(box, lambda x, y: (x * side - dx, y * side - dy))


def per_axis_to_square(box: Box, width: float, height: float) -> Box:
    """A box normalised per axis (x / width, y / height) -> the EarthGPT square-padded frame."""
    side, dx, dy = pad_offsets(width, height)
    return _map_box(box, lambda x, y: ((x * width + dx) / side, (y * height + dy) / side))


def square_to_per_axis(box: Box, width: float, height: float) -> Box:
    """A box in the EarthGPT square-padded frame -> normalised per axis (x / width, y / height)."""
    side, dx, dy = pad_offsets(width, height)
    return _map_box(box, lambda x, y: ((x * side - dx) / width, (y * side - dy) / height))


def _frame(width: float, height: float) -> Polygon:
    """The image rectangle [0, width] x [0, height] as a polygon."""
    _check_size(width, height)
    return shapely_box(0.0, 0.0, float(width), float(height))


def _clamp_corners(box: OBB, width: float, height: float) -> OBB:
    """Clamp every corner into the frame (used when nothing of the box is visible)."""
    out: list[float] = []
    for x, y in box.corners():
        out.extend((min(max(x, 0.0), width), min(max(y, 0.0), height)))
    return OBB(tuple(out))  # type: ignore[arg-type]


def clip_box(box: Box, width: float, height: float) -> Box:
    """Cut a box to the frame [0, width] x [0, height] (use 1, 1 for normalised boxes).

    An HBB has its coordinates clamped. An OBB wholly inside is returned unchanged; otherwise the
    tightest rectangle of the same orientation around its visible part is taken and its corners are
    clamped into the frame, giving a quadrilateral (as DOTA allows) in the paper's point order that
    approximates the visible part. An OBB wholly outside has its corners clamped (zero area). Test
    ``.area > 0`` or ``inside_fraction`` to drop boxes that (mostly) left the frame.
    """
    _check_size(width, height)
    if isinstance(box, HBB):
        return HBB(
            min(max(box.x1, 0.0), width),
            min(max(box.y1, 0.0), height),
            min(max(box.x2, 0.0), width),
            min(max(box.y2, 0.0), height),
        )
    corners = np.asarray(box.points, dtype=np.float64).reshape(4, 2)  # [4, 2]
    inside = (corners >= 0).all() and (corners[:, 0] <= width).all() and (corners[:, 1] <= height).all()
    if inside:
        return box
    poly = box_polygon(box)
    visible = poly.intersection(_frame(width, height)) if poly is not None else None
    if visible is None or visible.is_empty or visible.area <= 0.0:
        return _clamp_corners(box, width, height)
    _, _, _, _, angle = obb_to_rotated(box)
    u = np.array([math.cos(angle), math.sin(angle)])  # long side direction
    v = np.array([-math.sin(angle), math.cos(angle)])
    pts = np.asarray(visible.exterior.coords, dtype=np.float64)  # [K, 2]
    pu, pv = pts @ u, pts @ v  # [K], [K]
    cu, cv = (pu.min() + pu.max()) / 2.0, (pv.min() + pv.max()) / 2.0
    centre = cu * u + cv * v
    clipped = obb_from_rotated(
        float(centre[0]), float(centre[1]), float(pu.max() - pu.min()), float(pv.max() - pv.min()), angle
    )
    return order_obb(_clamp_corners(clipped, width, height))


def inside_fraction(box: Box, width: float, height: float) -> float:
    """Share of the box's area that lies inside the frame [0, width] x [0, height]; 0.0 for empty boxes."""
    poly = box_polygon(box)
    if poly is None:
        return 0.0
    return float(poly.intersection(_frame(width, height)).area / poly.area)
