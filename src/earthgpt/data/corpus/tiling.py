"""Cutting large detection images into overlapping tiles: windows, box clipping, visibility, tile records.

Windows follow the DOTA devkit: starts at 0, ``stride``, ``2 * stride``, ... and a last window shifted back to
end exactly at the image edge, so every pixel is covered and no window leaves the image. Boxes are clipped to the
window: an HBB by clamping, an OBB by intersecting its polygon (the convex hull of its corners) with the window and
then reducing the visible polygon to four corners (``polygon_quad``) or taking its minimum-area rectangle
(``min_area_rect``). An object is kept when the visible share of its area (its area inside the image) is at least
``min_visible``. The tile is recorded in ``ImageRef.tile``; the source raster is never read or rewritten here.
Object masks (``DetectionRecord.masks``) go with their objects: cropped to the tile (an object dropped from a tile
drops its mask; a kept object whose mask has no pixel in the tile keeps no mask, counted as
``masks_outside_tile``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

from shapely.errors import GEOSException
from shapely.geometry import Polygon
from shapely.geometry import box as shapely_box

from earthgpt.data.corpus.config import ObbClip, TilingOptions
from earthgpt.data.masks import crop_mask
from earthgpt.data.records import DetectionRecord, ImageRef, Record, Tile
from earthgpt.data.sources.base import Skip
from earthgpt.geometry import HBB, OBB, Box, LabeledBox
from earthgpt.geometry.polygons import clamped_min_area_rect, hull_polygon, polygon_quad
from earthgpt.geometry.prompts import RleMask

_EPS = 1e-9


def window_starts(length: int, window: int, stride: int) -> list[int]:
    """Start offsets of windows of ``window`` pixels along an axis of ``length`` pixels (devkit style).

    One window at 0 when the axis fits; otherwise 0, stride, 2 * stride, ... while the window ends before the
    edge, then one window ending exactly at the edge.
    """
    if window <= 0 or stride <= 0:
        raise ValueError(f"window ({window}) and stride ({stride}) must be positive")
    if length <= window:
        return [0]
    starts = list(range(0, length - window, stride))
    starts.append(length - window)
    return starts


def tile_windows(width: int, height: int, size: int, overlap: int, scale: float = 1.0) -> list[Tile]:
    """The tiles (row by row) covering a ``width`` x ``height`` image at ``scale`` output pixels per source pixel.

    A tile is ``size`` output pixels wide (``size / scale`` source pixels), or the whole axis when it is shorter.
    """
    window = max(1, round(size / scale))
    stride = max(1, round((size - overlap) / scale))
    tiles = []
    for y in window_starts(height, window, stride):
        for x in window_starts(width, window, stride):
            tiles.append(
                Tile(
                    x=x,
                    y=y,
                    width=min(window, width),
                    height=min(window, height),
                    scale=float(scale),
                    source_width=width,
                    source_height=height,
                )
            )
    return tiles


def cut_box(box: Box, tile: Tile, min_visible: float, obb_clip: ObbClip = "polygon_quad") -> Box | None:
    """``box`` (source pixels) as seen in ``tile`` (tile pixels: shifted by the offset, times the scale), or None
    when less than ``min_visible`` of its area inside the image lies in the tile."""
    poly = hull_polygon(box)
    if poly is None:
        return None
    image = shapely_box(0, 0, tile.source_width, tile.source_height)
    frame = (float(tile.x), float(tile.y), float(tile.x + tile.width), float(tile.y + tile.height))
    window = shapely_box(*frame)
    try:
        full = poly.intersection(image).area
        visible = poly.intersection(window)
    except GEOSException:
        return None
    if full <= 0 or visible.is_empty or visible.area < (min_visible - _EPS) * full:
        return None
    s = tile.scale

    def out(x: float, y: float) -> tuple[float, float]:
        return ((x - tile.x) * s, (y - tile.y) * s)

    if isinstance(box, HBB):
        x1, y1, x2, y2 = visible.bounds
        (a, b), (c, d) = out(x1, y1), out(x2, y2)
        return HBB(a, b, c, d)
    if window.covers(poly):
        corners = [out(x, y) for x, y in box.corners()]
    elif not isinstance(visible, Polygon):
        return None
    elif obb_clip == "polygon_quad":
        corners = [out(x, y) for x, y in polygon_quad(visible)]
    else:
        corners = [out(x, y) for x, y in clamped_min_area_rect(visible, frame)]
    return OBB(tuple(v for xy in corners for v in xy))  # type: ignore[arg-type]


def tiled_image(image: ImageRef, tile: Tile) -> ImageRef:
    """``image`` seen through ``tile``: width/height become the tile's output size; path and raster info stay."""
    width, height = round(tile.width * tile.scale), round(tile.height * tile.scale)
    return dataclasses.replace(image, width=width, height=height, tile=tile)


def needs_tiling(record: Record, opts: TilingOptions) -> bool:
    """True for a whole (not already tiled) detection image wider or taller than a tile."""
    if not isinstance(record, DetectionRecord) or record.image.tile is not None:
        return False
    return record.image.width > opts.size or record.image.height > opts.size


def tile_id(record_id: str, tile: Tile) -> str:
    """The record id of one tile: the whole image's id plus ``@x_y`` (and ``_s<scale>`` when resized)."""
    scale = "" if tile.scale == 1.0 else f"_s{tile.scale:g}"
    return f"{record_id}@{tile.x}_{tile.y}{scale}"


def clip_to_image(record: DetectionRecord, opts: TilingOptions) -> tuple[DetectionRecord, int]:
    """The record with every box that leaves its image clipped to it (HBB clamped, OBB cut as by a tile edge) and
    the number of objects dropped for having no area inside the image. Boxes inside the image are kept as is."""
    width, height = record.image.width, record.image.height
    frame = Tile(0, 0, width, height, 1.0, width, height)
    kept: list[LabeledBox] = []
    indices: list[int] = []
    changed = False
    for k, obj in enumerate(record.objects):
        coords = obj.box.as_tuple()
        xs, ys = coords[0::2], coords[1::2]
        if min(xs) >= 0 and min(ys) >= 0 and max(xs) <= width and max(ys) <= height:
            kept.append(obj)
            indices.append(k)
            continue
        changed = True
        box = cut_box(obj.box, frame, 0.0, opts.obb_clip)
        if box is not None and box.area > 0:
            kept.append(dataclasses.replace(obj, box=box))
            indices.append(k)
    if not changed:
        return record, 0
    masks = tuple(record.masks[k] for k in indices) if record.masks else ()
    if not any(m is not None for m in masks):
        masks = ()
    return dataclasses.replace(record, objects=tuple(kept), masks=masks), len(record.objects) - len(kept)


def cut_record(
    record: DetectionRecord, item: str, opts: TilingOptions
) -> tuple[list[DetectionRecord | Skip], Counter[str]]:
    """One detection record per tile of its image (or a ``tile_without_objects`` skip), then one
    ``object_larger_than_tile`` skip per object that is below ``min_visible`` in every tile, and tiling counts:
    tiles, tiles_without_objects, object_pieces_dropped (below ``min_visible``), objects_in_no_tile."""
    counts: Counter[str] = Counter(images_tiled=1)
    out: list[DetectionRecord | Skip] = []
    seen: set[int] = set()
    width, height = record.image.width, record.image.height
    for scale in opts.scales:
        for tile in tile_windows(width, height, opts.size, opts.overlap, scale):
            counts["tiles"] += 1
            picked = _objects_in(record.objects, tile, opts, seen, counts)
            kept = [obj for _, obj in picked]
            if kept or opts.keep_empty:
                rid = tile_id(record.id, tile)
                masks = _tile_masks(record, [k for k, _ in picked], tile, counts)
                image = tiled_image(record.image, tile)
                out.append(dataclasses.replace(record, id=rid, image=image, objects=tuple(kept), masks=masks))
            else:
                counts["tiles_without_objects"] += 1
                detail = f"tile x={tile.x} y={tile.y} {tile.width}x{tile.height} scale {tile.scale:g}"
                out.append(Skip(record.source, item, "tile_without_objects", detail))
    lost = [obj for k, obj in enumerate(record.objects) if k not in seen]
    counts["objects_in_no_tile"] += len(lost)
    out.extend(Skip(record.source, item, "object_larger_than_tile", _lost_detail(record.id, obj, opts)) for obj in lost)
    return out, counts


def _lost_detail(record_id: str, obj: LabeledBox, opts: TilingOptions) -> str:
    """Why an object is in no tile: its size against the tile's, and the visibility it needed."""
    coords = obj.box.as_tuple()
    xs, ys = coords[0::2], coords[1::2]
    scales = "" if opts.scales == [1.0] else f" at scales {opts.scales}"
    return (
        f"{record_id}: {obj.label} of {max(xs) - min(xs):.0f}x{max(ys) - min(ys):.0f} source px is less than "
        f"{opts.min_visible:g} visible in every tile (size {opts.size}, overlap {opts.overlap}{scales}); raise "
        "tiling.size or lower tiling.min_visible to keep such objects"
    )


def _tile_masks(
    record: DetectionRecord, indices: Sequence[int], tile: Tile, counts: Counter[str]
) -> tuple[RleMask | None, ...]:
    """The masks of the objects ``indices`` of ``record`` cropped to ``tile``; () when the record has none."""
    if not record.masks:
        return ()
    out: list[RleMask | None] = []
    for k in indices:
        mask = record.masks[k]
        cropped = crop_mask(mask, tile) if mask is not None else None
        if mask is not None and cropped is None:
            counts["masks_outside_tile"] += 1
        out.append(cropped)
    return tuple(out) if any(m is not None for m in out) else ()


def _objects_in(
    objects: Sequence[LabeledBox], tile: Tile, opts: TilingOptions, seen: set[int], counts: Counter[str]
) -> list[tuple[int, LabeledBox]]:
    """The objects kept in ``tile`` (in tile pixels) with their indices; records the kept indices in ``seen``."""
    kept: list[tuple[int, LabeledBox]] = []
    x2, y2 = tile.x + tile.width, tile.y + tile.height
    for k, obj in enumerate(objects):
        coords = obj.box.as_tuple()
        xs, ys = coords[0::2], coords[1::2]
        if max(xs) <= tile.x or min(xs) >= x2 or max(ys) <= tile.y or min(ys) >= y2:
            continue  # no overlap at all: not a piece of this tile
        box = cut_box(obj.box, tile, opts.min_visible, opts.obb_clip)
        if box is None:
            counts["object_pieces_dropped"] += 1
            continue
        seen.add(k)
        kept.append((k, dataclasses.replace(obj, box=box)))
    return kept
