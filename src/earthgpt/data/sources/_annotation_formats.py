"""Readers of the annotation formats shared by several datasets: VOC-style xml, roLabelImg, COCO json, DOTA txt,
and the numbers in them (ASCII decimals only)."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from earthgpt.geometry import HBB, OBB
from earthgpt.geometry.order import obb_from_rotated
from earthgpt.geometry.polygons import min_area_obb


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


_NUMBER = re.compile(r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?|nan|inf|infinity)", re.ASCII | re.IGNORECASE)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)


def read_number(raw: str, what: str) -> float:
    """A decimal number written in ASCII (``12``, ``-3.5``, ``1e3``; ``nan`` and ``inf`` pass through, to be
    skipped as ``nan_coordinate``); AnnotationError naming ``what`` otherwise.

    ``float()`` alone would also read Arabic-Indic or full-width digits and ``1_000``: annotation files of these
    datasets are ASCII, so such a field is a damaged or foreign file, reported rather than guessed at.
    """
    value = raw.strip()
    if not _NUMBER.fullmatch(value):
        hint = " (digits must be ASCII 0-9)" if not value.isascii() else ""
        raise AnnotationError(f"{what} is {raw!r}, not a number{hint}")
    return float(value)


def read_int(raw: Any, what: str) -> int:
    """An integer from json (an int, an integral float, or ASCII digits in a string); AnnotationError otherwise."""
    if isinstance(raw, bool):
        raise AnnotationError(f"{what} is {raw!r}, not an integer")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and _INTEGER.fullmatch(raw.strip()):
        return int(raw.strip())
    raise AnnotationError(f"{what} is {raw!r}, not an integer (digits must be ASCII 0-9)")


def number(element: ET.Element, tag: str) -> float:
    """The child ``tag`` as a float (see :func:`read_number`)."""
    return read_number(text(element, tag), f"<{tag}>")


def voc_size(root: ET.Element) -> tuple[int, int]:
    """(width, height) from <size>; AnnotationError if missing or not a finite number."""
    width, height = number(root, "size/width"), number(root, "size/height")
    if not (math.isfinite(width) and math.isfinite(height)):
        raise AnnotationError(f"<size> is {width} x {height}, not a pixel size")
    return int(width), int(height)


def voc_hbb(obj: ET.Element, tag: str = "bndbox") -> HBB:
    """The <bndbox> xmin/ymin/xmax/ymax of an <object>, taken as pixel-edge coordinates as written."""
    box = obj.find(tag)
    if box is None:
        raise AnnotationError(f"<object> has no <{tag}>")
    return HBB(number(box, "xmin"), number(box, "ymin"), number(box, "xmax"), number(box, "ymax"))


def robndbox_obb(obj: ET.Element) -> OBB:
    """The roLabelImg <robndbox> (cx, cy, w, h, angle in radians) of an <object> as four corners.

    roLabelImg turns the w x h rectangle by ``angle`` clockwise on screen (its reader maps each corner with
    ``rotatePoint(cx, cy, cx -+ w/2, cy -+ h/2, -angle)``); ``obb_from_rotated`` uses the same convention and
    returns the corners in the paper's order.
    """
    rb = obj.find("robndbox")
    if rb is None:
        raise AnnotationError("<object> has no <robndbox>")
    return obb_from_rotated(number(rb, "cx"), number(rb, "cy"), number(rb, "w"), number(rb, "h"), number(rb, "angle"))


def polygon_obb(values: Sequence[float]) -> OBB:
    """Four corners from eight numbers (x1, y1, ..., x4, y4); AnnotationError otherwise."""
    if len(values) != 8:
        raise AnnotationError(f"an oriented box needs 8 coordinates, got {len(values)}")
    return OBB(tuple(float(v) for v in values))  # type: ignore[arg-type]


def parse_floats(parts: Sequence[str], what: str) -> list[float]:
    """Numbers from text fields (see :func:`read_number`); AnnotationError naming ``what`` if one is not."""
    return [read_number(p, what) for p in parts]


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


def pairs(values: Sequence[float]) -> list[tuple[float, float]]:
    """[x1, y1, x2, y2, ...] -> [(x1, y1), (x2, y2), ...]; AnnotationError for an odd count."""
    if len(values) % 2:
        raise AnnotationError(f"a point list needs an even count of numbers, got {len(values)}")
    return [(float(values[i]), float(values[i + 1])) for i in range(0, len(values), 2)]


@dataclass(frozen=True)
class CocoImage:
    """One entry of a COCO ``images`` list."""

    id: Any
    file_name: str
    width: int
    height: int


@dataclass(frozen=True)
class CocoIndex:
    """A COCO json indexed for per-image reading: images by file name, annotations by image id, class names, and
    the entries that could not be used (item -> (skip reason, detail)): ``images[3]`` lacking a key,
    ``categories[1]`` without a name, ``annotations[17]`` without an image id, and ``image_id=42`` for the
    annotations whose image the file does not list (orphans, one item per missing image id)."""

    images: dict[str, CocoImage]
    annotations: dict[Any, list[dict[str, Any]]]
    categories: dict[Any, str]
    bad: dict[str, tuple[str, str]]


def read_coco(path: Path) -> CocoIndex:
    """Index a COCO detection json. A file that does not parse, or has no ``images`` list, raises
    AnnotationError naming it; one bad entry is set aside in ``bad`` and the rest is kept."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AnnotationError(f"{path}: not readable json ({e})") from e
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise AnnotationError(f"{path}: not a COCO detection file (no 'images' list at the top level)")
    bad: dict[str, tuple[str, str]] = {}
    images = _coco_images(data["images"], path.name, bad)
    categories: dict[Any, str] = {}
    for n, cat in enumerate(_json_list(data, "categories")):
        if isinstance(cat, dict) and _hashable(cat.get("id")) and isinstance(cat.get("name"), str):
            categories[cat["id"]] = cat["name"]
        else:
            bad[f"categories[{n}]"] = ("malformed_annotation", f"categories[{n}] of {path.name} lacks id or name")
    # an annotation of a listed image whose entry is unusable goes with that image's skip, not as an orphan
    known = {im.get("id") for im in data["images"] if isinstance(im, dict) and _hashable(im.get("id"))}
    annotations: dict[Any, list[dict[str, Any]]] = {}
    orphans: dict[Any, list[Any]] = {}
    for n, ann in enumerate(_json_list(data, "annotations")):
        if not isinstance(ann, dict) or not _hashable(ann.get("image_id")):
            bad[f"annotations[{n}]"] = ("malformed_annotation", f"annotations[{n}] of {path.name} has no image_id")
        elif ann["image_id"] in known:
            annotations.setdefault(ann["image_id"], []).append(ann)
        else:
            orphans.setdefault(ann["image_id"], []).append(ann.get("id", f"annotations[{n}]"))
    for image_id, ids in orphans.items():
        shown = ", ".join(str(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
        detail = f"{len(ids)} annotations (ids {shown}) refer to image id {image_id!r}, which {path.name} does not list"
        bad[f"image_id={image_id}"] = ("orphan_annotation", detail)
    return CocoIndex(images, annotations, categories, bad)


def _json_list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    return value if isinstance(value, list) else []


def _hashable(value: Any) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _coco_images(entries: list[Any], name: str, bad: dict[str, tuple[str, str]]) -> dict[str, CocoImage]:
    """The usable ``images`` entries by file name; the others go to ``bad`` named by index (and id)."""
    images: dict[str, CocoImage] = {}
    for n, im in enumerate(entries):
        try:
            if not isinstance(im, dict) or not _hashable(im.get("id")) or not isinstance(im.get("file_name"), str):
                raise AnnotationError("lacks id or file_name")
            entry = CocoImage(
                im["id"], im["file_name"], read_int(im.get("width"), "width"), read_int(im.get("height"), "height")
            )
            if entry.file_name in images:
                raise AnnotationError(
                    f"repeats file_name {entry.file_name!r} of image id {images[entry.file_name].id!r}"
                )
        except AnnotationError as e:
            ident = f" (id {im.get('id')!r})" if isinstance(im, dict) and "id" in im else ""
            bad[f"images[{n}]"] = ("malformed_annotation", f"images[{n}]{ident} of {name}: {e}")
            continue
        images[entry.file_name] = entry
    return images


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
