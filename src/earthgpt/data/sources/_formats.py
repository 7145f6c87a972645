"""Readers of the annotation formats shared by several detection datasets: VOC-style xml, roLabelImg, polygons."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon

from earthgpt.geometry import HBB, OBB
from earthgpt.geometry.formats import rotated_to_obb
from earthgpt.geometry.order import min_area_rect, obb_from_rotated, obb_to_hbb


class AnnotationError(ValueError):
    """An annotation file (or one object in it) that cannot be parsed or lacks a required field."""


def read_xml(path: Path) -> ET.Element:
    """The root element of an xml file; raises :class:`AnnotationError` naming the file if it does not parse."""
    try:
        return ET.parse(path).getroot()
    except (ET.ParseError, UnicodeDecodeError) as e:
        raise AnnotationError(f"{path}: not well-formed xml ({e})") from e


def text(element: ET.Element, tag: str, default: str | None = None) -> str:
    """The stripped text of the child ``tag`` (a path like 'size/width' works); AnnotationError if absent."""
    child = element.find(tag)
    if child is None or child.text is None or not child.text.strip():
        if default is not None:
            return default
        raise AnnotationError(f"<{element.tag}> has no <{tag}>")
    return child.text.strip()


def number(element: ET.Element, tag: str) -> float:
    """The child ``tag`` as a float (NaN and inf pass through, to be skipped as ``nan_coordinate``)."""
    raw = text(element, tag)
    try:
        return float(raw)
    except ValueError as e:
        raise AnnotationError(f"<{tag}> is {raw!r}, not a number") from e


def voc_size(root: ET.Element) -> tuple[int, int]:
    """(width, height) from <size>; AnnotationError if missing."""
    return int(number(root, "size/width")), int(number(root, "size/height"))


def voc_hbb(obj: ET.Element, tag: str = "bndbox") -> HBB:
    """The <bndbox> xmin/ymin/xmax/ymax of an <object>, taken as pixel-edge coordinates as written."""
    box = obj.find(tag)
    if box is None:
        raise AnnotationError(f"<object> has no <{tag}>")
    return HBB(number(box, "xmin"), number(box, "ymin"), number(box, "xmax"), number(box, "ymax"))


def robndbox_obb(obj: ET.Element) -> OBB:
    """The roLabelImg <robndbox> (cx, cy, w, h, angle in radians) of an <object> as four corners.

    roLabelImg turns the w x h rectangle by ``angle`` clockwise on screen (its reader maps each corner with
    ``rotatePoint(cx, cy, cx -+ w/2, cy -+ h/2, -angle)``); ``rotated_to_obb`` uses the same convention and
    returns the corners in the paper's order.
    """
    rb = obj.find("robndbox")
    if rb is None:
        raise AnnotationError("<object> has no <robndbox>")
    return rotated_to_obb(number(rb, "cx"), number(rb, "cy"), number(rb, "w"), number(rb, "h"), number(rb, "angle"))


def polygon_obb(values: Sequence[float]) -> OBB:
    """Four corners from eight numbers (x1, y1, ..., x4, y4); AnnotationError otherwise."""
    if len(values) != 8:
        raise AnnotationError(f"an oriented box needs 8 coordinates, got {len(values)}")
    return OBB(tuple(float(v) for v in values))  # type: ignore[arg-type]


def parse_floats(parts: Sequence[str], what: str) -> list[float]:
    """Numbers from text fields; AnnotationError naming ``what`` if one is not a number."""
    try:
        return [float(p) for p in parts]
    except ValueError as e:
        raise AnnotationError(f"{what}: {e}") from e


def corner_obb(element: ET.Element, tags: Sequence[str]) -> OBB:
    """Four corners from eight child tags of ``element`` (x1, y1, ..., x4, y4 in that order), as written."""
    return OBB(tuple(number(element, tag) for tag in tags))  # type: ignore[arg-type]


DIOR_CORNER_TAGS = (
    "x_left_top",
    "y_left_top",
    "x_right_top",
    "y_right_top",
    "x_right_bottom",
    "y_right_bottom",
    "x_left_bottom",
    "y_left_bottom",
)


def dior_obb(obj: ET.Element) -> OBB:
    """The DIOR-R / MAR20 <robndbox> of an <object>: four named corners (left-top, right-top, right-bottom,
    left-bottom); the sibling <angle> (degrees) is implied by them and not needed."""
    rb = obj.find("robndbox")
    if rb is None:
        raise AnnotationError("<object> has no <robndbox>")
    return corner_obb(rb, DIOR_CORNER_TAGS)


def enclosing_hbb(box: HBB | OBB) -> HBB:
    """The horizontal box enclosing any box."""
    return box if isinstance(box, HBB) else obb_to_hbb(box)


def min_area_obb(points: Sequence[tuple[float, float]] | np.ndarray) -> OBB:
    """The minimum-area rectangle around a point set (polygon vertices, mask pixel corners), in the paper's
    corner order; AnnotationError for points that span no area."""
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)  # [N, 2]
    if not np.isfinite(xy).all():
        raise AnnotationError("a point is NaN or infinite")
    hull = shapely.convex_hull(shapely.multipoints(xy))
    if not isinstance(hull, Polygon):
        raise AnnotationError(f"{len(xy)} points span no area, so they have no enclosing rectangle")
    cx, cy, w, h, angle = min_area_rect(list(hull.exterior.coords)[:-1])
    return obb_from_rotated(cx, cy, w, h, angle)


def pairs(values: Sequence[float]) -> list[tuple[float, float]]:
    """[x1, y1, x2, y2, ...] -> [(x1, y1), (x2, y2), ...]; AnnotationError for an odd count."""
    if len(values) % 2:
        raise AnnotationError(f"a point list needs an even count of numbers, got {len(values)}")
    return [(float(values[i]), float(values[i + 1])) for i in range(0, len(values), 2)]


def mask_hbb(rows: np.ndarray, cols: np.ndarray) -> HBB:
    """The box enclosing mask pixels given by their rows and columns; pixel (r, c) covers [c, c+1] x [r, r+1]."""
    if rows.size == 0:
        raise AnnotationError("the mask is empty")
    return HBB(float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1))


def mask_obb(rows: np.ndarray, cols: np.ndarray) -> OBB:
    """The minimum-area rectangle around mask pixels (all four corners of each pixel), paper corner order."""
    if rows.size == 0:
        raise AnnotationError("the mask is empty")
    corners = np.concatenate([np.stack([cols + dx, rows + dy], axis=1) for dx in (0, 1) for dy in (0, 1)])  # [4N, 2]
    return min_area_obb(np.unique(corners, axis=0))


def rle_pixels(segmentation: Any, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the pixels set in a COCO RLE.

    An uncompressed RLE (``counts`` a list of run lengths, alternating off/on, column-major over an H x W
    image) is expanded run by run without building the whole mask; a compressed RLE (``counts`` a string) is
    decoded with pycocotools. AnnotationError if it is not an RLE or does not fit ``size``.
    """
    if not isinstance(segmentation, dict) or "counts" not in segmentation:
        raise AnnotationError(f"segmentation is not an RLE dict: {str(segmentation)[:80]}")
    counts = segmentation["counts"]
    if isinstance(counts, list):
        runs = np.asarray(counts, dtype=np.int64)
        if runs.size and (runs.min() < 0 or runs.sum() != height * width):
            raise AnnotationError(f"RLE counts sum to {int(runs.sum())}, not {height}x{width}")
        ends = np.cumsum(runs)
        starts = ends - runs
        on = [np.arange(a, b) for a, b in zip(starts[1::2], ends[1::2], strict=True)]
        index = np.concatenate(on) if on else np.zeros(0, dtype=np.int64)
        return index % height, index // height
    mask = rle_mask(segmentation, height, width)
    rows, cols = np.nonzero(mask)
    return rows, cols


def rle_mask(segmentation: Any, height: int, width: int) -> np.ndarray:
    """A COCO RLE (compressed, or uncompressed with a ``counts`` list) decoded to a uint8 mask [H, W] by
    pycocotools."""
    from pycocotools import mask as mask_utils

    if not isinstance(segmentation, dict) or "counts" not in segmentation:
        raise AnnotationError(f"segmentation is not an RLE dict: {str(segmentation)[:80]}")
    try:
        rle = segmentation
        if isinstance(segmentation["counts"], list):
            rle = mask_utils.frPyObjects(segmentation, height, width)
        return np.asarray(mask_utils.decode(rle), dtype=np.uint8)
    except (TypeError, ValueError) as e:
        raise AnnotationError(f"cannot decode the RLE mask: {e}") from e


@dataclass(frozen=True)
class CocoImage:
    """One entry of a COCO ``images`` list."""

    id: Any
    file_name: str
    width: int
    height: int


@dataclass(frozen=True)
class CocoIndex:
    """A COCO json indexed for per-image reading: images by file name, annotations by image id, class names."""

    images: dict[str, CocoImage]
    annotations: dict[Any, list[dict[str, Any]]]
    categories: dict[Any, str]


def read_coco(path: Path) -> CocoIndex:
    """Index a COCO detection json; AnnotationError naming the file if it does not parse or lacks a key."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        images = {
            str(im["file_name"]): CocoImage(im["id"], str(im["file_name"]), int(im["width"]), int(im["height"]))
            for im in data["images"]
        }
        categories = {c["id"]: str(c["name"]) for c in data.get("categories", [])}
        annotations: dict[Any, list[dict[str, Any]]] = {}
        for ann in data.get("annotations", []):
            annotations.setdefault(ann["image_id"], []).append(ann)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AnnotationError(f"{path}: not readable json ({e})") from e
    except (KeyError, TypeError, ValueError) as e:
        raise AnnotationError(f"{path}: not a COCO detection file ({type(e).__name__}: {e})") from e
    return CocoIndex(images, annotations, categories)


@dataclass(frozen=True)
class DotaObject:
    """One line of a DOTA labelTxt file: the polygon as written, the class name and the difficult flag."""

    box: OBB
    label: str
    difficult: bool


def read_dota(path: Path) -> tuple[dict[str, str], list[str]]:
    """A DOTA labelTxt file -> (header fields such as 'imagesource' and 'gsd', object lines).

    Header lines are ``key:value`` lines before the objects (DOTA v1.0 has 'imagesource:' and 'gsd:'; some
    releases have none). Raises AnnotationError if the file cannot be read as text.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise AnnotationError(f"{path}: not readable as text ({e})") from e
    header: dict[str, str] = {}
    objects: list[str] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if not objects and ":" in line and len(line.split()) == 1:
            key, _, value = line.partition(":")
            header[key.strip()] = value.strip()
        else:
            objects.append(line)
    return header, objects


def dota_object(line: str) -> DotaObject:
    """``x1 y1 x2 y2 x3 y3 x4 y4 class [difficult]`` -> DotaObject; AnnotationError if it does not fit."""
    parts = line.split()
    if len(parts) < 9:
        raise AnnotationError(f"expected 8 coordinates, a class and a difficult flag, got {line!r}")
    coords = parse_floats(parts[:8], f"line {line!r}")
    difficult = len(parts) > 9 and parts[9] not in ("0", "")
    return DotaObject(OBB(tuple(coords)), parts[8], difficult)  # type: ignore[arg-type]


def point_object(obj: ET.Element) -> tuple[str, OBB]:
    """A Gaofen-challenge style <object> (FAIR1M, AIR-SARShip): <possibleresult><name> and <points> of
    <point>x,y</point>.

    The points form a closed ring (FAIR1M repeats the first point at the end); four distinct corners are kept as
    written, any other point count becomes the minimum-area rectangle around the points.
    """
    label = text(obj, "possibleresult/name")
    points: list[tuple[float, float]] = []
    for point in obj.findall("points/point"):
        raw = (point.text or "").replace(" ", "")
        parts = raw.split(",")
        if len(parts) != 2:
            raise AnnotationError(f"<point> is {point.text!r}, expected 'x,y'")
        x, y = parse_floats(parts, "<point>")
        points.append((x, y))
    if len(points) == 5 and (points[4] == points[0] or not np.isfinite([*points[0], *points[4]]).all()):
        points = points[:4]  # the closing point (a NaN corner is left for the box check to name)
    if len(points) == 4:
        return label, OBB(tuple(v for p in points for v in p))  # type: ignore[arg-type]
    if len(points) < 3:
        raise AnnotationError(f"<points> holds {len(points)} points, an oriented box needs 4")
    return label, min_area_obb(points)
