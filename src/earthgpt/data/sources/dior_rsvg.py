"""DIOR-RSVG: visual grounding on DIOR images, read from its VOC-like xml with a <description> per object."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from earthgpt.data.records import GroundingRecord, ImageRef, Record, RegionCaptionRecord
from earthgpt.data.sources._annotation_formats import read_number
from earthgpt.data.sources._dior import DIOR_LABELS
from earthgpt.data.sources._shared import ImageFinder, probe_ref
from earthgpt.data.sources.base import DataRootError, Skip, Source, register
from earthgpt.geometry import HBB

CLASS_NAMES: dict[str, str] = {name.lower(): label for name, label in DIOR_LABELS.items()}  # xml name, any case
SplitRelease = Literal["current", "early"]
_SPLIT_DIRS = {"current": "DIOR_RSVG", "early": "RSVGD"}


def count_objects(path: Path) -> int:
    """Number of <object> elements in one xml, by parsing, or by counting tags if the file does not parse."""
    try:
        return len(ET.parse(path).getroot().findall("object"))
    except (ET.ParseError, OSError):
        try:
            return len(re.findall(r"<object\b", path.read_text(encoding="utf-8", errors="replace")))
        except OSError:
            return 0


@register
class DIORRSVG(Source):
    """DIOR-RSVG, remote sensing visual grounding (referring expression -> one box).

    * Modality: optical RGB (DIOR images from Google Earth), 800x800 px, 0.5 m to 30 m per pixel.
    * Tasks: grounding (one GroundingRecord per expression) AND region captioning (one RegionCaptionRecord per
      expression, the same box described by the same sentence).
    * Size: 17,402 images, 38,320 expressions in 20 DIOR classes.
    * On-disk format: ``Annotations/<nnnnn>.xml``, VOC-like: ``<filename>``, ``<size>``, and per expression an
      ``<object>`` with ``<name>`` (DIOR class, e.g. ``golffield``), ``<bndbox>`` (xmin, ymin, xmax, ymax in
      pixels, used as is, as the authors' loader does) and ``<description>`` (the referring expression);
      images in ``JPEGImages/``. The Annotations/JPEGImages pair may sit in ``root`` or one folder below.
    * Splits: ``DIOR_RSVG/{train,val,test}.txt`` (option ``split_release="current"``, 26,991 / 3,829 / 7,500
      lines) or the early ``RSVGD/{train,val,test}.txt`` (``"early"``); "all" takes every expression. Each line
      is an integer: the position of an expression when the objects of ALL xml files are counted in file-name
      order (the authors' loader walks the folder, which lists in name order on their system). An xml that does
      not parse still counts its ``<object`` tags so that later indices stay right.
    * Classes (20): airplane, airport, baseball field, basketball court, bridge, chimney, dam, expressway
      service area, expressway toll station, golf field, ground track field, harbor, overpass, ship, stadium,
      storage tank, tennis court, train station, vehicle, windmill.
    * Citation: Y. Zhan, Z. Xiong, Y. Yuan, "RSVG: Exploring Data and Models for Visual Grounding on Remote
      Sensing Data", IEEE TGRS 61, 2023.
    * Format relied on: the real sample (00001.xml + split files) and the authors' ``data_loader.py``.
    """

    name = "dior_rsvg"
    tasks = ("grounding", "region_caption")
    splits = ("train", "val", "test", "all")
    categories = tuple(CLASS_NAMES.values())

    def __init__(self, root: str | Path, split: str = "train", split_release: SplitRelease = "current") -> None:
        super().__init__(root, split)
        if split_release not in _SPLIT_DIRS:
            raise ValueError(f"dior_rsvg: option split_release={split_release!r}; expected 'current' or 'early'")
        dirs = [self.root, *sorted(p for p in self.root.iterdir() if p.is_dir())]
        ann = [d / "Annotations" for d in dirs if (d / "Annotations").is_dir()]
        if not ann:
            raise DataRootError(f"dior_rsvg: no Annotations/ folder in {self.root} or one level below it")
        self.ann_dir = ann[0]
        self.split_release = split_release
        self.wanted = self._read_split(split) if split != "all" else None
        self._split_map = self._all_splits() if split == "all" else {}
        self._offsets: dict[str, tuple[int, int]] | None = None
        self._finder = ImageFinder(self.root)

    def _all_splits(self) -> dict[int, str]:
        """Expression index -> its official split, from whichever split files exist (for split "all")."""
        found: dict[int, str] = {}
        for name in ("train", "val", "test"):
            try:
                found.update(dict.fromkeys(self._read_split(name), name))
            except DataRootError:
                continue
        return found

    def _read_split(self, split: str) -> set[int]:
        name = f"{split}.txt"
        candidates = [self.root / _SPLIT_DIRS[self.split_release] / name, self.ann_dir.parent / name]
        for c in candidates:
            if c.is_file():
                return {int(t) for t in c.read_text().split() if t.isascii() and t.isdigit()}
        raise DataRootError(
            f"dior_rsvg: split file {candidates[0]} not found; pass the folder holding DIOR_RSVG/{name} "
            "or use split='all'"
        )

    def _xml_offsets(self) -> dict[str, tuple[int, int]]:
        """xml path relative to root -> (global index of its first expression, number of expressions)."""
        if self._offsets is None:
            offsets, count = {}, 0
            for p in sorted(self.ann_dir.glob("*.xml")):
                n = count_objects(p)
                offsets[p.relative_to(self.root).as_posix()] = (count, n)
                count += n
            self._offsets = offsets
        return self._offsets

    def items(self) -> list[str]:
        offsets = self._xml_offsets()
        wanted = self.wanted
        if wanted is None:
            return sorted(offsets)
        return sorted(rel for rel, (start, n) in offsets.items() if any(start + k in wanted for k in range(n)))

    def _image(self, item: str, root_el: ET.Element) -> ImageRef | Skip:
        filename = (root_el.findtext("filename") or f"{Path(item).stem}.jpg").strip()
        rel_dir = self.ann_dir.parent.relative_to(self.root)
        rel = (rel_dir / "JPEGImages" / filename).as_posix()
        rel = self._finder.find(filename, rel) or rel  # not found: the skip names where it was expected
        return probe_ref(self, rel, "Google Earth", item=item)

    def load(self, item: str) -> Iterator[Record | Skip]:
        start = self._xml_offsets().get(item, (0, 0))[0]
        try:
            root_el = ET.parse(self.root / item).getroot()
        except (ET.ParseError, OSError) as e:
            yield self.skip(item, "malformed_annotation", f"{self.root / item}: {e}")
            return
        objects = root_el.findall("object")
        chosen = [(k, o) for k, o in enumerate(objects) if self.wanted is None or start + k in self.wanted]
        if not chosen:
            yield self.skip(item, "empty_annotation", f"{item} has no expression in split {self.split}")
            return
        ref = self._image(item, root_el)
        if isinstance(ref, Skip):
            yield ref
            return
        for k, obj in chosen:
            yield from self._object_records(item, start + k, obj, ref)

    def _object_records(self, item: str, index: int, obj: ET.Element, ref: ImageRef) -> Iterator[Record | Skip]:
        raw = (obj.findtext("name") or "").strip()
        label = CLASS_NAMES.get(raw.lower())
        text = " ".join((obj.findtext("description") or "").split())
        box_el = obj.find("bndbox")
        where = f"{item} object {index}"
        if label is None:
            yield self.skip(item, "unknown_class", f"{where}: class {raw!r} is not a DIOR class")
            return
        try:
            if box_el is None:
                raise ValueError("no <bndbox>")
            x1, y1, x2, y2 = (read_number(box_el.findtext(t) or "", t) for t in ("xmin", "ymin", "xmax", "ymax"))
        except ValueError:  # AnnotationError is a ValueError
            yield self.skip(item, "malformed_annotation", f"{where}: bndbox missing or not numeric")
            return
        if not text:
            yield self.skip(item, "malformed_annotation", f"{where}: empty <description>")
            return
        if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
            yield self.skip(item, "nan_coordinate", f"{where}: {(x1, y1, x2, y2)}")
            return
        if x2 <= x1 or y2 <= y1:
            yield self.skip(item, "zero_area_box", f"{where}: {(x1, y1, x2, y2)}")
            return
        if x2 <= 0 or y2 <= 0 or x1 >= ref.width or y1 >= ref.height:
            yield self.skip(item, "box_outside_image", f"{where}: {(x1, y1, x2, y2)} in {ref.width}x{ref.height}")
            return
        box = HBB(x1, y1, x2, y2)
        rid = f"{Path(item).stem}#{index}"
        yield GroundingRecord(
            id=rid, source=self.name, split=self._split_of(index), image=ref, expression=text, box=box, label=label
        )
        yield RegionCaptionRecord(
            id=rid, source=self.name, split=self._split_of(index), image=ref, box=box, caption=text, label=label
        )

    def _split_of(self, index: int) -> str:
        """The record's split: the selected one, or for "all" the official split of the expression if known."""
        return self.split if self.split != "all" else self._split_map.get(index, "all")
