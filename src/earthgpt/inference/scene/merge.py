"""Merge: the boxes of overlapping tiles reduced to one per object by class-wise NMS (DOTA devkit semantics), and
the masks of overlapping tiles unioned per class into one polygon per connected object.

Per class, boxes go in descending score (ties: the order they were found, which is tile order); each kept box
suppresses every later one whose IoU with it is above the threshold (``ovr <= thresh`` survives, as DOTA devkit's
``py_cpu_nms`` and ``py_cpu_nms_poly``). HBB IoU is the continuous formula (DOTA devkit adds +1 pixel to widths:
we do not, as everywhere in this project), OBB IoU the exact polygon intersection.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from earthgpt.data.imagery import Window
from earthgpt.geometry import LabeledBox, iou_matrix
from earthgpt.geometry.masks import mask_geometry
from earthgpt.geometry.polygons import enclosing_hbb
from earthgpt.geometry.prompts import RleMask

DEFAULT_NMS_IOU = 0.3
"""DOTA devkit's merge threshold for horizontal and oriented results (ResultMerge ``nms_thresh=0.3``)."""


def nms(boxes: Sequence[LabeledBox], iou_threshold: float = DEFAULT_NMS_IOU) -> list[int]:
    """Indices of the boxes kept by greedy NMS over all of ``boxes`` (one class), best first.

    Memory is linear in the boxes: each kept box is compared only with the boxes whose enclosing rectangles touch
    its own (an STRtree query), never through an N x N matrix."""
    if not boxes:
        return []
    scores = np.asarray([b.score if b.score is not None else 0.0 for b in boxes], dtype=np.float64)
    order = np.argsort(-scores, kind="stable")  # [N] best first
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))  # [N] position of each box in ``order``
    hbbs = [enclosing_hbb(b.box) for b in boxes]
    tree = shapely.STRtree(shapely.box(*np.asarray([h.as_tuple() for h in hbbs], dtype=np.float64).T))
    alive = np.ones(len(boxes), dtype=bool)
    keep: list[int] = []
    for i in order:
        if not alive[i]:
            continue
        keep.append(int(i))
        near = tree.query(shapely.box(*hbbs[i].as_tuple()))  # [M] indices into boxes
        near = near[(rank[near] > rank[i]) & alive[near]]
        if near.size:
            ious = iou_matrix([boxes[i].box], [boxes[j].box for j in near])[0]  # [M]
            alive[near[ious > iou_threshold]] = False
    return keep


def merge_boxes(boxes: Sequence[LabeledBox], iou_threshold: float = DEFAULT_NMS_IOU) -> list[LabeledBox]:
    """Class-wise NMS over scene boxes; the result is sorted by label, then score (descending), then position."""
    by_label: dict[str, list[LabeledBox]] = defaultdict(list)
    for b in boxes:
        by_label[b.label].append(b)
    kept: list[LabeledBox] = []
    for label in sorted(by_label):
        group = by_label[label]
        kept += [group[i] for i in nms(group, iou_threshold)]
    return kept


@dataclass(frozen=True)
class Region:
    """One segmented object of the scene: a connected polygon (holes kept) in scene pixels, corners on the pixel
    grid, so its area is its pixel count."""

    label: str
    polygon: shapely.Polygon

    @property
    def pixels(self) -> int:
        return round(float(self.polygon.area))


def tile_mask_geometry(mask: RleMask, window: Window) -> shapely.Geometry:
    """A tile's mask (in the tile's pixels) as an exact geometry in scene pixels, shifted by the window origin."""
    x, y, w, h = window
    if (mask.height, mask.width) != (h, w):
        raise ValueError(f"a mask of {mask.width}x{mask.height} px for the {w}x{h} px tile at ({x}, {y}); "
                         "masks must come in the tile's own pixels")  # fmt: skip
    return shapely.transform(mask_geometry(mask.to_array()), lambda xy: xy + np.asarray([x, y], dtype=np.float64))


def merge_masks(pieces: Iterable[tuple[str, shapely.Geometry]]) -> list[Region]:
    """Per class, the union of every tile's mask geometry (so an object seen by overlapping tiles is one shape),
    split into connected parts: one Region each. Sorted by label, then top-left corner (y, then x), each polygon
    in shapely's normal form, so the same tiles give the same output in any order.

    Memory is the pieces' outlines, never a scene raster."""
    by_label: dict[str, list[shapely.Geometry]] = defaultdict(list)
    for label, geometry in pieces:
        if not geometry.is_empty:
            by_label[label].append(geometry)
    out: list[Region] = []
    for label in sorted(by_label):
        union = shapely.union_all(by_label[label])
        parts = [p for p in getattr(union, "geoms", [union]) if isinstance(p, shapely.Polygon) and not p.is_empty]
        parts = [shapely.normalize(shapely.simplify(p, 0)) for p in parts]  # collinear corners dropped
        parts.sort(key=lambda p: (p.bounds[1], p.bounds[0], p.bounds[3], p.bounds[2]))
        out += [Region(label, p) for p in parts]
    return out
