"""JPEG/PNG/BMP through Pillow: colour modes converted by what they mean, JPEG read at reduced scale where a view
allows it, every full decode checked against the pixel budget first."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from earthgpt.data.imagery.budget import ImageReadError, RasterInfo, Window, check_budget

VERIFY_DECODE_PIXELS = 1 << 22
"""Images up to this many pixels are decoded whole at build time; larger PNGs are checked chunk by chunk (CRC through
IEND) and larger JPEGs decoded at 1/8 scale, so a truncated file is caught without holding the full image."""

_MODES: dict[str, tuple[str, str]] = {
    # mode -> (mode it is converted to, dtype of the result)
    "1": ("L", "uint8"),
    "L": ("L", "uint8"),
    "LA": ("L", "uint8"),
    "P": ("RGB", "uint8"),
    "PA": ("RGB", "uint8"),
    "RGB": ("RGB", "uint8"),
    "RGBA": ("RGB", "uint8"),
    "RGBa": ("RGB", "uint8"),
    "RGBX": ("RGB", "uint8"),
    "CMYK": ("RGB", "uint8"),  # Pillow decodes Adobe YCCK JPEGs to CMYK too
    "YCbCr": ("RGB", "uint8"),
    "I;16": ("I;16", "uint16"),  # 16-bit modes keep their byte order until the array is made
    "I;16L": ("I;16L", "uint16"),
    "I;16B": ("I;16B", "uint16"),
    "I;16N": ("I;16N", "uint16"),
    "I": ("I", "int32"),
    "F": ("F", "float32"),
}
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError)


def _target(path: Path, mode: str) -> tuple[str, str]:
    if mode not in _MODES:
        raise ImageReadError(
            path, f"colour mode {mode!r} is not supported", f"convert it to RGB or grey, one of {sorted(_MODES)}"
        )
    return _MODES[mode]


@contextmanager
def _opened(path: Path) -> Iterator[Image.Image]:
    """``Image.open`` with our pixel budget in place of Pillow's decompression-bomb limit (checked by the callers
    before any decode); Pillow's errors become :class:`ImageReadError`."""
    saved = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = None  # opening reads the header only; every decode below checks our budget first
            with Image.open(path) as im:
                yield im
    except ImageReadError:
        raise
    except _DECODE_ERRORS as e:
        raise ImageReadError(path, f"cannot decode the image ({e})", "replace it with a valid JPEG/PNG/TIFF") from e
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def probe_pil(path: Path, decode: bool) -> RasterInfo:
    """Header and, with ``decode``, the budget check (a tile of a JPEG/PNG decodes all of it) and a bounded decode
    that catches truncated files."""
    with _opened(path) as im:
        mode, dtype = _target(path, im.mode)
        width, height, fmt = im.width, im.height, im.format
    if decode:
        check_budget(path, width, height, f"reading this {fmt} (not readable by window)")
        with _opened(path) as im:
            if width * height <= VERIFY_DECODE_PIXELS:
                im.load()
            elif fmt == "PNG":
                im.verify()
            elif fmt == "JPEG":
                im.draft(im.mode, (1, 1))  # the smallest DCT scale: 1/8 per axis
                im.load()
            else:
                im.load()
    return RasterInfo(width=width, height=height, bands=Image.getmodebands(mode), dtype=dtype)


def read_pil(path: Path, window: Window | None = None, out_size: tuple[int, int] | None = None) -> np.ndarray:
    """[h, w, C] of ``window`` (default: all) at ``out_size`` (w, h; default: full resolution), colour mode
    converted. A whole-image JPEG view is decoded at the largest DCT scale that still covers ``out_size``."""
    with _opened(path) as im:
        mode, dtype = _target(path, im.mode)
        full = (im.width, im.height)
        x, y, w, h = window if window is not None else (0, 0, *full)
        out = out_size if out_size is not None else (w, h)
        if window is None and out != full and im.format == "JPEG":
            im.draft(im.mode, out)
        check_budget(path, im.width, im.height, f"reading this {im.format} (not readable by window)")
        im.load()
        if (im.width, im.height) != full:  # drafted: the window is all of the reduced image
            x, y, w, h = 0, 0, im.width, im.height
        img = im.convert(mode) if im.mode != mode else im
        if (x, y, w, h) != (0, 0, img.width, img.height):
            img = img.crop((x, y, x + w, y + h))
        if (img.width, img.height) != out:
            img = img.resize(out, Image.Resampling.BOX)
        arr = np.asarray(img)
    arr = arr.astype(dtype, copy=False)  # I;16B (big-endian) -> native uint16
    return arr[:, :, None] if arr.ndim == 2 else arr
