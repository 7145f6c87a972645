"""Visual prompts and masks drawn in the model-input geometry (padded square, resized), and masks mapped back.

The image reaches the encoder padded to a centred square and resized to ``size`` (:func:`earthgpt.data.imagery.
model_input`). A prompt is drawn in the same frame: image pixel (x, y) lands at input position
``u = (x + left) * size / side`` (and likewise for y), with ``side, left, top`` from
:func:`earthgpt.data.imagery.square_padding`. One channel per prompt, each value the covered fraction of the input
pixel (so a shape thinner than a pixel still leaves its trace):

- point: a disc of radius :data:`POINT_RADIUS` input pixels around it;
- box: the filled rectangle, exact area coverage;
- OBB and polygon: the filled polygon (even-odd rule);
- scribble: every stroke as a polyline of width :data:`STROKE_WIDTH` input pixels (a one-point stroke is a dot);
- mask: the mask's exact area coverage.

Discs, polygons and strokes are sampled on a :data:`SUPERSAMPLE` x :data:`SUPERSAMPLE` grid per input pixel. A prompt
too small to hit any sample (an object under a fraction of an input pixel) marks the input pixel under its centre
with 1, so every prompt reaches the encoder. docs/earthgpt-x.md gives the reasons for each choice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from earthgpt.data.imagery import square_padding
from earthgpt.geometry.prompts import RleMask, VisualPrompt, region_name

__all__ = [
    "POINT_RADIUS",
    "STROKE_WIDTH",
    "SUPERSAMPLE",
    "mask_coverage",
    "mask_to_image",
    "rasterise_mask",
    "rasterise_prompt",
    "rasterise_prompts",
    "to_input",
]

POINT_RADIUS = 3.0
"""Radius of a point's disc, in input pixels: a 6 px dot sits inside one 14 or 16 px encoder patch wherever it
falls, and spans enough samples that its sub-pixel position survives the anti-aliasing."""

STROKE_WIDTH = 3.0
"""Width of a scribble's line, in input pixels: about a fifth of a patch, thin enough to follow the shape drawn."""

SUPERSAMPLE = 4
"""Samples per input pixel along each axis for discs, polygons and strokes (coverage in steps of 1/16)."""

Inside = Callable[[np.ndarray, np.ndarray], np.ndarray]
Bounds = tuple[float, float, float, float]


def to_input(points: np.ndarray, width: int, height: int, size: int) -> np.ndarray:
    """Image pixel coordinates [N, 2] (x, y) -> input pixel coordinates [N, 2] of the ``size`` x ``size`` input."""
    side, left, top = square_padding(width, height)
    return (np.asarray(points, dtype=np.float64) + (left, top)) * (size / side)


def _span(a: float, b: float, size: int) -> np.ndarray:
    """[size] length of [a, b] inside each input pixel [i, i + 1]."""
    i = np.arange(size, dtype=np.float64)
    return np.clip(np.minimum(b, i + 1) - np.maximum(a, i), 0.0, 1.0)


def _sampled(inside: Inside, bounds: Bounds, size: int) -> np.ndarray:
    """[size, size] share of the sub-pixel samples of each input pixel for which ``inside(u, v)`` holds; only the
    pixels under ``bounds`` (u0, v0, u1, v1) are sampled."""
    u0, v0, u1, v1 = bounds
    c0, c1 = max(0, math.floor(u0)), min(size, math.ceil(u1) + 1)
    r0, r1 = max(0, math.floor(v0)), min(size, math.ceil(v1) + 1)
    out = np.zeros((size, size), dtype=np.float32)
    if c1 <= c0 or r1 <= r0:
        return out
    offsets = (np.arange(SUPERSAMPLE) + 0.5) / SUPERSAMPLE  # [ss]
    us = (np.arange(c0, c1)[:, None] + offsets).reshape(-1)  # [(c1 - c0) * ss]
    vs = (np.arange(r0, r1)[:, None] + offsets).reshape(-1)  # [(r1 - r0) * ss]
    u, v = np.meshgrid(us, vs)  # [Rs, Cs]
    hits = inside(u, v).reshape(r1 - r0, SUPERSAMPLE, c1 - c0, SUPERSAMPLE)
    out[r0:r1, c0:c1] = hits.mean(axis=(1, 3))
    return out


def _in_polygon(vertices: np.ndarray) -> Inside:
    """Even-odd test of sample points against a polygon [N, 2] in input pixels."""

    def inside(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        hit = np.zeros(u.shape, dtype=bool)
        for (xa, ya), (xb, yb) in zip(vertices, np.roll(vertices, 1, axis=0), strict=True):
            if ya == yb:
                continue  # a horizontal edge crosses no horizontal ray
            crosses = (ya > v) != (yb > v)
            hit ^= crosses & (u < xa + (xb - xa) * (v - ya) / (yb - ya))
        return hit

    return inside


def _near_segments(segments: np.ndarray, radius: float) -> Inside:
    """Sample points within ``radius`` of any segment [K, 2, 2] (a zero-length segment is a disc)."""

    def inside(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        best = np.full(u.shape, np.inf)
        for (ax, ay), (bx, by) in segments:
            dx, dy = bx - ax, by - ay
            length2 = dx * dx + dy * dy
            t = np.clip(((u - ax) * dx + (v - ay) * dy) / length2, 0.0, 1.0) if length2 > 0 else 0.0
            best = np.minimum(best, (u - ax - t * dx) ** 2 + (v - ay - t * dy) ** 2)
        return best <= radius * radius

    return inside


def _bounds(points: np.ndarray, pad: float = 0.0) -> Bounds:
    """(u0, v0, u1, v1) of points [N, 2], grown by ``pad``."""
    lo, hi = points.min(axis=0) - pad, points.max(axis=0) + pad
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _overlap(n: int, offset: int, side: int, size: int) -> np.ndarray:
    """[size, n] length (in input pixels) of source pixel j (shifted by ``offset`` into the square) inside input
    pixel i: one axis of the exact area resize."""
    k = size / side
    starts = (np.arange(n) + offset) * k  # [n]
    i = np.arange(size, dtype=np.float64)[:, None]  # [size, 1]
    return np.clip(np.minimum(starts + k, i + 1) - np.maximum(starts, i), 0.0, None)


def mask_coverage(mask: RleMask, size: int) -> np.ndarray:
    """[size, size] float32 in [0, 1]: the share of each input pixel that the mask covers (exact area resize)."""
    side, left, top = square_padding(mask.width, mask.height)
    rows = _overlap(mask.height, top, side, size)  # [size, H]
    cols = _overlap(mask.width, left, side, size)  # [size, W]
    pixels = mask.to_array().astype(np.float32)  # [H, W]
    return np.clip(rows @ pixels @ cols.T, 0.0, 1.0).astype(np.float32)  # [size, size]


def _mark_centre(channel: np.ndarray, bounds: Bounds) -> np.ndarray:
    """Set the input pixel under the centre of ``bounds`` to 1 when the channel is empty."""
    if channel.any():
        return channel
    size = channel.shape[0]
    u, v = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    channel[min(size - 1, max(0, int(v))), min(size - 1, max(0, int(u)))] = 1.0
    return channel


def _strokes(prompt: VisualPrompt, width: int, height: int, size: int) -> np.ndarray:
    """A scribble's segments [K, 2, 2] in input pixels (a one-point stroke is one zero-length segment)."""
    segments = []
    for stroke in prompt.strokes:
        pts = to_input(np.asarray(stroke), width, height, size)  # [n, 2]
        pairs = np.stack([pts[:-1], pts[1:]], axis=1) if len(pts) > 1 else pts[None].repeat(2, axis=1)
        segments.append(pairs)
    return np.concatenate(segments)


def rasterise_prompt(prompt: VisualPrompt, width: int, height: int, size: int) -> np.ndarray:
    """One valid prompt on a ``width`` x ``height`` image -> [size, size] float32 in [0, 1] (see the module)."""
    if prompt.kind == "mask":
        assert prompt.mask is not None
        rows, cols = np.nonzero(prompt.mask.to_array())
        extent = np.array([[cols.min(), rows.min()], [cols.max() + 1, rows.max() + 1]]) if rows.size else None
        corners = to_input(extent if extent is not None else np.zeros((1, 2)), width, height, size)
        return _mark_centre(mask_coverage(prompt.mask, size), _bounds(corners))
    if prompt.kind == "scribble":
        segments = _strokes(prompt, width, height, size)
        bounds = _bounds(segments.reshape(-1, 2), STROKE_WIDTH / 2)
        return _mark_centre(_sampled(_near_segments(segments, STROKE_WIDTH / 2), bounds, size), bounds)
    pts = to_input(np.asarray(prompt.points), width, height, size)  # [N, 2]
    if prompt.kind == "point":
        bounds = _bounds(pts, POINT_RADIUS)
        channel = _sampled(_near_segments(pts[None].repeat(2, axis=1), POINT_RADIUS), bounds, size)
    elif prompt.kind == "box":
        (u0, v0), (u1, v1) = pts
        bounds = (float(u0), float(v0), float(u1), float(v1))
        channel = np.outer(_span(v0, v1, size), _span(u0, u1, size)).astype(np.float32)
    else:  # obb, polygon
        bounds = _bounds(pts)
        channel = _sampled(_in_polygon(pts), bounds, size)
    return _mark_centre(channel, bounds)


def rasterise_prompts(prompts: Sequence[VisualPrompt], width: int, height: int, size: int) -> np.ndarray:
    """Prompts on a ``width`` x ``height`` image -> [P, size, size] float32 in [0, 1], one channel per prompt, in
    the input geometry of :func:`earthgpt.data.imagery.model_input`. Each prompt is validated first:
    :class:`~earthgpt.geometry.prompts.PromptError` names the bad one (``<regionK>``)."""
    out = np.zeros((len(prompts), size, size), dtype=np.float32)
    for k, prompt in enumerate(prompts):
        prompt.validate(width, height, region_name(k))
        out[k] = rasterise_prompt(prompt, width, height, size)
    return out


def rasterise_mask(mask: RleMask, size: int) -> np.ndarray:
    """A mask on its image -> [size, size] float32 {0, 1} in the input geometry: an input pixel is set when the mask
    covers at least half of it; a non-empty mask too small for that sets its best-covered pixel, so no target
    vanishes."""
    coverage = mask_coverage(mask, size)  # [size, size]
    binary = (coverage >= 0.5).astype(np.float32)
    if not binary.any() and coverage.max() > 0:
        binary[np.unravel_index(int(np.argmax(coverage)), coverage.shape)] = 1.0
    return binary


def _bilinear(n: int, offset: int, side: int, size: int) -> np.ndarray:
    """[n, size] weights that sample the input grid at the centre of each of n image pixels along one axis."""
    pos = np.clip((np.arange(n) + 0.5 + offset) * (size / side) - 0.5, 0.0, size - 1.0)  # [n]
    low = np.floor(pos).astype(np.int64)
    high = np.minimum(low + 1, size - 1)
    frac = pos - low
    weights = np.zeros((n, size), dtype=np.float32)
    np.add.at(weights, (np.arange(n), low), 1.0 - frac)
    np.add.at(weights, (np.arange(n), high), frac)
    return weights


def mask_to_image(mask_logits: np.ndarray | torch.Tensor, width: int, height: int) -> RleMask:
    """Mask logits in the input geometry [S, S] -> the mask on the ``width`` x ``height`` image: the logits sampled
    bilinearly at every image pixel's centre (undoing the resize and the padding), set where they exceed 0."""
    if isinstance(mask_logits, torch.Tensor):
        mask_logits = mask_logits.detach().float().cpu().numpy()
    logits = np.asarray(mask_logits, dtype=np.float32)
    if logits.ndim != 2 or logits.shape[0] != logits.shape[1]:
        raise ValueError(f"mask logits must be one square map [S, S]; got shape {logits.shape}")
    if width <= 0 or height <= 0:
        raise ValueError(f"image size {width}x{height} is not positive: pass the image's width and height")
    side, left, top = square_padding(width, height)
    size = logits.shape[0]
    rows = _bilinear(height, top, side, size)  # [H, S]
    cols = _bilinear(width, left, side, size)  # [W, S]
    return RleMask.from_array(rows @ logits @ cols.T > 0)  # [H, W]
