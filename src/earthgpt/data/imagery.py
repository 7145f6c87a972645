"""Reading optical, SAR and infrared rasters (JPEG/PNG/TIFF/GeoTIFF, 8/16-bit, 1..N bands) and preparing model input."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from earthgpt.data.records import ImageRef

log = logging.getLogger(__name__)

_TIFF_SUFFIXES = {".tif", ".tiff"}


class ImageReadError(OSError):
    """An image that is missing or cannot be decoded; the message names the file."""


@dataclass(frozen=True)
class RasterInfo:
    """What a raster is, read from its header: pixel size, band count, sample type."""

    width: int
    height: int
    bands: int
    dtype: str


def _is_tiff(path: Path) -> bool:
    return path.suffix.lower() in _TIFF_SUFFIXES


def probe(path: str | Path, decode: bool = True) -> RasterInfo:
    """Size, bands and sample type of an image; raise :class:`ImageReadError` naming the file if it is absent or
    unreadable. With ``decode`` (the default) JPEG/PNG pixels are decoded too, so a file truncated mid-body is caught
    here rather than mid-training; ``decode=False`` reads the header only."""
    p = Path(path)
    if not p.is_file():
        raise ImageReadError(f"image file not found: {p}")
    if _is_tiff(p):
        try:
            import tifffile

            with tifffile.TiffFile(p) as tif:
                page = tif.pages[0]
                shape = page.shape  # type: ignore[union-attr]
                dtype = str(page.dtype)  # type: ignore[union-attr]
        except Exception as e:  # tifffile raises many types on corrupt files
            raise ImageReadError(f"cannot read TIFF header of {p}: {e}") from e
        if len(shape) == 2:
            return RasterInfo(width=int(shape[1]), height=int(shape[0]), bands=1, dtype=dtype)
        # planar (bands, H, W) when the first axis is small, else (H, W, bands)
        if shape[0] < min(shape[1], shape[2]):
            return RasterInfo(width=int(shape[2]), height=int(shape[1]), bands=int(shape[0]), dtype=dtype)
        return RasterInfo(width=int(shape[1]), height=int(shape[0]), bands=int(shape[2]), dtype=dtype)
    try:
        with Image.open(p) as im:
            im.verify()
        with Image.open(p) as im:
            if decode:
                im.load()
            bands = len(im.getbands())
            dtype = "uint16" if im.mode in ("I;16", "I;16B", "I") else "uint8"
            return RasterInfo(width=im.width, height=im.height, bands=bands, dtype=dtype)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ImageReadError(f"cannot decode image {p}: {e}") from e


def read_raster(path: str | Path) -> np.ndarray:
    """The raster's native values as [H, W, C] (C >= 1), in its own dtype; raises :class:`ImageReadError`."""
    p = Path(path)
    if not p.is_file():
        raise ImageReadError(f"image file not found: {p}")
    try:
        if _is_tiff(p):
            import tifffile

            arr = np.asarray(tifffile.imread(p))
            if arr.ndim == 3 and arr.shape[0] < min(arr.shape[1], arr.shape[2]):
                arr = np.transpose(arr, (1, 2, 0))  # [C, H, W] -> [H, W, C]
        else:
            with Image.open(p) as im:
                im.load()
                arr = np.asarray(im)
    except ImageReadError:
        raise
    except Exception as e:  # decoders raise many types on corrupt files
        raise ImageReadError(f"cannot decode image {p}: {e}") from e
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ImageReadError(f"{p}: expected a 2-D or 3-D raster, got shape {arr.shape}")
    return arr


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


def pad_to_square(rgb: np.ndarray, fill: int = 0) -> np.ndarray:
    """Pad [H, W, 3] to a centred square of side max(H, W): the same padding as the box normalisation."""
    h, w = rgb.shape[:2]
    s = max(h, w)
    top, left = (s - h) // 2, (s - w) // 2
    out = np.full((s, s, rgb.shape[2]), fill, dtype=rgb.dtype)
    out[top : top + h, left : left + w] = rgb
    return out


def model_input(rgb: np.ndarray, size: int) -> np.ndarray:
    """[H, W, 3] uint8 -> [3, size, size] float32 in [0, 1]: centred square padding, then bicubic resize."""
    square = pad_to_square(rgb)
    im = Image.fromarray(square).resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255.0


def load_image(ref: ImageRef, root: str | Path | None = None) -> np.ndarray:
    """The pixels a record refers to as [H, W, 3] uint8: the whole raster or its tile window, resized by the
    tile's scale, stretched to 8-bit. Raises :class:`ImageReadError` naming the file."""
    path = ref.resolve(root)
    arr = read_raster(path)
    tile = ref.tile
    if tile is not None:
        arr = arr[tile.y : tile.y + tile.height, tile.x : tile.x + tile.width]
        if arr.size == 0:
            raise ImageReadError(f"{path}: tile window {tile} lies outside the {arr.shape} raster")
    rgb = to_rgb8(arr)
    if tile is not None and tile.scale != 1.0:
        w, h = round(rgb.shape[1] * tile.scale), round(rgb.shape[0] * tile.scale)
        rgb = np.asarray(Image.fromarray(rgb).resize((w, h), Image.Resampling.BILINEAR))
    return rgb
