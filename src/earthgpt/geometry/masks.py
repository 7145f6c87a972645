"""Pixel masks: their boxes (HBB, minimum-area OBB), outlines and COCO RLE, expanded to pixels or run lengths."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from earthgpt.geometry.boxes import HBB, OBB
from earthgpt.geometry.polygons import min_area_obb

__all__ = [
    "decode_rle_counts",
    "encode_rle_counts",
    "exterior_coords",
    "mask_geometry",
    "mask_hbb",
    "mask_obb",
    "mask_polygons",
    "rle_mask",
    "rle_pixels",
]


def mask_hbb(rows: np.ndarray, cols: np.ndarray) -> HBB:
    """The box enclosing mask pixels given by their rows and columns; pixel (r, c) covers [c, c+1] x [r, r+1]."""
    if rows.size == 0:
        raise ValueError("the mask is empty")
    return HBB(float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1))


def mask_obb(rows: np.ndarray, cols: np.ndarray) -> OBB:
    """The minimum-area rectangle around mask pixels (all four corners of each pixel), paper corner order."""
    if rows.size == 0:
        raise ValueError("the mask is empty")
    corners = np.concatenate([np.stack([cols + dx, rows + dy], axis=1) for dx in (0, 1) for dy in (0, 1)])  # [4N, 2]
    return min_area_obb(np.unique(corners, axis=0))


def rle_pixels(segmentation: Any, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the pixels set in a COCO RLE.

    An uncompressed RLE (``counts`` a list of run lengths, alternating off/on, column-major over an H x W
    image) is expanded run by run without building the whole mask; a compressed RLE (``counts`` a string) is
    decoded with pycocotools. ValueError if it is not an RLE or does not fit ``size``.
    """
    if not isinstance(segmentation, dict) or "counts" not in segmentation:
        raise ValueError(f"segmentation is not an RLE dict: {str(segmentation)[:80]}")
    counts = segmentation["counts"]
    if isinstance(counts, list):
        runs = np.asarray(counts, dtype=np.int64)
        if runs.size and (runs.min() < 0 or runs.sum() != height * width):
            raise ValueError(f"RLE counts sum to {int(runs.sum())}, not {height}x{width}")
        ends = np.cumsum(runs)
        starts = ends - runs
        on = [np.arange(a, b) for a, b in zip(starts[1::2], ends[1::2], strict=True)]
        index = np.concatenate(on) if on else np.zeros(0, dtype=np.int64)
        return index % height, index // height
    rows, cols = np.nonzero(rle_mask(segmentation, height, width))
    return rows, cols


def rle_mask(segmentation: Any, height: int, width: int) -> np.ndarray:
    """A COCO RLE (compressed, or uncompressed with a ``counts`` list) decoded to a uint8 mask [H, W] by
    pycocotools."""
    from pycocotools import mask as mask_utils

    if not isinstance(segmentation, dict) or "counts" not in segmentation:
        raise ValueError(f"segmentation is not an RLE dict: {str(segmentation)[:80]}")
    try:
        rle = segmentation
        if isinstance(segmentation["counts"], list):
            rle = mask_utils.frPyObjects(segmentation, height, width)
        return np.asarray(mask_utils.decode(rle), dtype=np.uint8)
    except (TypeError, ValueError) as e:
        raise ValueError(f"cannot decode the RLE mask: {e}") from e


def decode_rle_counts(text: str | bytes, name: str = "mask") -> np.ndarray:
    """COCO's compressed RLE text -> run lengths, vectorised.

    The format: each count is 5-bit groups, low first, as characters from 48; bit 0x20 says another
    group follows, bit 0x10 of the last group is the sign; from the fourth count on, a count is
    stored as its difference from the count two before (so odd and even counts are running sums).
    """
    data = text.encode("ascii") if isinstance(text, str) else bytes(text)
    c = np.frombuffer(data, dtype=np.uint8).astype(np.int64) - 48  # [L]
    bad = np.flatnonzero((c < 0) | (c >= 64))
    if bad.size:
        raise ValueError(f"{name}: byte {data[bad[0]]!r} at {bad[0]} is not COCO compressed RLE text")
    if c.size and c[-1] & 0x20:
        raise ValueError(f"{name}: compressed RLE counts end in the middle of a number; the string is cut")
    last = (c & 0x20) == 0  # [L] the final group of a number
    ends = np.flatnonzero(last)
    starts = np.concatenate([[0], ends[:-1] + 1])
    group = np.arange(c.size) - np.repeat(starts, ends - starts + 1)  # [L] index of the group within its number
    if c.size and group.max() > 11:
        raise ValueError(f"{name}: a compressed RLE count has more than 12 groups; the string is not COCO RLE")
    values = np.add.reduceat((c & 0x1F) << (5 * group), starts) if c.size else np.zeros(0, np.int64)
    negative = (c[ends] & 0x10) != 0
    values[negative] -= np.left_shift(1, 5 * (group[ends[negative]] + 1))
    values[1::2] = np.cumsum(values[1::2])  # count m += count m - 2, for m > 2
    values[2::2] = np.cumsum(values[2::2])
    return values


def encode_rle_counts(runs: np.ndarray) -> str:
    """Run lengths -> COCO's compressed RLE text; the inverse of :func:`decode_rle_counts`."""
    values = np.asarray(runs, dtype=np.int64).copy()
    values[3:] -= np.asarray(runs, dtype=np.int64)[1:-2]  # from the fourth count on, the difference to two before
    out: list[str] = []
    for v in values.tolist():
        more = True
        while more:
            c = v & 0x1F
            v >>= 5
            more = v != -1 if c & 0x10 else v != 0
            out.append(chr((c | 0x20 if more else c) + 48))
    return "".join(out)


def mask_geometry(mask: np.ndarray) -> shapely.Geometry:
    """The set pixels of a binary mask [H, W] as one exact shapely geometry in pixel corners (x right, y down).

    The union of the set pixels' squares (one rectangle per run of a row), so holes are kept and the area is the
    pixel count; a Polygon, a MultiPolygon of its connected parts, or an empty geometry for an empty mask.
    """
    set_ = np.asarray(mask) != 0
    if set_.ndim != 2:
        raise ValueError(f"a mask is 2-D [H, W]; got shape {set_.shape}")
    padded = np.pad(set_.astype(np.int8), ((0, 0), (1, 1)))
    edges = np.diff(padded, axis=1)  # +1 where a run starts, -1 one past where it ends
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    if rows.size == 0:
        return shapely.Polygon()
    cells = shapely.box(starts, rows, ends, rows + 1)  # [R] one rectangle per run (nonzero is row-major)
    return shapely.union_all(cells)


def mask_polygons(mask: np.ndarray) -> list[list[float]]:
    """The outlines of a binary mask [H, W] as COCO polygons (flat ``[x1, y1, x2, y2, ...]`` in pixel corners).

    Exact: :func:`mask_geometry`, one polygon per connected part, its exterior only (COCO polygons have no holes;
    the RLE keeps them). Empty mask -> [].
    """
    union = mask_geometry(mask)
    if union.is_empty:
        return []
    parts = list(union.geoms) if hasattr(union, "geoms") else [union]
    return [exterior_coords(part) for part in parts]


def exterior_coords(polygon: shapely.Polygon) -> list[float]:
    """A polygon's exterior as a flat COCO list ``[x1, y1, ...]``: collinear corners and the closing repeat dropped."""
    ring = shapely.simplify(polygon, 0).exterior.coords[:-1]
    return [float(v) for xy in ring for v in xy]
