"""Hypothesis strategies for boxes shared by the geometry tests."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from earthgpt.geometry import HBB, OBB, obb_from_rotated

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
angle = st.floats(min_value=-math.pi, max_value=math.pi, allow_nan=False)


@st.composite
def hbbs(draw: st.DrawFn, lo: float = 0.0, hi: float = 1.0, min_size: float = 0.0) -> HBB:
    """A proper HBB inside [lo, hi]^2 with sides of at least min_size."""
    coord = st.floats(min_value=lo, max_value=hi - min_size, allow_nan=False)
    x1, y1 = draw(coord), draw(coord)
    w = draw(st.floats(min_value=min_size, max_value=max(min_size, hi - x1), allow_nan=False))
    h = draw(st.floats(min_value=min_size, max_value=max(min_size, hi - y1), allow_nan=False))
    return HBB(x1, y1, min(hi, x1 + w), min(hi, y1 + h))


@st.composite
def rotated(draw: st.DrawFn, lo: float = 0.0, hi: float = 1.0, min_size: float = 0.0) -> tuple[float, ...]:
    """(cx, cy, w, h, angle) of a rectangle whose corners all lie in [lo, hi]^2."""
    span = hi - lo
    w = draw(st.floats(min_value=max(min_size, span * 1e-3), max_value=span * 0.7, allow_nan=False))
    h = draw(st.floats(min_value=max(min_size, span * 1e-3), max_value=span * 0.7, allow_nan=False))
    a = draw(angle)
    ex = abs(w / 2 * math.cos(a)) + abs(h / 2 * math.sin(a))
    ey = abs(w / 2 * math.sin(a)) + abs(h / 2 * math.cos(a))
    cx = draw(st.floats(min_value=lo + ex, max_value=max(lo + ex, hi - ex), allow_nan=False))
    cy = draw(st.floats(min_value=lo + ey, max_value=max(lo + ey, hi - ey), allow_nan=False))
    return (cx, cy, w, h, a)


@st.composite
def rect_obbs(draw: st.DrawFn, lo: float = 0.0, hi: float = 1.0, min_size: float = 0.0) -> OBB:
    """A rotated rectangle as an OBB with corners (nearly) inside [lo, hi]^2."""
    cx, cy, w, h, a = draw(rotated(lo, hi, min_size))
    return obb_from_rotated(cx, cy, w, h, a)


def clamp_obb(obb: OBB, lo: float = 0.0, hi: float = 1.0) -> OBB:
    """Clamp float noise that may put a corner a hair outside [lo, hi]."""
    return OBB(tuple(min(hi, max(lo, v)) for v in obb.points))  # type: ignore[arg-type]


@st.composite
def quads(draw: st.DrawFn, lo: float = -10.0, hi: float = 1000.0) -> list[tuple[float, float]]:
    """Four arbitrary corners (any order, possibly degenerate)."""
    c = st.floats(min_value=lo, max_value=hi, allow_nan=False)
    return [(draw(c), draw(c)) for _ in range(4)]
