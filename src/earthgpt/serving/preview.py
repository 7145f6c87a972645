"""A browser-viewable PNG of any raster the reader takes (GeoTIFF, 16-bit, 1..N bands, SAR), with its georeferencing.

A browser shows 8-bit JPEG and PNG only. For everything else the page asks the server for a preview: the raster is
read decimated within the pixel budget (:mod:`earthgpt.data.imagery`), its bands mapped to 8-bit RGB by the same
sensor profiles as a scene run (:mod:`earthgpt.inference.scene.profiles`; the percentiles of the stretch are taken
from the decimated read itself, one read in all), and sent as a PNG of at most
:data:`PREVIEW_SIDE` pixels a side, together with the ORIGINAL width and height (the page draws prompts in original
pixels) and, for a georeferenced raster, its CRS and affine transform.
"""

from __future__ import annotations

import base64
import dataclasses
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from earthgpt.data.imagery import RasterInfo, probe, read_raster
from earthgpt.inference.scene.profiles import (
    STATS_SIDE,
    Display,
    check_bands,
    default_bands,
    resolve_profile,
    view_stretch,
)
from earthgpt.inference.scene.profiles import to_display as display_tile
from earthgpt.inference.scene.slicing import open_scene

PREVIEW_SIDE = 2048
"""The longer side of a preview PNG, in pixels: enough for a screen, small enough to send in one response."""

NO_CRS_WARNING = "the image has no CRS: boxes and masks are in image pixels (x to the right, y down)"

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"II*\x00", ".tif"),
    (b"MM\x00*", ".tif"),
    (b"II+\x00", ".tif"),  # BigTIFF
    (b"MM\x00+", ".tif"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
)


class PreviewError(ValueError):
    """An upload that is not a raster the reader takes (named by what it starts with) or a bad profile/bands."""


def raster_suffix(head: bytes) -> str:
    """The file suffix the reader needs for a file starting with ``head`` (its first bytes), from its magic number;
    :class:`PreviewError` for anything but TIFF, PNG and JPEG."""
    for magic, suffix in _MAGIC:
        if head.startswith(magic):
            return suffix
    raise PreviewError(
        f"the upload is not a JPEG, PNG or TIFF/GeoTIFF (it starts with {head[:8]!r}); upload one of those"
    )


@dataclass(frozen=True)
class Preview:
    """A raster's preview: ``png`` of ``preview_size`` (w, h) and what the page needs to draw in original pixels."""

    png: bytes
    preview_size: tuple[int, int]
    info: RasterInfo
    profile: str
    bands: tuple[int, ...]  # 0-based bands shown as R, G, B (or one band as grey)
    crs: str | None
    transform: tuple[float, float, float, float, float, float] | None  # GDAL order a, b, c, d, e, f
    nodata: float | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of ``POST /v1/preview`` (bands 1-based, as a user names them)."""
        w, h = self.preview_size
        return {
            "object": "earthgpt.preview",
            "width": self.info.width,
            "height": self.info.height,
            "bands": self.info.bands,
            "dtype": self.info.dtype,
            "profile": self.profile,
            "display_bands": [b + 1 for b in self.bands],
            "crs": self.crs,
            "transform": None if self.transform is None else list(self.transform),
            "nodata": self.nodata,
            "warning": None if self.crs is not None else NO_CRS_WARNING,
            "preview": {"width": w, "height": h, "url": "data:image/png;base64," + base64.b64encode(self.png).decode()},
        }


def _display(path: Path, info: RasterInfo, profile: str, bands: Sequence[int]) -> Display:
    """The profile and bands for ``path``, still without a stretch (a bad name or band is a PreviewError)."""
    try:
        name = resolve_profile(profile, info)
        if name == "rgb8" and info.dtype != "uint8":
            raise ValueError(f"profile rgb8 needs 8-bit data, this raster is {info.dtype}; use auto")
        chosen = check_bands(bands, info.bands, path) if bands else default_bands(name, info.bands)
    except ValueError as e:
        raise PreviewError(str(e).replace("--bands", "bands")) from e
    return Display(name, chosen, None)


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """(w, h) scaled down to at most ``side`` along the longer axis (never up)."""
    w, h = size
    k = max(w, h) / side
    return size if k <= 1 else (max(1, round(w / k)), max(1, round(h / k)))


def make_preview(
    path: str | Path, profile: str = "auto", bands: Sequence[int] = (), side: int = PREVIEW_SIDE
) -> Preview:
    """The preview of the raster at ``path``: one decimated read (a raster over the pixel budget at that size is
    refused), the profile's bands and a stretch from that read's percentiles (``bands`` 1-based, default the
    profile's), a PNG of at most ``side`` px a side. Memory is bounded by the preview, not the raster. Raises :class:`ImageReadError` (unreadable, truncated, over
    budget) or :class:`PreviewError` (bad profile or bands)."""
    p = Path(path)
    if p.suffix.lower() in (".tif", ".tiff"):
        scene = open_scene(p)
        info, crs, transform, nodata = scene.info, scene.crs, scene.transform, scene.nodata
    else:
        info, crs, transform, nodata = probe(p, decode=False), None, None, None
    display = _display(p, info, profile, bands)
    raw = read_raster(p, out_size=_fit((info.width, info.height), side))  # [h, w, C] native samples
    k = max(1, -(-max(raw.shape[:2]) // STATS_SIDE))  # the percentiles from at most STATS_SIDE px a side
    display = dataclasses.replace(display, stretch=view_stretch(raw[::k, ::k], display, nodata, name=str(p)))
    rgb = display_tile(raw, display)  # [h, w, 3] uint8
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", optimize=False, compress_level=3)
    return Preview(
        png=buf.getvalue(),
        preview_size=(rgb.shape[1], rgb.shape[0]),
        info=info,
        profile=display.profile,
        bands=display.bands,
        crs=crs,
        transform=transform if crs is not None else None,
        nodata=nodata,
    )
