"""Object masks of records: read from sources (COCO RLE, polygons, PNG), checked, cropped with tiles, sampled.

Every mask is an :class:`RleMask` in the pixels of its image. A mask that cannot be trusted raises
:class:`MaskError` with one of :data:`MASK_SKIP_REASONS`; the source turns it into a skip of that object, so a
record never holds a silently wrong mask.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
from shapely.geometry import Polygon
from shapely.validation import explain_validity

from earthgpt.data.records import Tile
from earthgpt.geometry import HBB, Box
from earthgpt.geometry.masks import decode_rle_counts
from earthgpt.geometry.polygons import hull_polygon
from earthgpt.geometry.prompts import RleMask

__all__ = [
    "MASK_SKIP_REASONS",
    "MaskError",
    "box_mask",
    "crop_mask",
    "hbb_of",
    "mask_from_array",
    "mask_from_polygons",
    "mask_from_rle",
    "mask_pixels",
    "point_in_mask",
    "sample_point",
    "sample_scribble",
    "union_mask",
]

MASK_SKIP_REASONS: tuple[str, ...] = (
    "mask_size_mismatch",
    "self_intersecting_polygon",
    "empty_mask",
    "malformed_mask",
    "point_outside_mask",
)
"""The skip reasons of bad masks (explained in ``earthgpt.data.sources.base.SKIP_REASONS``)."""


class MaskError(ValueError):
    """A mask that cannot be used; ``reason`` is one of :data:`MASK_SKIP_REASONS`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def mask_from_array(mask: np.ndarray, name: str = "mask") -> RleMask:
    """An array [H, W] (non-zero = object) as RLE; MaskError ``empty_mask`` when no pixel is set."""
    if not np.any(mask):
        raise MaskError("empty_mask", f"{name}: no pixel is set")
    return RleMask.from_array(mask)


def mask_from_rle(segmentation: Any, height: int, width: int, name: str = "mask") -> RleMask:
    """A COCO RLE dict (compressed or uncompressed counts) checked against its image's size and for content."""
    if not isinstance(segmentation, dict) or "counts" not in segmentation or "size" not in segmentation:
        raise MaskError("malformed_mask", f"{name}: not an RLE dict with 'size' and 'counts'")
    try:
        mask = RleMask.from_dict(segmentation)
    except (TypeError, ValueError) as e:
        raise MaskError("malformed_mask", f"{name}: {e}") from e
    if (mask.height, mask.width) != (height, width):
        raise MaskError(
            "mask_size_mismatch", f"{name}: the RLE is {mask.width}x{mask.height} px, the image {width}x{height}"
        )
    try:
        runs = decode_rle_counts(mask.counts, name)
    except ValueError as e:
        raise MaskError("malformed_mask", str(e)) from e
    if (runs < 0).any() or int(runs.sum()) != height * width:
        raise MaskError("malformed_mask", f"{name}: RLE runs sum to {int(runs.sum())}, not {height}x{width}")
    if int(runs[1::2].sum()) == 0:
        raise MaskError("empty_mask", f"{name}: the RLE sets no pixel")
    return mask


def mask_from_polygons(polygons: Sequence[Sequence[float]], height: int, width: int, name: str = "mask") -> RleMask:
    """COCO polygons ``[[x1, y1, x2, y2, ...], ...]`` (pixels) rasterised by pycocotools (COCO's pixel rule).

    Each polygon must have >= 3 vertices and edges that do not cross (``self_intersecting_polygon``; a ring that
    only touches itself at a vertex, as real HRSID polygons along the tile edge do, is kept); a polygon
    reaching past the image is cut by the raster; nothing set is ``empty_mask``."""
    from pycocotools import mask as coco_mask

    polys: list[list[float]] = []
    for k, poly in enumerate(polygons):
        try:
            coords = [float(v) for v in poly]
        except (TypeError, ValueError) as e:
            raise MaskError("malformed_mask", f"{name}: polygon {k} is not a list of numbers ({e})") from e
        if len(coords) < 6 or len(coords) % 2 or not all(math.isfinite(v) for v in coords):
            raise MaskError("malformed_mask", f"{name}: polygon {k} needs >= 3 finite (x, y) pairs")
        shape = Polygon(list(zip(coords[0::2], coords[1::2], strict=True)))
        why = "" if shape.is_valid else explain_validity(shape)
        if why.startswith("Self-intersection"):  # crossing edges; a ring touching itself at a vertex is fine
            raise MaskError("self_intersecting_polygon", f"{name}: polygon {k}: edges cross ({why})")
        polys.append(coords)
    if not polys:
        raise MaskError("malformed_mask", f"{name}: no polygon")
    rle = coco_mask.merge(coco_mask.frPyObjects(polys, height, width))
    counts = rle["counts"]
    mask = RleMask(height, width, counts.decode("ascii") if isinstance(counts, bytes) else str(counts))
    if int(coco_mask.area(rle)) == 0:
        raise MaskError("empty_mask", f"{name}: the polygons cover no pixel centre")
    return mask


def box_mask(box: Box, height: int, width: int) -> RleMask:
    """The weak mask of a box: its polygon (HBB rectangle, OBB quadrilateral) rasterised like a COCO polygon."""
    poly = hull_polygon(box)
    if poly is None:
        raise MaskError("empty_mask", f"{box} has no area")
    coords = [v for xy in list(poly.exterior.coords)[:-1] for v in xy]
    return mask_from_polygons([coords], height, width, f"box {box.as_tuple()}")


def mask_pixels(mask: RleMask) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the set pixels, from the runs (no full-size array: O(set pixels))."""
    runs = decode_rle_counts(mask.counts, "mask")
    ends = np.cumsum(runs)  # [C]
    starts = ends - runs
    on = [np.arange(a, b) for a, b in zip(starts[1::2].tolist(), ends[1::2].tolist(), strict=True) if b > a]
    index = np.concatenate(on) if on else np.zeros(0, dtype=np.int64)  # column-major positions
    return index % mask.height, index // mask.height


def crop_mask(mask: RleMask, tile: Tile) -> RleMask | None:
    """The part of ``mask`` (source pixels) inside ``tile``, in tile output pixels (nearest-neighbour when the tile
    is resized); None when no pixel of it is left."""
    rows, cols = mask_pixels(mask)
    inside = (cols >= tile.x) & (cols < tile.x + tile.width) & (rows >= tile.y) & (rows < tile.y + tile.height)
    if not inside.any():
        return None
    crop = np.zeros((tile.height, tile.width), dtype=bool)  # [h, w] source pixels of the window
    crop[rows[inside] - tile.y, cols[inside] - tile.x] = True
    out_w, out_h = round(tile.width * tile.scale), round(tile.height * tile.scale)
    if (out_w, out_h) != (tile.width, tile.height):
        ys = np.minimum(((np.arange(out_h) + 0.5) / tile.scale).astype(np.int64), tile.height - 1)
        xs = np.minimum(((np.arange(out_w) + 0.5) / tile.scale).astype(np.int64), tile.width - 1)
        crop = crop[ys][:, xs]
    return RleMask.from_array(crop) if crop.any() else None


def point_in_mask(mask: RleMask, x: float, y: float) -> bool:
    """True when the pixel holding (x, y) is set."""
    col, row = math.floor(x), math.floor(y)
    if not (0 <= col < mask.width and 0 <= row < mask.height):
        return False
    rows, cols = mask_pixels(mask)
    return bool(np.any((rows == row) & (cols == col)))


def _interior(mask: RleMask) -> tuple[np.ndarray, np.ndarray]:
    """Set pixels whose 4 neighbours are set too (all set pixels when none is): points there stay inside."""
    rows, cols = mask_pixels(mask)
    cells = set(zip(rows.tolist(), cols.tolist(), strict=True))
    keep = [(r, c) for r, c in cells if {(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)} <= cells] or sorted(cells)
    keep.sort()
    arr = np.asarray(keep, dtype=np.int64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


def _region_pixels(mask: RleMask | None, box: Box) -> tuple[np.ndarray, np.ndarray]:
    """Interior pixels of the mask, else the pixel centres inside the box's middle half (a box has no mask)."""
    if mask is not None:
        return _interior(mask)
    poly = hull_polygon(box)
    if poly is None:
        raise MaskError("empty_mask", f"{box} has no area")
    centre = poly.centroid
    from shapely import affinity

    core = affinity.scale(poly, 0.5, 0.5, origin=centre)
    x1, y1, x2, y2 = (math.floor(core.bounds[0]), math.floor(core.bounds[1]), *map(math.ceil, core.bounds[2:]))
    from shapely import contains_xy

    cols, rows = np.meshgrid(np.arange(x1, x2 + 1), np.arange(y1, y2 + 1))
    inside = contains_xy(core, cols + 0.5, rows + 0.5)
    if not inside.any():
        return np.asarray([math.floor(centre.y)]), np.asarray([math.floor(centre.x)])
    return rows[inside], cols[inside]


def sample_point(mask: RleMask | None, box: Box, rng: random.Random) -> tuple[float, float]:
    """A point inside the object: the centre of a seeded interior pixel of its mask, else of the box's middle half."""
    rows, cols = _region_pixels(mask, box)
    k = rng.randrange(rows.size)
    return float(cols[k]) + 0.5, float(rows[k]) + 0.5


def sample_scribble(mask: RleMask | None, box: Box, rng: random.Random, points: int = 4) -> list[tuple[float, float]]:
    """A free-form stroke inside the object: up to ``points`` seeded interior pixel centres, ordered along the
    object's main axis (so the stroke runs along it, as a person draws one)."""
    rows, cols = _region_pixels(mask, box)
    picks = sorted({rng.randrange(rows.size) for _ in range(points)})
    xy = np.stack([cols[picks] + 0.5, rows[picks] + 0.5], axis=1).astype(np.float64)  # [P, 2]
    if len(xy) > 1:
        centred = xy - xy.mean(axis=0)
        axis = np.linalg.svd(centred, full_matrices=False)[2][0] if np.any(centred) else np.array([1.0, 0.0])
        xy = xy[np.argsort(centred @ axis, kind="stable")]
    return [(float(x), float(y)) for x, y in xy]


def union_mask(masks: Sequence[RleMask]) -> RleMask:
    """The pixels set in any of ``masks`` (all of one size), merged run by run by pycocotools."""
    from pycocotools import mask as coco_mask

    if len(masks) == 1:
        return masks[0]
    if len({(m.height, m.width) for m in masks}) != 1:
        raise ValueError(f"masks of different sizes: {sorted({(m.height, m.width) for m in masks})}")
    rles = [{"size": [m.height, m.width], "counts": m.counts.encode("ascii")} for m in masks]
    merged = coco_mask.merge(rles, intersect=0)
    counts = merged["counts"]
    return RleMask(masks[0].height, masks[0].width, counts.decode("ascii") if isinstance(counts, bytes) else counts)


def hbb_of(box: Box) -> HBB:
    """The enclosing horizontal box of any box."""
    coords = box.as_tuple()
    xs, ys = coords[0::2], coords[1::2]
    return HBB(min(xs), min(ys), max(xs), max(ys))
