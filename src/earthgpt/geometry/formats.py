"""Converters between our boxes and the box formats of datasets and other remote-sensing models.

Pixel formats (exact, no rounding):

* COCO ``[x, y, w, h]`` (top-left corner and size) <-> HBB.
* VOC ``[xmin, ymin, xmax, ymax]`` <-> HBB (continuous coordinates, no +1 pixel).
* DOTA 8-point polygon ``x1 y1 x2 y2 x3 y3 x4 y4`` <-> OBB, corner order kept as given.
* Rotated ``(cx, cy, w, h, angle)`` <-> OBB, angle in radians (roLabelImg / HIT-UAV ``robndbox``) or in
  degrees (DIOR-R ``<angle>``); the convention is the one of ``earthgpt.geometry.order``: the ``w`` side
  points along ``(cos a, sin a)`` in image coordinates (positive = clockwise on screen). roLabelImg builds
  its corners as ``rotatePoint(cx, cy, cx -+ w/2, cy -+ h/2, -angle)``, which is this convention, and in
  DIOR-R the angle is that of the top edge (left-top -> right-top corner).

Grid formats (integers; convert to and from our normalised [0, 1] boxes):

* GeoChat: ``{<x1><y1><x2><y2>|<t>}``, several joined by ``<delim>``; integers on a 0-100 grid. We read
  the four numbers as the axis-aligned extent (left, top, right, bottom) of the box before rotation,
  centred on the box centre, and ``t`` as whole degrees where 90 means axis-aligned (GeoChat writes
  ``|<90>`` for horizontal boxes); the box is turned by ``t - 90`` degrees about its centre, clockwise
  on screen for positive values. GeoChat's own papers give the layout and the 0-100 range but not the
  angle's origin or sign: the ``t - 90`` reading is our documented choice.
* Falcon (TianHuiLab, built on Florence-2): ``<box><x1><y1><x2><y2></box>`` for an HBB and
  ``<quad><x1><y1><x2><y2><x3><y3><x4><y4></quad>`` for an OBB (corners as given), integers on a 0-1000
  grid; its examples include the value 1000, so a coordinate v becomes ``round(v * 1000)`` clamped to
  [0, 1000]. Source: the Falcon README's prompts (e.g. ``<box><855><297><891><355></box>``).

Both GeoChat and Falcon normalise each axis by its own image size (x / width, y / height), whereas
EarthGPT pads to a square. Here "normalised" means whichever frame the caller works in; for a
non-square image convert with ``per_axis_to_square`` / ``square_to_per_axis`` from
``earthgpt.geometry.normalize``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from earthgpt.geometry.boxes import HBB, OBB, Box, BoxKind
from earthgpt.geometry.order import obb_from_rotated, obb_to_rotated

__all__ = [
    "FALCON_GRID",
    "GEOCHAT_GRID",
    "coco_to_hbb",
    "dota_to_obb",
    "from_falcon",
    "from_geochat",
    "from_grid",
    "hbb_to_coco",
    "hbb_to_voc",
    "obb_to_dota",
    "parse_falcon",
    "parse_geochat",
    "to_falcon",
    "to_geochat",
    "to_grid",
    "voc_to_hbb",
]

GEOCHAT_GRID = 100
FALCON_GRID = 1000


def _numbers(values: Sequence[float], n: int, what: str) -> list[float]:
    """Exactly n floats, or a ValueError naming the format."""
    out = [float(v) for v in values]
    if len(out) != n:
        raise ValueError(f"a {what} box needs {n} numbers, got {len(out)}: {list(values)!r}")
    return out


def coco_to_hbb(xywh: Sequence[float]) -> HBB:
    """COCO ``[x, y, w, h]`` -> HBB."""
    x, y, w, h = _numbers(xywh, 4, "COCO")
    return HBB(x, y, x + w, y + h)


def hbb_to_coco(box: HBB) -> list[float]:
    """HBB -> COCO ``[x, y, w, h]``."""
    return [box.x1, box.y1, box.x2 - box.x1, box.y2 - box.y1]


def voc_to_hbb(xyxy: Sequence[float]) -> HBB:
    """VOC ``[xmin, ymin, xmax, ymax]`` -> HBB."""
    return HBB(*_numbers(xyxy, 4, "VOC"))


def hbb_to_voc(box: HBB) -> list[float]:
    """HBB -> VOC ``[xmin, ymin, xmax, ymax]``."""
    return [box.x1, box.y1, box.x2, box.y2]


def dota_to_obb(points: Sequence[float]) -> OBB:
    """DOTA ``[x1, y1, ..., x4, y4]`` -> OBB (corner order kept)."""
    return OBB(tuple(_numbers(points, 8, "DOTA")))  # type: ignore[arg-type]


def obb_to_dota(obb: OBB) -> list[float]:
    """OBB -> DOTA ``[x1, y1, ..., x4, y4]``."""
    return list(obb.points)


def to_grid(box: Box, grid: int) -> list[int]:
    """Normalised box -> its coordinates as integers on a 0..grid scale (rounded, clamped)."""
    return [min(grid, max(0, round(v * grid))) for v in box.as_tuple()]


def from_grid(values: Sequence[int | float], grid: int) -> Box:
    """4 (HBB) or 8 (OBB) numbers on a 0..grid scale -> normalised box."""
    vals = [float(v) / grid for v in values]
    if len(vals) == 4:
        return HBB(*vals)
    if len(vals) == 8:
        return OBB(tuple(vals))  # type: ignore[arg-type]
    raise ValueError(f"a grid box needs 4 or 8 numbers, got {len(vals)}: {list(values)!r}")


def _geochat_params(box: Box) -> tuple[float, float, float, float, float]:
    """(cx, cy, w, h, rotation in radians within [-pi/4, pi/4)) of a normalised box."""
    if isinstance(box, HBB):
        return ((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2, box.x2 - box.x1, box.y2 - box.y1, 0.0)
    cx, cy, w, h, a = obb_to_rotated(box)
    if a >= math.pi / 4:
        w, h, a = h, w, a - math.pi / 2
    elif a < -math.pi / 4:
        w, h, a = h, w, a + math.pi / 2
    return cx, cy, w, h, a


def to_geochat(box: Box) -> str:
    """Normalised box -> GeoChat ``{<x1><y1><x2><y2>|<t>}`` (0-100 grid, t = 90 + rotation in degrees)."""
    cx, cy, w, h, a = _geochat_params(box)
    g = GEOCHAT_GRID
    ext = [round((cx - w / 2) * g), round((cy - h / 2) * g), round((cx + w / 2) * g), round((cy + h / 2) * g)]
    theta = 90 + round(math.degrees(a))
    return "{" + "".join(f"<{v}>" for v in ext) + f"|<{theta}>" + "}"


_INT = r"\s*<\s*(-?[0-9]{1,9})\s*>"
_GEOCHAT_RE = re.compile(r"\{" + _INT * 4 + r"\s*(?:\|\s*<?\s*(-?[0-9]{1,9})\s*>?\s*)?\}")


def _geochat_box(m: re.Match[str], kind: BoxKind | None) -> Box:
    """One regex match of a GeoChat box -> normalised box."""
    x1, y1, x2, y2 = (int(m.group(i)) / GEOCHAT_GRID for i in range(1, 5))
    theta = int(m.group(5)) if m.group(5) is not None else 90
    if kind == "hbb" or (kind is None and theta == 90):
        return HBB(x1, y1, x2, y2)
    cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
    return obb_from_rotated(cx, cy, w, h, float(theta - 90), degrees=True)


def parse_geochat(text: str, kind: BoxKind | None = None) -> list[Box]:
    """Every GeoChat box found in a text, in order; unreadable fragments are skipped, never raises.

    ``kind=None`` gives an HBB for ``t == 90`` (or no angle) and an OBB otherwise.
    """
    return [_geochat_box(m, kind) for m in _GEOCHAT_RE.finditer(text)]


def from_geochat(text: str, kind: BoxKind | None = None) -> Box:
    """The first GeoChat box in a text; ValueError when there is none."""
    m = _GEOCHAT_RE.search(text)
    if m is None:
        raise ValueError(f"no GeoChat box {{<x1><y1><x2><y2>|<t>}} in {text[:80]!r}")
    return _geochat_box(m, kind)


def to_falcon(box: Box) -> str:
    """Normalised box -> Falcon ``<box>..</box>`` (HBB) or ``<quad>..</quad>`` (OBB) on a 0-1000 grid."""
    tag = "box" if isinstance(box, HBB) else "quad"
    return f"<{tag}>" + "".join(f"<{v}>" for v in to_grid(box, FALCON_GRID)) + f"</{tag}>"


_FALCON_RE = re.compile(r"<(box|quad)>((?:\s*<\s*[0-9]{1,9}\s*>)+)\s*</\1>")
_FALCON_NUM = re.compile(r"<\s*([0-9]{1,9})\s*>")


def parse_falcon(text: str) -> list[Box]:
    """Every Falcon box (``<box>`` with 4 numbers, ``<quad>`` with 8) in a text; never raises."""
    out: list[Box] = []
    for m in _FALCON_RE.finditer(text):
        nums = [int(v) for v in _FALCON_NUM.findall(m.group(2))]
        if (m.group(1) == "box" and len(nums) == 4) or (m.group(1) == "quad" and len(nums) == 8):
            out.append(from_grid(nums, FALCON_GRID))
    return out


def from_falcon(text: str) -> Box:
    """The first Falcon box in a text; ValueError when there is none."""
    boxes = parse_falcon(text)
    if not boxes:
        raise ValueError(f"no Falcon <box>/<quad> in {text[:80]!r}")
    return boxes[0]
