"""Reading optical, SAR and infrared rasters (JPEG/PNG/TIFF/GeoTIFF, 8/16-bit, 1..N bands) within a pixel budget.

A tile of a TIFF/GeoTIFF is read by window (it costs the tile), a whole-image view of a large TIFF or JPEG is read
decimated, and any read that must decode more pixels at once than the budget (``$EARTHGPT_MAX_PIXELS``) is refused
before decoding. Every failure is one :class:`ImageReadError` naming the file and the fix.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

from earthgpt.data.imagery.budget import (
    DEFAULT_MAX_PIXELS,
    MAX_PIXELS_ENV,
    ImageReadError,
    RasterInfo,
    Window,
    check_budget,
    check_window,
    max_pixels,
)
from earthgpt.data.imagery.pillow import probe_pil, read_pil
from earthgpt.data.imagery.tiff import probe_tiff, read_header, read_tiff
from earthgpt.data.imagery.view import model_input, pad_to_square, square_padding, to_rgb8
from earthgpt.data.records import ImageRef

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "MAX_PIXELS_ENV",
    "ImageReadError",
    "RasterInfo",
    "Window",
    "load_image",
    "max_pixels",
    "model_input",
    "pad_to_square",
    "probe",
    "read_raster",
    "square_padding",
    "to_rgb8",
    "view_size",
]

_TIFF_SUFFIXES = {".tif", ".tiff"}

VIEW_OVERSAMPLING = 4
"""A whole-image view for a model input of side S keeps at least this many times S pixels along its longer side
before the final resize: images under 2 * 4 * S are read at full resolution, larger ones decimated by an integer
factor."""


def _is_tiff(path: Path) -> bool:
    return path.suffix.lower() in _TIFF_SUFFIXES


def _existing(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise ImageReadError(p, "image file not found", "check the data root (EARTHGPT_DATA or --data) and the path")
    return p


def probe(path: str | Path, decode: bool = True) -> RasterInfo:
    """Size, bands and sample type of an image (bands as a read returns them: palette and CMYK count as RGB).

    Raises :class:`ImageReadError` when the file is absent, unreadable or truncated (TIFF strips or tiles beyond
    the end of the file). With ``decode`` (the default, as at build time) the pixels are decoded too, in bounded
    memory, so a corrupt body is caught here rather than mid-training, and a format read whole (JPEG/PNG) over the
    pixel budget is refused; ``decode=False`` reads the header only.
    """
    p = _existing(path)
    return probe_tiff(p, decode) if _is_tiff(p) else probe_pil(p, decode)


def read_raster(path: str | Path, window: Window | None = None, out_size: tuple[int, int] | None = None) -> np.ndarray:
    """The raster's native values as [h, w, C] (C >= 1), in its own dtype (colour modes converted: palette and CMYK
    to RGB, alpha dropped): the ``window`` (x, y, w, h; default all) at ``out_size`` (w, h; default the window's).

    The band axis is the file's: rasterio's band count, or the TIFF planar configuration. Raises
    :class:`ImageReadError`, before decoding when the read would exceed the pixel budget.
    """
    p = _existing(path)
    if _is_tiff(p):
        header = read_header(p)
        width, height = header.width, header.height
    else:
        header = None
        width, height = _pil_size(p)
    if window is not None:
        check_window(p, window, width, height)
    w, h = (window[2], window[3]) if window is not None else (width, height)
    ow, oh = out_size if out_size is not None else (w, h)
    if ow <= 0 or oh <= 0:
        raise ImageReadError(p, f"output size {ow}x{oh} is empty", "ask for a positive size")
    check_budget(p, ow, oh, "this read")
    if header is not None:
        return read_tiff(p, header, window, out_size)
    return read_pil(p, window, out_size)


def _pil_size(path: Path) -> tuple[int, int]:
    info = probe_pil(path, decode=False)
    return info.width, info.height


def view_size(path: str | Path, width: int, height: int, max_side: int | None) -> tuple[int, int] | None:
    """The reduced (w, h) at which a whole-image view of ``path`` is read, or None for full resolution.

    With ``max_side`` (the model's input side) an image of at least ``2 * VIEW_OVERSAMPLING * max_side`` pixels
    along its longer side is decimated by the integer factor that keeps ``VIEW_OVERSAMPLING * max_side``. A TIFF or
    JPEG (both readable reduced) over the pixel budget is decimated to fit it (a JPEG by 2, 4 or 8, the scales its
    decoder has); a PNG is not reducible before decoding, so the budget refuses it.
    """
    k = 1
    if max_side is not None and max_side > 0:
        k = max(1, max(width, height) // (VIEW_OVERSAMPLING * max_side))
    jpeg = Path(path).suffix.lower() in (".jpg", ".jpeg")
    budget = max_pixels()
    if (jpeg or _is_tiff(Path(path))) and math.ceil(width / k) * math.ceil(height / k) > budget:
        k = max(k, math.ceil(math.sqrt(width * height / budget)))
        while math.ceil(width / k) * math.ceil(height / k) > budget:
            k += 1
        if jpeg and k <= 8:  # a JPEG decodes at 1/2, 1/4 or 1/8 only: the next of those is what fits
            k = 1 << (k - 1).bit_length()
    if k == 1:
        return None
    return math.ceil(width / k), math.ceil(height / k)


def load_image(ref: ImageRef, root: str | Path | None = None, max_side: int | None = None) -> np.ndarray:
    """The pixels a record refers to as [H, W, 3] uint8, stretched to 8-bit: its tile window (read by window and
    resized by the tile's scale), or the whole raster, decimated as :func:`view_size` says for a model input of side
    ``max_side`` (and for the pixel budget). Raises :class:`ImageReadError` naming the file."""
    path = _existing(ref.resolve(root))
    tile = ref.tile
    if tile is not None:
        rgb = to_rgb8(read_raster(path, (tile.x, tile.y, tile.width, tile.height)))
        if tile.scale != 1.0:
            w, h = round(rgb.shape[1] * tile.scale), round(rgb.shape[0] * tile.scale)
            rgb = np.asarray(Image.fromarray(rgb).resize((w, h), Image.Resampling.BILINEAR))
        return rgb
    info = probe(path, decode=False)
    return to_rgb8(read_raster(path, out_size=view_size(path, info.width, info.height, max_side)))
