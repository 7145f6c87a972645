"""Export: merged scene boxes and mask regions as GeoJSON in the scene's CRS (or another), COCO json, DOTA txt
(boxes) and a summary."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from earthgpt.geometry import HBB, LabeledBox, box_corners, hbb_to_coco, hbb_to_obb, obb_to_dota
from earthgpt.geometry.masks import exterior_coords
from earthgpt.geometry.polygons import enclosing_hbb
from earthgpt.inference.scene.merge import Region
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


AreaOf = Callable[[shapely.Polygon], float]
"""A polygon in scene pixels -> its ground area in square metres."""


def ground_area(scene: Scene) -> AreaOf | None:
    """The ground area (m^2) of a polygon in scene pixels: its corners through the affine transform and pyproj to
    WGS 84 longitude / latitude, then the geodesic area on the WGS 84 ellipsoid (``pyproj.Geod``). None for a scene
    without a CRS.

    Decided: geodesic, not pixel count x pixel size: a map's own square metres are ground metres only in an
    equal-area or local projection; Web Mercator (EPSG:3857, as the sen2ships scenes) overstates area by
    1 / cos^2(latitude), 1.5x at 35 degrees N, and a geographic CRS has no metres at all."""
    if scene.crs is None:
        return None
    from pyproj import CRS, Geod, Transformer

    tr = Transformer.from_crs(CRS.from_user_input(scene.crs), CRS.from_epsg(4326), always_xy=True)
    geod = Geod(ellps="WGS84")
    a, b, c, d, e, f = scene.transform

    def to_lonlat(xy: np.ndarray) -> np.ndarray:
        lon, lat = tr.transform(a * xy[:, 0] + b * xy[:, 1] + c, d * xy[:, 0] + e * xy[:, 1] + f)
        return np.stack([np.asarray(lon), np.asarray(lat)], axis=1)  # [N, 2]

    def area(polygon: shapely.Polygon) -> float:
        return abs(float(geod.geometry_area_perimeter(shapely.transform(polygon, to_lonlat))[0]))

    return area


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


def _region_rings(polygon: shapely.Polygon, to_out: PointsMap) -> list[list[list[float]]]:
    """GeoJSON rings of a pixel polygon in output coordinates: exterior counter-clockwise, holes clockwise (RFC
    7946), each closed."""
    rings = [polygon.exterior, *polygon.interiors]
    exterior, *holes = [to_out(np.asarray(r.coords)) for r in rings]
    mapped = shapely.orient_polygons(shapely.Polygon(exterior, holes))
    return [[[float(x), float(y)] for x, y in r.coords] for r in [mapped.exterior, *mapped.interiors]]


def region_features(scene: Scene, regions: Sequence[Region], to_out: PointsMap) -> list[dict[str, Any]]:
    """One Polygon feature per merged mask region: label, area in pixels and on the ground (m^2, with a CRS),
    pixel box."""
    area = ground_area(scene) if regions else None
    out = []
    for r in regions:
        props: dict[str, Any] = {"label": r.label, "kind": "mask", "area_px": r.pixels,
                                 "pixel_bbox": [float(v) for v in r.polygon.bounds]}  # fmt: skip
        if area is not None:
            props["area_m2"] = round(area(r.polygon), 3)
        geometry = {"type": "Polygon", "coordinates": _region_rings(r.polygon, to_out)}
        out.append({"type": "Feature", "geometry": geometry, "properties": props})
    return out


def geojson(
    scene: Scene,
    boxes: Sequence[LabeledBox],
    crs: str | None = None,
    answers: Sequence[tuple[Any, str]] = (),
    regions: Sequence[Region] = (),
) -> dict[str, Any]:
    """A FeatureCollection: one Polygon per box (label, kind, score, pixel coordinates), one per mask region and,
    for ``ask``, one per answered tile window (``answers``: (window, text)); in ``crs`` (default the scene's)."""
    to_out, out_crs = pixel_to_map(scene, crs)
    features = region_features(scene, regions, to_out)
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


def coco(scene: Scene, boxes: Sequence[LabeledBox], regions: Sequence[Region] = ()) -> dict[str, Any]:
    """COCO results for the one scene image, in scene pixels; categories numbered from 1 in label order. A box:
    ``bbox`` the enclosing [x, y, w, h], ``segmentation`` the box polygon. A mask region: ``segmentation`` its
    exterior polygon (COCO polygons have no holes; ``area`` is the true pixel count, holes out), no ``score`` (the
    mask decoder gives none)."""
    labels = sorted({b.label for b in boxes} | {r.label for r in regions})
    ids = {name: i + 1 for i, name in enumerate(labels)}
    anns = []
    for k, b in enumerate(boxes):
        x, y, w, h = hbb_to_coco(enclosing_hbb(b.box))
        poly = [float(v) for v in box_corners(b.box).reshape(-1)]
        anns.append({"id": k + 1, "image_id": 1, "category_id": ids[b.label], "bbox": [x, y, w, h],
                     "area": w * h, "segmentation": [poly], "score": b.score, "iscrowd": 0})  # fmt: skip
    for r in regions:
        x1, y1, x2, y2 = (float(v) for v in r.polygon.bounds)
        anns.append({"id": len(anns) + 1, "image_id": 1, "category_id": ids[r.label], "bbox": [x1, y1, x2 - x1,
                     y2 - y1], "area": float(r.pixels), "segmentation": [exterior_coords(r.polygon)],
                     "iscrowd": 0})  # fmt: skip
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


def summary(
    scene: Scene, boxes: Sequence[LabeledBox], tiles: dict[str, int], regions: Sequence[Region] | None = None
) -> dict[str, Any]:
    """Counts per class of the merged result, and how many tiles were answered or skipped as nodata; for a mask
    task (``regions`` not None) also the regions' area per class and in total, in pixels and in square metres on
    the ground (:func:`ground_area`; null without a CRS)."""
    counts = Counter(b.label for b in boxes) + Counter(r.label for r in regions or ())
    out = {"scene": str(scene.path), "width": scene.info.width, "height": scene.info.height, "crs": scene.crs,
           "objects": sum(counts.values()), "per_class": dict(sorted(counts.items())), "tiles": tiles}  # fmt: skip
    if regions is not None:
        area = ground_area(scene)
        px: Counter[str] = Counter()
        m2: dict[str, float] = {}
        for r in regions:
            px[r.label] += r.pixels
            m2[r.label] = m2.get(r.label, 0.0) + (area(r.polygon) if area is not None else 0.0)
        out["area_px"] = {"per_class": dict(sorted(px.items())), "total": sum(px.values())}
        out["area_m2"] = None if area is None else {
            "per_class": {k: round(v, 3) for k, v in sorted(m2.items())}, "total": round(sum(m2.values()), 3)}  # fmt: skip
    return out


def write_json(path: Path, obj: Any, indent: int | None = None) -> None:
    """``obj`` as stable, sorted-key JSON (the same run gives the same bytes); compact unless ``indent``."""
    path.write_text(json.dumps(obj, indent=indent, sort_keys=True) + "\n", encoding="utf-8")
