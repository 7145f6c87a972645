"""The image of a request: a base64 ``data:`` URL (JPEG/PNG/TIFF) or a local file below the operator's media root.

The server never fetches a URL. The pixel count is read from the header and checked against the limit before any
pixel is decoded; decoding goes through :mod:`earthgpt.data.imagery` (its truncation checks and decimated views). A
GeoTIFF's CRS and affine transform travel with the pixels so that answers can be exported as GeoJSON.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from earthgpt.data.imagery import ImageReadError, load_image, probe
from earthgpt.data.records import ImageRef
from earthgpt.serving.errors import ApiError

__all__ = ["NO_CRS_WARNING", "InputImage", "read_image_url", "sniff_suffix"]

NO_CRS_WARNING = "the GeoTIFF has no CRS: boxes and masks are in image pixels (x right, y down) and no GeoJSON is given"

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"II*\x00", ".tif"),
    (b"MM\x00*", ".tif"),
    (b"II+\x00", ".tif"),  # BigTIFF
    (b"MM\x00+", ".tif"),
)


@dataclass(frozen=True)
class InputImage:
    """The pixels of a request's image ([h, w, 3] uint8, possibly a decimated view of a large raster), the size of
    the original in pixels, its georeferencing (CRS string and GDAL affine a, b, c, d, e, f, or None) and warnings."""

    rgb: np.ndarray
    width: int
    height: int
    crs: str | None = None
    transform: tuple[float, float, float, float, float, float] | None = None
    warnings: tuple[str, ...] = ()


def sniff_suffix(head: bytes) -> str | None:
    """The file suffix the first bytes say (``.jpg``, ``.png``, ``.tif``), or None for anything else."""
    return next((suffix for magic, suffix in _MAGIC if head.startswith(magic)), None)


def read_image_url(
    url: str, param: str, *, media_root: Path | None, max_pixels: int, max_side: int | None
) -> InputImage:
    """The image an ``image_url`` names; :class:`ApiError` (400, 413 over ``max_pixels``) naming ``param``."""
    if url.startswith("data:"):
        return _with_temp_file(_data_url_bytes(url, param), param, max_pixels, max_side)
    if "://" in url and not url.startswith("file://"):
        raise ApiError(
            400,
            f"{param}: the server fetches no URLs ({url.split('://', 1)[0]}://); send the image as a base64 data: URL "
            "(data:image/png;base64,...) or as a path below the server's --media-root",
            param=param,
            code="unsupported_url",
        )
    return _read(_media_path(url, param, media_root), param, max_pixels, max_side)


def _data_url_bytes(url: str, param: str) -> bytes:
    header, sep, payload = url.partition(",")
    if not sep or not header.endswith(";base64"):
        raise ApiError(
            400, f"{param}: a data: URL must be base64, as data:image/png;base64,<data>", param=param, code="bad_image"
        )
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ApiError(400, f"{param}: the data: URL is not valid base64 ({e})", param=param, code="bad_image") from e


def _media_path(url: str, param: str, media_root: Path | None) -> Path:
    if media_root is None:
        raise ApiError(
            400,
            f"{param}: local files are disabled on this server; send the image as a base64 data: URL, or start the "
            "server with --media-root DIR to serve files below DIR",
            param=param,
            code="local_files_disabled",
        )
    raw = unquote(url[len("file://") :]) if url.startswith("file://") else url
    root = media_root.resolve()
    path = (root / raw).resolve()  # an absolute ``raw`` replaces root: checked below like any other
    if not path.is_relative_to(root):
        raise ApiError(400, f"{param}: {raw!r} is outside the server's --media-root", param=param, code="bad_path")
    if not path.is_file():
        raise ApiError(400, f"{param}: no file {raw!r} below the server's --media-root", param=param, code="bad_path")
    return path


def _with_temp_file(data: bytes, param: str, max_pixels: int, max_side: int | None) -> InputImage:
    """Decode in-memory bytes through a temporary file (the readers, GDAL's included, read files)."""
    suffix = _suffix(data[:16], param)
    fd, name = tempfile.mkstemp(suffix=suffix, prefix="earthgpt-upload-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return _read(Path(name), param, max_pixels, max_side)
    finally:
        Path(name).unlink(missing_ok=True)


def _suffix(head: bytes, param: str) -> str:
    suffix = sniff_suffix(head)
    if suffix is None:
        raise ApiError(
            400,
            f"{param}: not a JPEG, PNG or TIFF image (it starts with {head[:8]!r}); send one of those",
            param=param,
            code="bad_image",
        )
    return suffix


def _read(path: Path, param: str, max_pixels: int, max_side: int | None) -> InputImage:
    with path.open("rb") as f:
        _suffix(f.read(16), param)
    try:
        info = probe(path, decode=False)  # the header only: a truncated TIFF fails here
        if info.width * info.height > max_pixels:
            raise ApiError(
                413,
                f"{param}: the image is {info.width} x {info.height} = {info.width * info.height:,} pixels, over the "
                f"server's limit of {max_pixels:,} (--max-image-pixels); send a smaller image or a cut-out",
                param=param,
                code="image_too_large",
            )
        rgb = load_image(ImageRef(path=str(path), width=info.width, height=info.height), None, max_side=max_side)
    except ImageReadError as e:
        status = 413 if e.over_budget else 400
        raise ApiError(status, f"{param}: {e.problem}; {e.fix}", param=param, code="bad_image") from e
    crs, transform, warnings = _georef(path)
    return InputImage(rgb, info.width, info.height, crs, transform, warnings)


def _georef(path: Path) -> tuple[str | None, tuple[float, float, float, float, float, float] | None, tuple[str, ...]]:
    """A TIFF's CRS and transform (through the scene reader); a TIFF without a CRS gets a warning."""
    if path.suffix.lower() not in (".tif", ".tiff"):
        return None, None, ()
    try:
        from earthgpt.inference.scene.slicing import open_scene

        scene = open_scene(path)
    except ImportError:  # rasterio absent (pip install earthgpt[geo]): pixels only
        return None, None, ("rasterio is not installed: no georeferencing was read (pip install earthgpt[geo])",)
    except ImageReadError:
        return None, None, (NO_CRS_WARNING,)
    if scene.crs is None:
        return None, None, (NO_CRS_WARNING,)
    return scene.crs, scene.transform, ()
