"""Drawing boxes, polygons and masks on images (PIL only): for `earthgpt chat --draw`, `data show` and reports."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from earthgpt.geometry import HBB, Box, LabeledBox


def colour(label: str) -> tuple[int, int, int]:
    """A stable, readable colour per label."""
    d = hashlib.md5(label.encode()).digest()
    return (64 + d[0] % 192, 64 + d[1] % 192, 64 + d[2] % 192)


def draw_box(
    draw: ImageDraw.ImageDraw,
    box: Box,
    label: str,
    zoom: float = 1.0,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont | None = None,
) -> None:
    """Outline one pixel-coordinate box (HBB or OBB) with its label above it."""
    c = colour(label)
    pts = (
        [(box.x1, box.y1), (box.x2, box.y1), (box.x2, box.y2), (box.x1, box.y2)]
        if isinstance(box, HBB)
        else box.corners()
    )
    xy = [(x * zoom, y * zoom) for x, y in pts]
    draw.polygon(xy, outline=c, width=2)
    if label:
        x, y = min(p[0] for p in xy), min(p[1] for p in xy)
        draw.text((x + 2, max(0.0, y - 12)), label, fill=c, font=font or ImageFont.load_default())


def draw_boxes(
    rgb: np.ndarray, boxes: Sequence[LabeledBox], path: str | Path | None = None, zoom: float = 1.0
) -> Image.Image:
    """[H, W, 3] uint8 with pixel boxes drawn on it; saved to ``path`` (PNG) when given."""
    im = Image.fromarray(rgb).convert("RGB")
    if zoom != 1.0:
        im = im.resize((round(im.width * zoom), round(im.height * zoom)), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(im)
    for b in boxes:
        draw_box(draw, b.box, b.label, zoom)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        im.save(path)
    return im


def draw_masks(rgb: np.ndarray, masks: Sequence[np.ndarray], alpha: float = 0.45) -> np.ndarray:
    """[H, W, 3] uint8 with each mask [H, W] (non-zero = set) blended in its own colour; the input is not changed."""
    out = rgb.astype(np.float32)
    for k, mask in enumerate(masks):
        if mask.shape != rgb.shape[:2]:
            raise ValueError(
                f"mask {k} is {mask.shape[1]}x{mask.shape[0]} px but the image is {rgb.shape[1]}x{rgb.shape[0]}"
            )
        tint = np.asarray(colour(f"mask {k}"), dtype=np.float32)
        on = mask != 0
        out[on] = (1 - alpha) * out[on] + alpha * tint
    return out.round().astype(np.uint8)
