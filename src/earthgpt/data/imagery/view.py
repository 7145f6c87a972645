"""Any raster as the model and a person see it: 8-bit RGB, padded to a centred square, resized to the input size."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image


def to_rgb8(array: np.ndarray, bands: Sequence[int] | None = None, low: float = 2.0, high: float = 98.0) -> np.ndarray:
    """A [H, W, 3] uint8 view of any raster, for the model and for drawing.

    ``bands`` picks the three bands to show (default: the first three, or the single band repeated). uint8 data is
    kept as is; other types (16-bit SAR/multispectral, floats) get a per-band percentile stretch from ``low`` to
    ``high`` percent, ignoring NaNs.
    """
    a = np.asarray(array)
    if a.ndim == 2:
        a = a[:, :, None]
    if bands is not None:
        a = a[:, :, list(bands)]
    elif a.shape[2] >= 3:
        a = a[:, :, :3]
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    elif a.shape[2] == 2:
        a = np.concatenate([a, a[:, :, :1]], axis=2)
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    out = np.empty(a.shape, dtype=np.uint8)
    for c in range(a.shape[2]):
        band = a[:, :, c].astype(np.float64)
        finite = band[np.isfinite(band)]
        if finite.size == 0:
            out[:, :, c] = 0
            continue
        lo, hi = np.percentile(finite, [low, high])
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        stretched = np.nan_to_num((band - lo) * scale, nan=0.0)
        out[:, :, c] = np.clip(stretched, 0, 255).astype(np.uint8)
    return out


def square_padding(width: int, height: int) -> tuple[int, int, int]:
    """Where a ``width`` x ``height`` image sits in its padded square: (side, left, top), side = max(w, h).

    The one geometry of the model input: :func:`pad_to_square` places pixels here, and prompts and masks are drawn in
    (and mapped back from) the same square (:mod:`earthgpt.models.prompts.rasterise`).
    """
    side = max(width, height)
    return side, (side - width) // 2, (side - height) // 2


def pad_to_square(rgb: np.ndarray, fill: int = 0) -> np.ndarray:
    """Pad [H, W, 3] to a centred square of side max(H, W): the same padding as the box normalisation."""
    h, w = rgb.shape[:2]
    s, left, top = square_padding(w, h)
    out = np.full((s, s, rgb.shape[2]), fill, dtype=rgb.dtype)
    out[top : top + h, left : left + w] = rgb
    return out


def model_input(rgb: np.ndarray, size: int) -> np.ndarray:
    """[H, W, 3] uint8 -> [3, size, size] float32 in [0, 1]: centred square padding, then bicubic resize."""
    square = pad_to_square(rgb)
    im = Image.fromarray(square).resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255.0
