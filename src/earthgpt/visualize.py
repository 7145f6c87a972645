"""Drawing boxes, polygons, visual prompts and masks on images (PIL only): for `earthgpt chat --draw`, `data show`
and reports."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from earthgpt.geometry import HBB, Box, LabeledBox
from earthgpt.geometry.prompts import RleMask, VisualPrompt


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


# ----- EarthGPT-X: visual prompts and masks -------------------------------------------------------------------------

REGION_COLOURS: tuple[tuple[int, int, int], ...] = (
    (255, 60, 60),
    (60, 150, 255),
    (255, 210, 0),
    (40, 220, 120),
    (230, 80, 255),
    (255, 140, 30),
)
"""The colour of ``<regionK>`` is ``REGION_COLOURS[(K - 1) % 6]``: saturated, told apart on grey SAR and IR."""

MASK_ALPHA = 0.45
"""Opacity of a mask's fill: the image under it stays readable."""

POINT_DOT = 4
"""Radius in screen pixels of a drawn point prompt."""


def region_colour(index: int) -> tuple[int, int, int]:
    """The colour of the prompt at 0-based ``index`` (``<region{index + 1}>``)."""
    return REGION_COLOURS[index % len(REGION_COLOURS)]


def fill_mask(image: Image.Image, mask: RleMask, rgb: tuple[int, int, int], alpha: float = MASK_ALPHA) -> Image.Image:
    """``image`` (any zoom of the mask's image) with the mask blended in ``rgb`` at opacity ``alpha``."""
    cover = Image.fromarray(mask.to_array().astype(np.uint8) * 255).resize(image.size, Image.Resampling.NEAREST)
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32)  # [h, w, 3]
    inside = np.asarray(cover) > 0  # [h, w]
    pixels[inside] = pixels[inside] * (1 - alpha) + np.asarray(rgb, np.float32) * alpha
    return Image.fromarray(np.round(pixels).astype(np.uint8))


def draw_prompt(
    draw: ImageDraw.ImageDraw,
    prompt: VisualPrompt,
    name: str,
    rgb: tuple[int, int, int],
    zoom: float = 1.0,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont | None = None,
) -> None:
    """Draw one pixel-coordinate prompt: a dot, a box or polygon outline, scribble lines (a mask prompt is filled
    with :func:`fill_mask`; here it only gets its name), with ``name`` beside it."""
    pts = [(x * zoom, y * zoom) for x, y in prompt.points]
    if prompt.kind == "point":
        (x, y) = pts[0]
        draw.ellipse((x - POINT_DOT, y - POINT_DOT, x + POINT_DOT, y + POINT_DOT), fill=rgb)
    elif prompt.kind == "box":
        (x1, y1), (x2, y2) = pts
        draw.rectangle((x1, y1, x2, y2), outline=rgb, width=2)
    elif prompt.kind in ("obb", "polygon"):
        draw.polygon(pts, outline=rgb, width=2)
    elif prompt.kind == "scribble":
        for stroke in prompt.strokes:
            line = [(x * zoom, y * zoom) for x, y in stroke]
            if len(line) == 1:
                (x, y) = line[0]
                draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=rgb)
            else:
                draw.line(line, fill=rgb, width=3, joint="curve")
        pts = [(x * zoom, y * zoom) for s in prompt.strokes for x, y in s]
    elif prompt.mask is not None:
        rows, cols = np.nonzero(prompt.mask.to_array())
        pts = [(float(cols.min()) * zoom, float(rows.min()) * zoom)] if rows.size else [(0.0, 0.0)]
    if pts and name:
        x, y = min(p[0] for p in pts), min(p[1] for p in pts)
        draw.text((x + 2, max(0.0, y - 14)), name, fill=rgb, font=font or ImageFont.load_default())
