"""Shared pieces of the detection sources: per-object checks with named skips, image refs, deterministic splits."""

from __future__ import annotations

import logging
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from earthgpt.data.masks import MaskError, mask_from_polygons, mask_from_rle
from earthgpt.data.records import ANY_CLASS, DetectionRecord, ImageRef, Record
from earthgpt.data.sources._annotation_formats import (
    AnnotationError,
    CocoImage,
    CocoIndex,
    pairs,
    read_coco,
    read_xml,
    text,
    voc_hbb,
)
from earthgpt.data.sources._shared import hash_split, probe_ref
from earthgpt.data.sources.base import DataRootError, Skip, Source
from earthgpt.geometry import HBB, OBB, Box, BoxKind, LabeledBox, clip_box
from earthgpt.geometry.formats import coco_to_hbb
from earthgpt.geometry.masks import mask_obb, rle_pixels
from earthgpt.geometry.polygons import min_area_obb
from earthgpt.geometry.prompts import RleMask

log = logging.getLogger(__name__)

CROWD = "<crowd or ignore region>"  # the class name given to COCO annotations flagged iscrowd or ignore
T = TypeVar("T")


@dataclass(frozen=True)
class RawObject:
    """One object as read from an annotation file: the class name as written there and its pixel box."""

    label: str
    box: Box
    difficult: bool = False
    """The annotation's own difficult flag (VOC ``<difficult>1</difficult>``, DOTA's last column)."""
    mask: RleMask | None = None
    """The object's pixel mask where the source has one (see ``earthgpt.data.masks``)."""


def loose(name: str) -> str:
    """A class name compared loosely: lower case, '-' and '_' as spaces, single spaces."""
    return " ".join(name.lower().replace("_", " ").replace("-", " ").split())


CLIP_TOLERANCE = 0.05
"""How far a horizontal box may reach past the image edge and still be clipped to it: this share of the image side,
at least ``CLIP_TOLERANCE_PX`` (annotation tools write the last pixel as ``width`` or ``width + 1``). A box reaching
further was written for another image size and is skipped as ``box_beyond_image``."""
CLIP_TOLERANCE_PX = 8.0


def box_problem(box: Box, width: int, height: int) -> tuple[str, str] | None:
    """(skip reason, detail) for a box that cannot be kept, None for a good one."""
    coords = box.as_tuple()
    if not all(math.isfinite(v) for v in coords):
        return "nan_coordinate", f"coordinates {coords}"
    if box.area <= 0.0 or (isinstance(box, HBB) and (box.width <= 0 or box.height <= 0)):
        return "zero_area_box", f"coordinates {coords}"
    xs, ys = coords[0::2], coords[1::2]
    if max(xs) <= 0 or max(ys) <= 0 or min(xs) >= width or min(ys) >= height:
        return "box_outside_image", f"coordinates {coords} in a {width}x{height} image"
    if isinstance(box, HBB):
        over_x, over_y = max(-box.x1, box.x2 - width, 0.0), max(-box.y1, box.y2 - height, 0.0)
        if over_x > max(CLIP_TOLERANCE_PX, CLIP_TOLERANCE * width) or over_y > max(
            CLIP_TOLERANCE_PX, CLIP_TOLERANCE * height
        ):
            return "box_beyond_image", (
                f"coordinates {coords} reach {over_x:g} px (x) / {over_y:g} px (y) past the {width}x{height} image, "
                f"more than the {CLIP_TOLERANCE:.0%} clipped to the edge"
            )
    return None


class DetectionSource(Source):
    """A detection dataset: subclasses read their own files into :class:`RawObject` lists and call ``detections``.

    A horizontal box reaching a little beyond the image is clipped to it, one reaching far beyond
    (:data:`CLIP_TOLERANCE`) is skipped; an oriented box is kept as written (real DIOR-R corners lie outside the
    image at times). A box wholly outside, with no area or with a NaN is skipped.

    ``label_map`` maps every class name as written in the files to its category name; a name outside it is skipped
    as ``unknown_class``. ``ignored`` maps names that mark ignore regions (not objects) to the detail of their
    ``ignored_region`` skip.
    """

    tasks: ClassVar[tuple[str, ...]] = ("detection",)
    sensor: ClassVar[str] = ""
    categories: tuple[str, ...] = ()
    label_map: Mapping[str, str] = {}
    ignored: ClassVar[Mapping[str, str]] = {}
    loose_labels: ClassVar[bool] = False
    for_scoring: bool = False
    """Read as a benchmark does (set by the evaluation loader): an image without objects gives an empty record
    instead of an ``empty_annotation`` skip, and difficult objects and ignore regions go to
    ``DetectionRecord.ignored`` instead of the objects or an ``ignored_region`` skip."""

    def category_of(self, label: str) -> str | None:
        """The category name of a class name as written in the files, None if it is not a known class.

        With ``loose_labels`` the look-up ignores case, '-', '_' and repeated spaces (see :func:`loose`).
        """
        found = self.label_map.get(label)
        if found is None and self.loose_labels:
            table = self.__dict__.setdefault("_loose_table", {loose(k): v for k, v in self.label_map.items()})
            found = table.get(loose(label))
        return found

    def find_image(self, stem: str, folders: Iterable[str], suffixes: Iterable[str]) -> str:
        """The first ``folder/stem+suffix`` (relative to root) that exists; if none does, the first candidate, so
        that the ``missing_image`` skip names where the image was expected."""
        candidates = [
            f"{folder}/{stem}{suffix}" if folder else f"{stem}{suffix}" for folder in folders for suffix in suffixes
        ]
        for rel in candidates:
            if (self.root / rel).is_file():
                return rel
        return candidates[0]

    def image_ref(self, item: str, rel_path: str) -> ImageRef | Skip:
        """The ImageRef of ``rel_path`` (relative to root, see ``probe_ref``), or the Skip that says why not."""
        return probe_ref(self, rel_path, self.sensor, item=item)

    def read_objects(
        self, item: str, entries: Iterable[T], read: Callable[[T], RawObject]
    ) -> tuple[list[RawObject], list[Skip]]:
        """``read`` applied to each entry (an xml <object>, a text line...); an entry it cannot parse (``read``
        raises AnnotationError, ValueError, KeyError, TypeError or IndexError) becomes a ``malformed_annotation``
        skip of that object alone, one with an unusable mask (MaskError) a skip under the mask's reason."""
        objects: list[RawObject] = []
        skips: list[Skip] = []
        for n, entry in enumerate(entries):
            try:
                objects.append(read(entry))
            except MaskError as e:
                skips.append(self.skip(item, e.reason, f"object {n}: {e.detail}"))
            except (AnnotationError, ValueError, KeyError, TypeError, IndexError) as e:
                skips.append(self.skip(item, "malformed_annotation", f"object {n}: {type(e).__name__}: {e}"))
        return objects, skips

    def load_text(
        self, item: str, path: Path, image_rel: str, parse_line: Callable[[str], RawObject]
    ) -> Iterator[Record | Skip]:
        """The standard flow for a one-object-per-line text annotation: missing file, unreadable file, bad lines
        (``parse_line`` raises AnnotationError), image, then the record. Blank lines are ignored."""
        if not path.is_file():
            yield self.skip(item, "missing_annotation", f"{path} does not exist")
            return
        try:
            lines = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
        except (OSError, UnicodeDecodeError) as e:
            yield self.skip(item, "malformed_annotation", f"{path}: not readable as text ({e})")
            return
        image = self.image_ref(item, image_rel)
        if isinstance(image, Skip):
            yield image
            return
        objects, skips = self.read_objects(item, [line for line in lines if line], parse_line)
        yield from self.detections(item, image, objects, skips)

    def load_xml(
        self,
        item: str,
        path: Path,
        image_rel: Callable[[ET.Element], str],
        read_object: Callable[[ET.Element], RawObject],
        object_path: str = "object",
    ) -> Iterator[Record | Skip]:
        """The standard flow for one xml file per image: missing or malformed file, objects that do not parse
        (``read_object`` raises AnnotationError), the image (``image_rel`` of the xml root), then the record."""
        if not path.is_file():
            yield self.skip(item, "missing_annotation", f"{path} does not exist")
            return
        try:
            root = read_xml(path)
        except AnnotationError as e:
            yield self.skip(item, "malformed_annotation", str(e))
            return
        image = self.image_ref(item, image_rel(root))
        if isinstance(image, Skip):
            yield image
            return
        objects, skips = self.read_objects(item, root.findall(object_path), read_object)
        yield from self.detections(item, image, objects, skips)

    def checked_objects(
        self, item: str, objects: Iterable[RawObject], width: int, height: int
    ) -> Iterator[LabeledBox | Skip]:
        """Each object as a LabeledBox in category names, or a Skip naming what is wrong with it."""
        for obj in objects:
            label = obj.label.strip()
            if label in self.ignored:
                yield self.skip(item, "ignored_region", f"{label!r}: {self.ignored[label]}")
                continue
            category = self.category_of(label)
            if category is None:
                yield self.skip(item, "unknown_class", f"{label!r} is not one of {sorted(self.label_map)}")
                continue
            box = self.checked_box(item, label, obj.box, width, height)
            yield box if isinstance(box, Skip) else LabeledBox(label=category, box=box)

    def checked_box(self, item: str, label: str, box: Box, width: int, height: int) -> Box | Skip:
        """The box as kept (an HBB clipped to the image), or the Skip saying why it cannot be kept."""
        problem = box_problem(box, width, height)
        if problem is not None:
            return self.skip(item, problem[0], f"{label}: {problem[1]}")
        return clip_box(box, width, height) if isinstance(box, HBB) else box

    def detections(
        self, item: str, image: ImageRef | Skip, objects: Iterable[RawObject], skips: Iterable[Skip] = ()
    ) -> Iterator[Record | Skip]:
        """The image's skip if it is unusable; else ``skips`` (objects that did not parse), skips for bad objects,
        then one DetectionRecord (or an ``empty_annotation`` skip if no object is left and not ``for_scoring``)."""
        if isinstance(image, Skip):
            yield image
            return
        yield from skips
        kept: list[LabeledBox] = []
        masks: list[RleMask | None] = []
        ignored: list[LabeledBox] = []
        for obj in objects:
            if self.for_scoring and obj.label.strip() in self.ignored:  # an ignore region: of any class
                box = self.checked_box(item, obj.label.strip(), obj.box, image.width, image.height)
                outs: list[LabeledBox | Skip] = [box if isinstance(box, Skip) else LabeledBox(ANY_CLASS, box)]
            else:
                outs = list(self.checked_objects(item, [obj], image.width, image.height))
            for out in outs:
                if isinstance(out, Skip):
                    yield out
                elif self.for_scoring and (obj.difficult or out.label == ANY_CLASS):
                    ignored.append(out)
                else:
                    kept.append(out)
                    masks.append(obj.mask)
        if not kept and not self.for_scoring:
            yield self.skip(item, "empty_annotation", "no usable object in this image")
            return
        yield DetectionRecord(
            id=item,
            source=self.name,
            split=self.split,
            image=image,
            objects=tuple(kept),
            categories=self.categories,
            ignored=tuple(ignored),
            masks=tuple(masks) if any(m is not None for m in masks) else (),
        )


def check_kind(source: str, kind: str) -> BoxKind:
    """``kind`` if it is 'hbb' or 'obb'; ValueError naming the source and the option otherwise."""
    if kind not in ("hbb", "obb"):
        raise ValueError(f"{source}: option kind must be 'hbb' or 'obb', got {kind!r}")
    return kind  # type: ignore[return-value]


class VocSource(DetectionSource):
    """A dataset laid out like PASCAL VOC: one xml per image, objects as <object><name> plus a box element.

    Subclasses say where things are: ``annotation_dirs`` (box kind -> folder of xml files), ``image_dirs`` and
    ``image_suffixes`` (searched in order for ``<stem><suffix>``), and ``split_files`` (split -> list files of
    image ids). Without a list, a split is every xml of its folder (``split_by_folder``; folder names may hold
    ``{split}``) or else a :func:`hash_split` of the xml stems with ``test_fraction``.
    ``read_obb`` reads the oriented box of an <object> for datasets that have one.
    """

    annotation_dirs: ClassVar[Mapping[str, str]] = {"hbb": "Annotations"}
    image_dirs: ClassVar[tuple[str, ...]] = ("JPEGImages",)
    image_suffixes: ClassVar[tuple[str, ...]] = (".jpg",)
    split_files: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    test_fraction: ClassVar[float] = 0.2
    split_by_folder: ClassVar[bool] = False

    def __init__(self, root: str | Path, split: str = "train", kind: BoxKind = "hbb") -> None:
        super().__init__(root, split)
        self.kind = check_kind(self.name, kind)
        if kind not in self.annotation_dirs:
            raise ValueError(
                f"{self.name}: this dataset has no {kind} boxes; use kind={next(iter(self.annotation_dirs))!r}"
            )
        folder = self.annotation_dirs[kind].format(split=split)
        self.annotation_dir = self.root / folder
        if not self.annotation_dir.is_dir():
            raise DataRootError(
                f"{self.name}: annotation folder {self.annotation_dir} not found; pass the dataset's own folder, "
                f"the one that holds {folder!r}"
            )

    def items(self) -> list[str]:
        lists = self.split_files.get(self.split)
        if lists:
            ids: set[str] = set()
            for rel in lists:
                path = self.root / rel
                if not path.is_file():
                    raise DataRootError(f"{self.name}: split list {path} not found; the {self.split!r} split needs it")
                # splitlines() also ends lines at CR, so CRLF lists need no special care
                ids.update(line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip())
            return sorted(ids)
        stems = sorted(p.stem for p in self.annotation_dir.glob("*.xml"))
        if self.split_by_folder:
            return stems
        return [s for s in stems if hash_split(s, self.test_fraction) == self.split]

    def load(self, item: str) -> Iterator[Record | Skip]:
        xml_path = self.annotation_dir / f"{item}.xml"
        yield from self.load_xml(item, xml_path, lambda root: self.image_path(item, root), self.read_object)

    def image_path(self, item: str, root: ET.Element) -> str:
        """The image of ``item`` relative to the dataset root (by default found by its stem)."""
        folders = [folder.format(split=self.split, kind=self.kind) for folder in self.image_dirs]
        return self.find_image(item, folders, self.image_suffixes)

    def read_object(self, obj: ET.Element) -> RawObject:
        box = voc_hbb(obj) if self.kind == "hbb" else self.read_obb(obj)
        return RawObject(text(obj, "name"), box, text(obj, "difficult", "0") not in ("0", "false", "False"))

    def read_obb(self, obj: ET.Element) -> OBB:
        raise AnnotationError(f"{self.name}: no oriented box reader")


class CocoSource(DetectionSource):
    """A dataset whose boxes sit in one COCO json; an item is an image ``file_name`` of that json.

    If the json itself cannot be read, ``items()`` lists the json's own path as the only item and ``load`` of it
    yields one ``malformed_annotation`` skip, so a broken file is reported rather than raised. One unusable entry
    (an image, category or annotation lacking a key; annotations of an image the json does not list) is an item
    of its own that loads as one skip naming it (see :class:`CocoIndex`); the rest is read.
    """

    ignored: ClassVar[Mapping[str, str]] = {CROWD: "a region flagged iscrowd or ignore, not a single object"}
    reads_masks: ClassVar[bool] = False
    """Read each annotation's ``segmentation`` (polygons or RLE) into ``RawObject.mask`` (checked, see
    ``earthgpt.data.masks``; a bad one skips its object under the mask's reason)."""

    def __init__(self, root: str | Path, split: str, annotation_file: str, image_dir: str, kind: BoxKind) -> None:
        super().__init__(root, split)
        self.kind = check_kind(self.name, kind)
        self.annotation_file = annotation_file
        self.image_dir = image_dir
        path = self.root / annotation_file
        if not path.is_file():
            raise DataRootError(f"{self.name}: annotation file {path} not found; pass the folder that holds it")
        self._index: CocoIndex | None = None
        self._error = ""
        try:
            self._index = read_coco(path)
        except AnnotationError as e:
            self._error = str(e)
            log.warning("%s: %s; every image of it is skipped", self.name, e)

    def items(self) -> list[str]:
        if self._index is None:
            return [self.annotation_file]
        return sorted([*self._index.images, *self._index.bad])

    def load(self, item: str) -> Iterator[Record | Skip]:
        if self._index is None:
            yield self.skip(item, "malformed_annotation", self._error)
            return
        if item in self._index.bad:
            yield self.skip(item, *self._index.bad[item])
            return
        entry = self._index.images.get(item)
        if entry is None:
            yield self.skip(item, "missing_annotation", f"{item} is not an image of {self.annotation_file}")
            return
        image = self.image_ref(item, self.image_path(entry))
        if isinstance(image, Skip):
            yield image
            return
        anns = self._index.annotations.get(entry.id, [])
        objects, skips = self.read_objects(item, anns, lambda ann: self.read_annotation(ann, entry))
        yield from self.detections(item, image, objects, skips)

    def image_path(self, entry: CocoImage) -> str:
        return f"{self.image_dir}/{entry.file_name}" if self.image_dir else entry.file_name

    def label_of(self, ann: dict[str, Any]) -> str:
        """The class name of an annotation: its category's name; crowd / ignore regions get a marker name."""
        if ann.get("iscrowd") or ann.get("ignore"):
            return CROWD
        names = self._index.categories if self._index is not None else {}
        return names.get(ann.get("category_id"), f"category_id={ann.get('category_id')}")

    def read_annotation(self, ann: dict[str, Any], image: CocoImage) -> RawObject:
        """One annotation as a RawObject: ``bbox`` [x, y, w, h] for HBB, the polygon's minimum-area rectangle
        for OBB."""
        try:
            hbb = coco_to_hbb([float(v) for v in ann["bbox"]])
        except (KeyError, TypeError, ValueError) as e:
            raise AnnotationError(f"annotation {ann.get('id')}: no usable bbox ({e})") from e
        box: Box = hbb if self.kind == "hbb" else self.annotation_obb(ann, image)
        label = self.label_of(ann)
        mask = self.annotation_mask(ann, image) if self.reads_masks and label != CROWD else None
        return RawObject(label, box, mask=mask)

    def annotation_mask(self, ann: dict[str, Any], image: CocoImage) -> RleMask:
        """The annotation's mask: its polygons rasterised (COCO's rule) or its RLE, checked against the image."""
        seg = ann.get("segmentation")
        name = f"annotation {ann.get('id')}"
        if isinstance(seg, list) and seg and all(isinstance(p, list) for p in seg):
            return mask_from_polygons(seg, image.height, image.width, name)
        if isinstance(seg, dict):
            return mask_from_rle(seg, image.height, image.width, name)
        raise MaskError("malformed_mask", f"{name}: segmentation is neither polygons nor an RLE")

    def annotation_obb(self, ann: dict[str, Any], image: CocoImage) -> OBB:
        """The minimum-area rectangle around the annotation's polygon(s) or RLE mask."""
        seg = ann.get("segmentation")
        if isinstance(seg, list) and seg and isinstance(seg[0], list):
            points = [p for poly in seg for p in pairs(poly)]
            return min_area_obb(points)
        if isinstance(seg, dict):
            return mask_obb(*rle_pixels(seg, image.height, image.width))
        raise AnnotationError(f"annotation {ann.get('id')}: no polygon or mask for an oriented box")
