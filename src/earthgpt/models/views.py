"""Zoom views: which windows of an image the encoder sees (a view plan), and their pixels, the global view first.

A plan is text, as a conversation's ``views`` or a request's option holds it:

- ``global``: the whole image only (plain EarthGPT);
- ``grid:K``: the whole image, then a K x K grid of equal tiles of it in row-major order (1 + K*K views);
- ``region:K``: the whole image, then a square crop around ``<regionK>`` (2 views).

Every view is padded to a square and resized to the encoder input like the global view
(:func:`earthgpt.data.imagery.model_input`); a window is in the pixels of the conversation's image.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from earthgpt.data.imagery import Window, load_image, model_input, read_raster, to_rgb8, view_size
from earthgpt.data.records import ImageRef
from earthgpt.geometry.prompts import PromptError, VisualPrompt, region_name

__all__ = [
    "MAX_GRID",
    "MIN_REGION_SIDE",
    "REGION_CONTEXT",
    "ViewPlan",
    "plan_views",
    "prompt_extent",
    "view_pixels",
]

REGION_CONTEXT = 0.5
"""Context around a zoomed region, as a share of the region's longer side on each side: the crop is twice the
object's size, so the object fills the middle half of the view and its surroundings stay visible."""

MIN_REGION_SIDE = 64
"""Smallest crop side in image pixels: a point prompt (no extent) or a tiny object still gets its neighbourhood."""

MAX_GRID = 4
"""Largest grid side: 1 + 16 views already multiply the visual tokens by 17."""

ViewKind = Literal["global", "grid", "region"]


@dataclass(frozen=True)
class ViewPlan:
    """A parsed view plan: ``kind`` and ``k`` (the grid side for ``grid``, the 1-based region for ``region``)."""

    kind: ViewKind = "global"
    k: int = 0

    @staticmethod
    def parse(text: str, default: str = "global") -> ViewPlan:
        """``"global"``, ``"grid:K"`` or ``"region:K"``; ``""`` means ``default``. ValueError names the plan."""
        plan = (text or default).strip().lower()
        if plan == "global":
            return ViewPlan()
        kind, _, number = plan.partition(":")
        if kind in ("grid", "region") and number.isdigit():
            k = int(number)
            if kind == "grid" and 2 <= k <= MAX_GRID:
                return ViewPlan("grid", k)
            if kind == "region" and k >= 1:
                return ViewPlan("region", k)
        raise ValueError(
            f"view plan {text!r} is not one of: global, grid:K (K from 2 to {MAX_GRID}), region:K (K >= 1, the "
            "prompt <regionK> to zoom into)"
        )

    @property
    def num_views(self) -> int:
        """Views this plan makes, the global one included."""
        return {"global": 1, "grid": 1 + self.k * self.k, "region": 2}[self.kind]

    def __str__(self) -> str:
        return self.kind if self.kind == "global" else f"{self.kind}:{self.k}"


def prompt_extent(prompt: VisualPrompt) -> tuple[float, float, float, float]:
    """The box (x1, y1, x2, y2) around a prompt, in image pixels (a point's is empty)."""
    if prompt.kind == "mask":
        assert prompt.mask is not None
        rows, cols = np.nonzero(prompt.mask.to_array())
        if rows.size == 0:
            raise PromptError("mask prompt: the mask is empty; draw at least one pixel")
        return float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1)
    pts = np.asarray([p for s in prompt.strokes for p in s] if prompt.kind == "scribble" else prompt.points)
    if pts.size == 0:
        raise PromptError(f"{prompt.kind} prompt: no coordinates to zoom into")
    (x1, y1), (x2, y2) = pts.min(axis=0), pts.max(axis=0)
    return float(x1), float(y1), float(x2), float(y2)


def _grid(k: int, width: int, height: int) -> list[Window]:
    """K x K tiles of equal size (to the pixel) covering the image, row-major."""
    xs = [round(i * width / k) for i in range(k + 1)]
    ys = [round(j * height / k) for j in range(k + 1)]
    return [(xs[i], ys[j], xs[i + 1] - xs[i], ys[j + 1] - ys[j]) for j in range(k) for i in range(k)]


def _around(extent: tuple[float, float, float, float], width: int, height: int, min_side: int) -> Window:
    """The square crop with :data:`REGION_CONTEXT` around ``extent``, moved to stay inside the image."""
    x1, y1, x2, y2 = extent
    side = max((1 + 2 * REGION_CONTEXT) * max(x2 - x1, y2 - y1), min_side)
    w, h = min(width, math.ceil(side)), min(height, math.ceil(side))
    x = min(max(0, math.floor((x1 + x2) / 2 - w / 2)), width - w)
    y = min(max(0, math.floor((y1 + y2) / 2 - h / 2)), height - h)
    return (x, y, w, h)


def plan_views(
    plan: ViewPlan, width: int, height: int, prompts: Sequence[VisualPrompt], *, min_side: int = MIN_REGION_SIDE
) -> list[Window]:
    """The windows (x, y, w, h) in image pixels of every view of ``plan``, the whole image first.

    ``region:K`` needs prompt K: a :class:`PromptError` names it when there are fewer prompts.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"image size {width}x{height} is not positive: pass the image's width and height")
    whole: Window = (0, 0, width, height)
    if plan.kind == "grid":
        return [whole, *_grid(plan.k, width, height)]
    if plan.kind == "region":
        if plan.k > len(prompts):
            raise PromptError(
                f"view plan {plan}: zooms into {region_name(plan.k - 1)} but only {len(prompts)} prompts were "
                f"given; give that prompt or zoom into one of <region1>..<region{max(1, len(prompts))}>"
            )
        prompt = prompts[plan.k - 1].validate(width, height, region_name(plan.k - 1))
        return [whole, _around(prompt_extent(prompt), width, height, min_side)]
    return [whole]


def _file_window(ref: ImageRef, window: Window) -> Window:
    """A window of the record's image -> the same window in the pixels of its file (tile offset and scale)."""
    tile = ref.tile
    if tile is None:
        return window
    x, y, w, h = window
    x0, y0 = math.floor(x / tile.scale), math.floor(y / tile.scale)
    x1 = min(tile.width, math.ceil((x + w) / tile.scale))
    y1 = min(tile.height, math.ceil((y + h) / tile.scale))
    return (tile.x + x0, tile.y + y0, max(1, x1 - x0), max(1, y1 - y0))


def _read_crops(ref: ImageRef, windows: Sequence[Window], size: int, root: str | Path | None) -> list[np.ndarray]:
    """[h, w, 3] uint8 per window: a TIFF by windowed (decimated when large) reads, other formats decoded once."""
    path = ref.resolve(root)
    if not windows:
        return []
    if path.suffix.lower() in (".tif", ".tiff"):
        crops = []
        for window in windows:
            fw = _file_window(ref, window)
            crops.append(to_rgb8(read_raster(path, fw, view_size(path, fw[2], fw[3], size))))
        return crops
    whole = load_image(ref, root)  # [H, W, 3], the record's image at full resolution
    return [whole[y : y + h, x : x + w] for x, y, w, h in windows]


def view_pixels(
    image: ImageRef | np.ndarray, windows: Sequence[Window], size: int, root: str | Path | None = None
) -> np.ndarray:
    """The encoder input of every window: [V, 3, size, size] float32 in [0, 1].

    ``image`` is a record's :class:`ImageRef` (read from ``root``; the whole-image window is read as the global view
    always is, decimated for the input size) or an [H, W, C] array (any dtype; stretched as
    :func:`earthgpt.data.imagery.to_rgb8` does).
    """
    out = np.zeros((len(windows), 3, size, size), dtype=np.float32)
    if isinstance(image, np.ndarray):
        rgb = to_rgb8(image)
        for v, (x, y, w, h) in enumerate(windows):
            out[v] = model_input(np.ascontiguousarray(rgb[y : y + h, x : x + w]), size)
        return out
    whole: Window = (0, 0, image.width, image.height)
    crops = [v for v, w in enumerate(windows) if w != whole]
    for v, window in enumerate(windows):
        if window == whole:
            out[v] = model_input(load_image(image, root, max_side=size), size)
    for v, crop in zip(crops, _read_crops(image, [windows[v] for v in crops], size, root), strict=True):
        out[v] = model_input(np.ascontiguousarray(crop), size)
    return out
