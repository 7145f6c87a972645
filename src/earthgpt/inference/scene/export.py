"""Export: merged scene boxes as GeoJSON in the scene's CRS (or another), COCO json, DOTA txt and a summary."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from earthgpt.geometry import HBB, LabeledBox, box_corners, hbb_to_coco, hbb_to_obb, obb_to_dota
from earthgpt.geometry.polygons import enclosing_hbb
from earthgpt.inference.scene.slicing import Scene

log = logging.getLogger(__name__)

NO_CRS_WARNING = "the scene has no CRS: coordinates are scene pixels (x to the right, y down), not map coordinates"

PointsMap = Callable[[np.ndarray], np.ndarray]
"""[N, 2] scene pixels (x, y) -> [N, 2] output coordinates."""


def pixel_to_map(scene: Scene, crs: str | None) -> tuple[PointsMap, str | None]:
    """The map from scene pixels to output coordinates and the output CRS: the scene's affine transform, then
    (with ``crs``) pyproj to that CRS; identity and None for a scene without a CRS (a warning is logged)."""
    if scene.crs is None:
        log.warning("%s: %s", scene.path, NO_CRS_WARNING)
        return (lambda xy: xy), None
    a, b, c, d, e, f = scene.transform

    def affine(xy: np.ndarray) -> np.ndarray:
        return np.stack([a * xy[:, 0] + b * xy[:, 1] + c, d * xy[:, 0] + e * xy[:, 1] + f], axis=1)  # [N, 2]

    if crs is None:
        return affine, scene.crs
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        tr = Transformer.from_crs(CRS.from_user_input(scene.crs), CRS.from_user_input(crs), always_xy=True)
    except CRSError as err:
        raise ValueError(f"--crs {crs!r} is not a CRS pyproj knows ({err}); pass e.g. EPSG:4326") from err

    def reproject(xy: np.ndarray) -> np.ndarray:
        m = affine(xy)
        x, y = tr.transform(m[:, 0], m[:, 1])
        return np.stack([np.asarray(x), np.asarray(y)], axis=1)

    return reproject, crs


def _crs_member(crs: str | None) -> dict[str, Any] | None:
    """The named-CRS member QGIS and GDAL read (GeoJSON 2008); None for RFC 7946's WGS 84 or pixels."""
    if crs is None or crs.upper() in ("EPSG:4326", "OGC:CRS84"):
        return None
    if crs.upper().startswith("EPSG:"):
        return {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{crs.split(':', 1)[1]}"}}
    return {"type": "name", "properties": {"name": crs}}


def _ring(box: LabeledBox, to_out: PointsMap) -> list[list[float]]:
    corners = to_out(box_corners(box.box))  # [4, 2]
    pts = [[float(x), float(y)] for x, y in corners]
    return [*pts, pts[0]]


def geojson(
    scene: Scene, boxes: Sequence[LabeledBox], crs: str | None = None, answers: Sequence[tuple[Any, str]] = ()
) -> dict[str, Any]:
    """A FeatureCollection: one Polygon per box (label, kind, score, pixel coordinates) and, for ``ask``, one per
    answered tile window (``answers``: (window, text)); in ``crs`` (default the scene's)."""
    to_out, out_crs = pixel_to_map(scene, crs)
    features = []
    for b in boxes:
        props = {"label": b.label, "kind": "hbb" if isinstance(b.box, HBB) else "obb", "score": b.score,
                 "pixel_coords": list(b.box.as_tuple())}  # fmt: skip
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [_ring(b, to_out)]},
                         "properties": props})  # fmt: skip
    for window, text in answers:
        x, y, w, h = window
        tile = LabeledBox("tile", HBB(x, y, x + w, y + h))
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [_ring(tile, to_out)]},
                         "properties": {"answer": text, "window": list(window)}})  # fmt: skip
    out: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    member = _crs_member(out_crs)
    if member is not None:
        out["crs"] = member
    if scene.crs is None:
        out["warning"] = NO_CRS_WARNING
    return out


def coco(scene: Scene, boxes: Sequence[LabeledBox]) -> dict[str, Any]:
    """COCO detection results for the one scene image: ``bbox`` the enclosing [x, y, w, h], ``segmentation``
    the box polygon, in scene pixels; categories numbered from 1 in label order."""
    labels = sorted({b.label for b in boxes})
    ids = {name: i + 1 for i, name in enumerate(labels)}
    anns = []
    for k, b in enumerate(boxes):
        x, y, w, h = hbb_to_coco(enclosing_hbb(b.box))
        poly = [float(v) for v in box_corners(b.box).reshape(-1)]
        anns.append({"id": k + 1, "image_id": 1, "category_id": ids[b.label], "bbox": [x, y, w, h],
                     "area": w * h, "segmentation": [poly], "score": b.score, "iscrowd": 0})  # fmt: skip
    image = {"id": 1, "file_name": scene.path.name, "width": scene.info.width, "height": scene.info.height}
    categories = [{"id": i, "name": name} for name, i in ids.items()]
    return {"images": [image], "categories": categories, "annotations": anns}


def dota_lines(boxes: Sequence[LabeledBox]) -> list[str]:
    """DOTA labelTxt lines ``x1 y1 ... x4 y4 label difficult`` in scene pixels (an HBB as its four corners)."""
    lines = []
    for b in boxes:
        obb = hbb_to_obb(b.box) if isinstance(b.box, HBB) else b.box
        coords = " ".join(f"{v:.1f}" for v in obb_to_dota(obb))
        lines.append(f"{coords} {b.label.replace(' ', '-')} 0")
    return lines


def summary(scene: Scene, boxes: Sequence[LabeledBox], tiles: dict[str, int]) -> dict[str, Any]:
    """Counts per class of the merged result, and how many tiles were answered or skipped as nodata."""
    counts = Counter(b.label for b in boxes)
    return {"scene": str(scene.path), "width": scene.info.width, "height": scene.info.height, "crs": scene.crs,
            "objects": sum(counts.values()), "per_class": dict(sorted(counts.items())), "tiles": tiles}  # fmt: skip


def write_json(path: Path, obj: Any, indent: int | None = None) -> None:
    """``obj`` as stable, sorted-key JSON (the same run gives the same bytes); compact unless ``indent``."""
    path.write_text(json.dumps(obj, indent=indent, sort_keys=True) + "\n", encoding="utf-8")
