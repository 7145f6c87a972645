"""A stub tile model that finds value-coded objects, and GeoTIFF writers for generated scenes."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from earthgpt.geometry import HBB, LabeledBox, format_boxes, normalize
from earthgpt.geometry.polygons import min_area_obb
from earthgpt.geometry.prompts import RleMask
from earthgpt.inference.scene import Answer


class ValueDetector:
    """Detects every object drawn with its own grey value v > 0 in band 0 (label ``ship`` below 128, ``plane``
    above; score v / 255 written by rank) and answers in the model's text form. Objects touching the tile's edge
    are left out, so each object comes from the tiles that hold all of it. ``fail_after`` raises after that many
    tiles, as a killed run would stop."""

    def __init__(self, kind: str = "hbb", side: int = 100, fail_after: int | None = None) -> None:
        self.kind, self._side, self.fail_after, self.seen = kind, side, fail_after, 0
        self.batches: list[int] = []

    @property
    def side(self) -> int:
        return self._side

    def answer(self, tiles: Sequence[np.ndarray], question: str) -> list[Answer]:
        if self.fail_after is not None and self.seen + len(tiles) > self.fail_after:
            raise RuntimeError("killed")
        self.seen += len(tiles)
        self.batches.append(len(tiles))
        return [self._one(t) for t in tiles]

    def _one(self, tile: np.ndarray) -> Answer:
        h, w = tile.shape[:2]
        band = tile[:, :, 0]
        boxes = []
        for v in sorted(set(np.unique(band).tolist()) - {0}, reverse=True):
            rows, cols = np.nonzero(band == v)
            if rows.min() == 0 or cols.min() == 0 or rows.max() == h - 1 or cols.max() == w - 1:
                continue
            if self.kind == "hbb":
                box = HBB(float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1))
            else:
                corners = np.concatenate([np.stack([cols + dx, rows + dy], 1) for dx in (0, 1) for dy in (0, 1)])
                box = min_area_obb(corners.astype(np.float64))
            boxes.append(LabeledBox("ship" if v < 128 else "plane", normalize(box, w, h)))
        return Answer(format_boxes(boxes), tuple(-0.01 * k for k in range(len(boxes))), ())


class ValueSegmenter:
    """Segments, for "segment every ship", every pixel of band 0 in 1..127 (one ``<seg>`` mask, all of them, in the
    tile's pixels), and for any other question nothing; remembers each question and tile size it was asked.
    ``fail_after`` raises after that many tiles, as a killed run would stop."""

    def __init__(self, side: int = 100, fail_after: int | None = None) -> None:
        self._side, self.fail_after, self.seen = side, fail_after, 0
        self.asked: list[tuple[str, tuple[int, ...]]] = []

    @property
    def side(self) -> int:
        return self._side

    def answer(self, tiles: Sequence[np.ndarray], question: str) -> list[Answer]:
        if self.fail_after is not None and self.seen + len(tiles) > self.fail_after:
            raise RuntimeError("killed")
        self.seen += len(tiles)
        self.asked += [(question, t.shape) for t in tiles]
        if "every ship" not in question:
            return [Answer("Sure, <seg>.", masks=(RleMask.from_array(np.zeros(t.shape[:2])),)) for t in tiles]
        masks = [(t[:, :, 0] > 0) & (t[:, :, 0] < 128) for t in tiles]
        return [Answer("Sure, <seg>.", masks=(RleMask.from_array(m),)) for m in masks]


def draw_objects(size: tuple[int, int], objects: Sequence[tuple[int, Sequence[tuple[float, float]]]]) -> np.ndarray:
    """[H, W] uint8 with each (value, polygon) filled."""
    im = Image.new("L", size, 0)
    d = ImageDraw.Draw(im)
    for value, poly in objects:
        d.polygon(list(poly), fill=value)
    return np.array(im)


def write_geotiff(
    path: Path, bands: np.ndarray, crs: str | None = "EPSG:32633", nodata: float | None = None, tiled: bool = True
) -> Path:
    """[C, H, W] as a GeoTIFF with 10 m pixels at (500000, 4000000) in ``crs`` (None: a plain TIFF, no CRS)."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.transform import from_origin

    c, h, w = bands.shape
    profile = {"driver": "GTiff", "width": w, "height": h, "count": c, "dtype": str(bands.dtype)}
    if tiled:
        profile.update(tiled=True, blockxsize=256, blockysize=256, compress="deflate")
    if crs is not None:
        profile.update(crs=crs, transform=from_origin(500000.0, 4000000.0, 10.0, 10.0))
    if nodata is not None:
        profile["nodata"] = nodata
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", **profile) as ds:
            ds.write(bands)
    return path
