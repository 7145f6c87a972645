"""Region text computed from geometry: the templated description of an object and the relation of two objects.

Templated (ours, no source writes them): size from the object's area against the image's (small below 3 % of
the image side, large from 15 %), orientation from the long side of its oriented box (or its mask's minimum-area
rectangle; a box under 1.3:1 has none), position as the 3 x 3 cell of the image holding its centre. Relations
compare centres (left of / right of unless the centres are closer than a quarter of the mean width, likewise
above / below), distances of the centres to the image centre, and areas (mask pixels where there are masks).
Directions are in the image (x right, y down), never compass directions: an image need not be north-up.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from earthgpt.data.instructions import templates as T
from earthgpt.data.masks import hbb_of, mask_pixels
from earthgpt.data.records import ImageRef
from earthgpt.geometry import OBB, Box
from earthgpt.geometry.masks import mask_obb
from earthgpt.geometry.order import obb_to_rotated

if TYPE_CHECKING:
    from earthgpt.data.instructions.regions import Target

__all__ = ["describe", "orientation", "position", "relation", "size_word"]

SMALL, LARGE = 0.03, 0.15
ELONGATED = 1.3


def size_word(area: float, image: ImageRef) -> str:
    """small / medium-sized / large by sqrt(object area) over sqrt(image area)."""
    side = math.sqrt(max(area, 0.0) / max(image.width * image.height, 1))
    return "small" if side < SMALL else "medium-sized" if side < LARGE else "large"


def orientation(box: Box) -> str:
    """'' (not elongated), ' lying horizontally', ' lying vertically' or a diagonal, from the box's long side."""
    if isinstance(box, OBB):
        _, _, w, h, theta = obb_to_rotated(box)
        long_side, short_side = max(w, h), max(min(w, h), 1e-9)
        angle = math.degrees(theta if w >= h else theta + math.pi / 2) % 180.0
    else:
        hb = hbb_of(box)
        long_side, short_side = max(hb.width, hb.height), max(min(hb.width, hb.height), 1e-9)
        angle = 0.0 if hb.width >= hb.height else 90.0
    if long_side / short_side < ELONGATED:
        return ""
    if angle < 22.5 or angle >= 157.5:
        return " lying horizontally"
    if 67.5 <= angle < 112.5:
        return " lying vertically"
    # y points down: an angle in (0, 90) runs from top left to bottom right
    return (
        " lying diagonally from top left to bottom right"
        if angle < 90
        else " lying diagonally from bottom left to top right"
    )


def position(box: Box, image: ImageRef) -> str:
    """The 3 x 3 cell of the image holding the box's centre: 'top left', 'top', ..., 'centre', ..."""
    h = hbb_of(box)
    cx, cy = (h.x1 + h.x2) / 2.0 / max(image.width, 1), (h.y1 + h.y2) / 2.0 / max(image.height, 1)
    row = ("top", "", "bottom")[min(int(cy * 3), 2)]
    col = ("left", "", "right")[min(int(cx * 3), 2)]
    return " ".join(p for p in (row, col) if p) or "centre"


def describe(target: Target, image: ImageRef) -> str:
    """``A small ship lying horizontally, in the top left of the image.`` (templated, see the module docstring)."""
    box = target.box
    if not isinstance(box, OBB) and target.mask is not None:
        box = mask_obb(*mask_pixels(target.mask))
    return T.REGION_TEMPLATE.format(
        size=size_word(target.area, image),
        label=target.label,
        orientation=orientation(box),
        position=position(target.box, image),
    )


def relation(a: Target, b: Target, image: ImageRef, name_a: str, name_b: str) -> str:
    """``<region1> is left of and above <region2>; it is nearer to the image centre and larger.``"""
    ha, hb = hbb_of(a.box), hbb_of(b.box)
    ax, ay, bx, by = (ha.x1 + ha.x2) / 2, (ha.y1 + ha.y2) / 2, (hb.x1 + hb.x2) / 2, (hb.y1 + hb.y2) / 2
    tol_x = 0.25 * (ha.width + hb.width) / 2
    tol_y = 0.25 * (ha.height + hb.height) / 2
    words = []
    if abs(ax - bx) > tol_x:
        words.append("left of" if ax < bx else "right of")
    if abs(ay - by) > tol_y:
        words.append("above" if ay < by else "below")
    where = f"is {' and '.join(words)}" if words else "is level with"
    cx, cy = image.width / 2, image.height / 2
    nearer = "nearer to" if math.dist((ax, ay), (cx, cy)) < math.dist((bx, by), (cx, cy)) else "farther from"
    larger = "larger" if a.area > b.area else "smaller" if a.area < b.area else "of the same size"
    return T.RELATION_ANSWER.format(a=name_a, position=where, b=name_b, nearer=nearer, larger=larger)
