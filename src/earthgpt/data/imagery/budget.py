"""What a raster is (its header), what reading part of it may cost (the pixel budget), and the one read error."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MAX_PIXELS_ENV = "EARTHGPT_MAX_PIXELS"
"""The environment variable that sets the pixel budget (pixels decoded at full resolution in one read)."""

DEFAULT_MAX_PIXELS = 1 << 27
"""134,217,728 pixels (11585 x 11585): 400 MB as 8-bit RGB. Tile windows and decimated views of larger rasters stay
well under it; only a read that must decode more at once (a whole PNG, a full-resolution GeoTIFF) is refused."""


class ImageReadError(OSError):
    """An image that is missing, unreadable or over the pixel budget: ``path``, what is wrong and the fix;
    ``over_budget`` tells a refusal by the budget (a valid file) from a file that cannot be read."""

    def __init__(self, path: str | os.PathLike[str], problem: str, fix: str, over_budget: bool = False) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        self.fix = fix
        self.over_budget = over_budget
        super().__init__(f"{self.path}: {problem}; {fix}")

    def __reduce__(self) -> tuple[type[ImageReadError], tuple[str, str, str, bool]]:
        return (ImageReadError, (self.path, self.problem, self.fix, self.over_budget))


@dataclass(frozen=True)
class RasterInfo:
    """What a raster is, read from its header: pixel size, band count (after colour-mode conversion), sample type."""

    width: int
    height: int
    bands: int
    dtype: str


Window = tuple[int, int, int, int]
"""A read window in source pixels: x, y, width, height."""


def max_pixels() -> int:
    """The pixel budget: ``$EARTHGPT_MAX_PIXELS`` if set (a positive integer), else :data:`DEFAULT_MAX_PIXELS`."""
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_PIXELS
    if not raw.isascii() or not raw.isdigit() or int(raw) <= 0:
        raise ValueError(f"{MAX_PIXELS_ENV}={raw!r} must be a positive integer number of pixels, e.g. 268435456")
    return int(raw)


def check_budget(path: Path, width: int, height: int, what: str) -> None:
    """Raise :class:`ImageReadError` before decoding when ``width`` x ``height`` pixels exceed the budget."""
    budget = max_pixels()
    if width * height > budget:
        raise ImageReadError(
            path,
            f"{what} needs {width} x {height} = {width * height:,} pixels decoded at once, over the pixel budget of "
            f"{budget:,}",
            f"set {MAX_PIXELS_ENV}={width * height} (or more) to read it, or store it as a tiled GeoTIFF, which is "
            "read by window",
            over_budget=True,
        )


def check_window(path: Path, window: Window, width: int, height: int) -> None:
    """Raise :class:`ImageReadError` when ``window`` is empty or leaves the ``width`` x ``height`` raster."""
    x, y, w, h = window
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > width or y + h > height:
        raise ImageReadError(
            path,
            f"window x={x} y={y} {w}x{h} lies outside the {width}x{height} raster",
            "rebuild the data: the file changed since the build recorded its size",
        )
