"""Slicing a scene: its georeferencing, the grid of overlapping tile windows, and one tile read by window."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from earthgpt.data.imagery import ImageReadError, RasterInfo, Window, probe, read_raster

log = logging.getLogger(__name__)

_TIFF = (".tif", ".tiff")


@dataclass(frozen=True)
class Scene:
    """A scene raster as the header says: size, bands, sample type, CRS (WKT-free string, None if absent), the
    pixel-to-map affine transform (GDAL order a, b, c, d, e, f) and the nodata value."""

    path: Path
    info: RasterInfo
    crs: str | None
    transform: tuple[float, float, float, float, float, float]
    nodata: float | None


def open_scene(path: str | Path) -> Scene:
    """The header of a (Geo)TIFF scene; raises :class:`ImageReadError` naming the file and the fix.

    Only TIFFs are read by window; a JPEG or PNG would be decoded whole for every tile, so it is refused.
    """
    p = Path(path)
    if p.suffix.lower() not in _TIFF:
        raise ImageReadError(
            p,
            f"a scene must be a (Geo)TIFF, read tile by tile; {p.suffix or 'this file'} is decoded whole",
            "convert it, e.g. `gdal_translate -of GTiff -co TILED=YES in.jpg scene.tif`, or use `earthgpt chat`",
        )
    info = probe(p, decode=False)  # header and truncation check
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    gdal_log = logging.getLogger("rasterio._env")
    level = gdal_log.level
    gdal_log.setLevel(logging.ERROR)  # GDAL's notes on geokeys against the EPSG registry; the CRS is still read
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(p) as ds:
                crs = ds.crs.to_string() if ds.crs is not None else None
                t = ds.transform
                nodata = None if ds.nodata is None else float(ds.nodata)
    except RasterioIOError as e:
        raise ImageReadError(p, f"GDAL cannot open it ({e})", "replace the file with a valid GeoTIFF") from e
    finally:
        gdal_log.setLevel(level)
    return Scene(p, info, crs or None, (t.a, t.b, t.c, t.d, t.e, t.f), nodata)


def _starts(length: int, tile: int, stride: int) -> list[int]:
    """Window starts along one axis: every ``stride``, the last moved back to end at the edge (DOTA devkit)."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def tile_windows(width: int, height: int, tile: int, overlap: float) -> list[Window]:
    """Overlapping ``tile`` x ``tile`` windows covering the raster, row by row (a scene smaller than a tile is one
    window of its own size); ``overlap`` is the fraction of a tile shared with its neighbour."""
    if tile <= 0:
        raise ValueError(f"--tile {tile} must be a positive number of pixels")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"--overlap {overlap} must be a fraction in [0, 1), e.g. 0.2")
    stride = max(1, round(tile * (1.0 - overlap)))
    tw, th = min(tile, width), min(tile, height)
    return [(x, y, tw, th) for y in _starts(height, tile, stride) for x in _starts(width, tile, stride)]


def read_tile(scene: Scene, window: Window) -> np.ndarray:
    """[h, w, C] native samples of one window (only the blocks under it are decoded)."""
    return read_raster(scene.path, window)


def is_nodata(tile: np.ndarray, nodata: float | None) -> bool:
    """True when every pixel of the tile is nodata (every band equal to the value, or NaN)."""
    if np.issubdtype(tile.dtype, np.floating) and bool(np.isnan(tile).all()):
        return True
    return nodata is not None and bool(np.all(tile == nodata))
