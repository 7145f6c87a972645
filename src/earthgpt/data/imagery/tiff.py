"""TIFF/GeoTIFF: the header (band axis from the planar configuration), truncation checks, windowed and decimated
reads through rasterio (tifffile, whole page under the budget, when rasterio is absent)."""

from __future__ import annotations

import importlib.util
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from earthgpt.data.imagery.budget import ImageReadError, RasterInfo, Window, check_budget, max_pixels

GDAL_CACHE_MB = 64
"""GDAL's block cache for one read: what a window read keeps of the blocks around it, independent of file size."""

VERIFY_STRIP_PIXELS = 1 << 22
"""Pixels decoded per step when a raster is verified at build time: memory stays at one strip."""

_PALETTE, _SEPARATED = 3, 5  # TIFF Photometric values
_ALPHA = (1, 2)  # ExtraSamples: associated / unassociated alpha


@dataclass(frozen=True)
class TiffHeader:
    """The first image of a TIFF as its tags describe it; ``bands`` is what a read returns after conversion."""

    width: int
    height: int
    samples: int
    dtype: str
    photometric: int
    alpha: tuple[int, ...]  # indices of alpha samples, dropped on read
    colormap: np.ndarray | None  # [3, 2**bits] uint16 for palette images

    @property
    def bands(self) -> int:
        if self.photometric == _PALETTE:
            return 3
        if self.photometric == _SEPARATED and self.samples - len(self.alpha) == 4:
            return 3
        return self.samples - len(self.alpha)

    def info(self) -> RasterInfo:
        dtype = "uint8" if self.photometric in (_PALETTE, _SEPARATED) else self.dtype
        return RasterInfo(width=self.width, height=self.height, bands=self.bands, dtype=dtype)


def read_header(path: Path) -> TiffHeader:
    """The header of ``path``'s first image, after checking every stored strip or tile lies inside the file (a
    truncated file fails here, before any decoding); raises :class:`ImageReadError`."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            size = path.stat().st_size
            ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=False) if n > 0]
            extra = tuple(page.extrasamples)
            base = page.samplesperpixel - len(extra)
            header = TiffHeader(
                width=int(page.imagewidth),
                height=int(page.imagelength),
                samples=int(page.samplesperpixel),
                dtype=str(page.dtype),
                photometric=int(page.photometric),
                alpha=tuple(base + i for i, kind in enumerate(extra) if int(kind) in _ALPHA),
                colormap=None if page.colormap is None else np.asarray(page.colormap),
            )
    except Exception as e:  # tifffile raises many types on corrupt files
        raise ImageReadError(path, f"cannot read the TIFF header ({e})", "replace the file with a valid TIFF") from e
    if ends and max(ends) > size:
        raise ImageReadError(
            path,
            f"truncated: image data reach byte {max(ends):,} of a {size:,}-byte file",
            "copy the file again from its release",
        )
    return header


def probe_tiff(path: Path, decode: bool) -> RasterInfo:
    """Header, truncation check and, with ``decode``, a strip-by-strip decode of rasters within the pixel budget
    (memory: one strip); larger rasters are checked by their header and strip/tile offsets only."""
    header = read_header(path)
    if not decode or header.width * header.height > max_pixels():
        return header.info()
    if importlib.util.find_spec("rasterio") is None:
        read_tiff(path, header)  # tifffile decodes the whole page at every read: once is enough
        return header.info()
    rows = max(1, VERIFY_STRIP_PIXELS // max(1, header.width))
    for y in range(0, header.height, rows):
        read_tiff(path, header, (0, y, header.width, min(rows, header.height - y)))
    return header.info()


def read_tiff(
    path: Path,
    header: TiffHeader,
    window: Window | None = None,
    out_size: tuple[int, int] | None = None,
) -> np.ndarray:
    """[h, w, C] of ``window`` (default: all), read at ``out_size`` (w, h; default: full resolution) from the
    overviews or by nearest-neighbour decimation. Palette and CMYK become RGB, alpha is dropped."""
    x0, y0, w, h = window if window is not None else (0, 0, header.width, header.height)
    ow, oh = out_size if out_size is not None else (w, h)
    try:
        arr, gdal = _read_rasterio(path, (x0, y0, w, h), (ow, oh)), True
    except ImportError:
        arr, gdal = _read_tifffile(path, header, (x0, y0, w, h), (ow, oh)), False
    except ImageReadError:
        raise
    except Exception as e:  # GDAL raises many types on corrupt data
        raise ImageReadError(path, f"cannot decode the TIFF data ({e})", "copy the file again from its release") from e
    return _convert(arr, header, gdal)


def _read_rasterio(path: Path, window: Window, out: tuple[int, int]) -> np.ndarray:
    """[h, w, C] through GDAL: only the blocks under ``window`` are decoded; ``out`` smaller than the window reads
    overviews where the file has them, else every ``k``-th pixel."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.windows import Window as RioWindow

    x, y, w, h = window
    gdal_log = logging.getLogger("rasterio._env")
    level = gdal_log.level
    gdal_log.setLevel(logging.ERROR)  # GDAL's CRS warnings (geokeys against the EPSG registry) concern no pixel
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), rasterio.open(path) as ds:
                arr = ds.read(
                    window=RioWindow(x, y, w, h), out_shape=(ds.count, out[1], out[0]), resampling=Resampling.nearest
                )  # [C, h, w]
    finally:
        gdal_log.setLevel(level)
    return np.moveaxis(arr, 0, -1)


def _read_tifffile(path: Path, header: TiffHeader, window: Window, out: tuple[int, int]) -> np.ndarray:
    """[h, w, C] without rasterio: the whole first page is decoded (so the budget applies to it), then cut."""
    import tifffile

    check_budget(path, header.width, header.height, "reading a TIFF without rasterio (pip install earthgpt[geo])")
    with tifffile.TiffFile(path) as tif:
        page = tif.pages.first
        arr = np.asarray(page.asarray())
        if arr.ndim == 2:
            arr = arr[:, :, None]
        elif int(page.planarconfig) == 2:  # SEPARATE: [C, H, W]
            arr = np.moveaxis(arr, 0, -1)
    x, y, w, h = window
    arr = arr[y : y + h, x : x + w]
    ky, kx = max(1, h // out[1]), max(1, w // out[0])
    return np.ascontiguousarray(arr[::ky, ::kx][: out[1], : out[0]])


def _convert(arr: np.ndarray, header: TiffHeader, gdal: bool) -> np.ndarray:
    """Native samples -> what a read returns: palette indices through the colour map, CMYK to RGB (GDAL has made
    it RGBA already), no alpha."""
    if header.photometric == _SEPARATED and header.samples == 4 and gdal:
        return arr[:, :, :3]
    if header.alpha:
        keep = [i for i in range(arr.shape[2]) if i not in header.alpha]
        arr = arr[:, :, keep]
    if header.photometric == _PALETTE and header.colormap is not None:
        lut = (header.colormap.astype(np.uint32) >> 8).astype(np.uint8).T  # [2**bits, 3]
        return lut[arr[:, :, 0]]
    if header.photometric == _SEPARATED and arr.shape[2] == 4:
        return cmyk_to_rgb(arr)
    return arr


def cmyk_to_rgb(cmyk: np.ndarray) -> np.ndarray:
    """[H, W, 4] CMYK (ink coverage, 0 = none) -> [H, W, 3] uint8 RGB: R = (1 - C)(1 - K), and so on."""
    top = float(np.iinfo(cmyk.dtype).max) if np.issubdtype(cmyk.dtype, np.integer) else 1.0
    ink = cmyk.astype(np.float32) / top
    rgb = (1.0 - ink[:, :, :3]) * (1.0 - ink[:, :, 3:4])
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)
