"""Sensor profiles: which bands of a scene the model sees and how their values become 8-bit, the same for every tile."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from earthgpt.data.imagery import RasterInfo, read_raster

log = logging.getLogger(__name__)

ProfileName = Literal["auto", "rgb8", "sentinel2", "uint16", "sar", "sar-db", "thermal"]
PROFILES: tuple[str, ...] = ("auto", "rgb8", "sentinel2", "uint16", "sar", "sar-db", "thermal")

STATS_SIDE = 1024
"""The longer side of the decimated view the scene-wide percentiles are taken from (memory: one such view)."""

S2_REFLECTANCE_SCALE = 10000.0
"""Sentinel-2 L1C/L2A digital numbers are reflectance times 10000."""
S2_DISPLAY_MAX = 0.3
"""Reflectance shown as white: the usual true-colour gain (0 -> black, 0.3 -> 255)."""


@dataclass(frozen=True)
class Stretch:
    """Per-band linear map to 0..255: ``low`` -> 0, ``high`` -> 255 (values in the profile's transformed unit)."""

    low: tuple[float, ...]
    high: tuple[float, ...]


@dataclass(frozen=True)
class Display:
    """How one scene becomes model input: the bands (0-based), the value transform and the stretch."""

    profile: str
    bands: tuple[int, ...]
    stretch: Stretch | None  # None: uint8 data kept as is


def resolve_profile(name: str, info: RasterInfo) -> str:
    """``auto`` -> a concrete profile from the sample type and band count; other names are checked."""
    if name not in PROFILES:
        raise ValueError(f"unknown sensor profile {name!r}: use one of {', '.join(PROFILES)}")
    if name != "auto":
        return name
    if info.dtype == "uint8":
        return "rgb8"
    return "thermal" if info.bands == 1 else "uint16"


def default_bands(profile: str, count: int) -> tuple[int, ...]:
    """0-based bands shown as R, G, B: Sentinel-2 stacks of 4+ bands in B1..B12 order give B4, B3, B2."""
    if profile in ("sar", "sar-db", "thermal") or count == 1:
        return (0,)
    if profile == "sentinel2" and count >= 4:
        return (3, 2, 1)
    return (0, 1, 2) if count >= 3 else tuple(range(count))


def check_bands(bands: Sequence[int], count: int, path: Path) -> tuple[int, ...]:
    """0-based band indices from 1-based user input, checked against the scene's band count."""
    out = tuple(b - 1 for b in bands)
    if not out or any(b < 0 or b >= count for b in out) or len(out) not in (1, 3):
        raise ValueError(f"{path}: --bands {','.join(map(str, bands))} must name 1 or 3 of the bands 1..{count}")
    return out


def transform_values(arr: np.ndarray, profile: str) -> np.ndarray:
    """[h, w, C] native samples -> float32 in the profile's unit (reflectance, dB, or the raw value)."""
    a = arr.astype(np.float32)
    if profile == "sentinel2":
        return a / S2_REFLECTANCE_SCALE
    if profile == "sar":  # amplitude -> dB
        return 20.0 * np.log10(np.maximum(a, 1e-6, dtype=np.float32))
    return a


def scene_stretch(
    path: Path, info: RasterInfo, display: Display, nodata: float | None, low: float = 2.0, high: float = 98.0
) -> Stretch | None:
    """The scene-wide percentile stretch of a profile, from a decimated view (at most STATS_SIDE px a side)."""
    if display.profile == "rgb8":
        return None
    if display.profile == "sentinel2":
        n = len(display.bands)
        return Stretch(low=(0.0,) * n, high=(S2_DISPLAY_MAX,) * n)
    k = max(1, -(-max(info.width, info.height) // STATS_SIDE))
    view = read_raster(path, out_size=(max(1, info.width // k), max(1, info.height // k)))
    return view_stretch(view, display, nodata, low, high, str(path))


def view_stretch(
    view: np.ndarray, display: Display, nodata: float | None, low: float = 2.0, high: float = 98.0, name: str = "view"
) -> Stretch | None:
    """The percentile stretch of a profile from ``view`` [h, w, C] (native samples of the whole raster, decimated),
    skipping nodata pixels and non-finite values; None for ``rgb8``, fixed reflectance for ``sentinel2``."""
    if display.profile == "rgb8":
        return None
    if display.profile == "sentinel2":
        n = len(display.bands)
        return Stretch(low=(0.0,) * n, high=(S2_DISPLAY_MAX,) * n)
    view = view[:, :, list(display.bands)]
    valid = np.ones(view.shape[:2], dtype=bool) if nodata is None else ~np.all(view == nodata, axis=2)
    values = transform_values(view, display.profile)[valid]  # [N, C]
    values = values[np.isfinite(values).all(axis=1)]
    if values.size == 0:
        log.warning("%s: no valid pixel in the decimated view; the stretch is 0..1", name)
        return Stretch(low=(0.0,) * len(display.bands), high=(1.0,) * len(display.bands))
    lo, hi = np.percentile(values, [low, high], axis=0)  # [C], [C]
    return Stretch(low=tuple(float(v) for v in lo), high=tuple(float(v) for v in hi))


def to_display(arr: np.ndarray, display: Display) -> np.ndarray:
    """[h, w, C] native tile -> [h, w, 3] uint8 through the scene's bands and stretch."""
    a = arr[:, :, list(display.bands)]
    if display.stretch is None:
        out = a.astype(np.uint8, copy=False)
    else:
        v = transform_values(a, display.profile)
        lo = np.asarray(display.stretch.low, dtype=np.float32)
        span = np.asarray(display.stretch.high, dtype=np.float32) - lo
        scale = np.where(span > 0, 255.0 / np.where(span > 0, span, 1.0), 0.0).astype(np.float32)
        out = np.clip(np.nan_to_num((v - lo) * scale, nan=0.0), 0, 255).astype(np.uint8)
    if out.shape[2] == 1:
        out = np.repeat(out, 3, axis=2)
    return np.ascontiguousarray(out)
