"""Boxes in a model's text, in any supported output format, as pixel boxes with their text span.

Formats (``box_format``):

* ``earthgpt``: our codec (``label [x1,y1,x2,y2]; ...``), normalised to the centred square of side max(w, h);
* ``geochat``: ``{<x1><y1><x2><y2>|<t>}`` on a 0-100 grid, each axis normalised by its own size;
* ``falcon``: ``<box><x1><y1><x2><y2></box>`` / ``<quad>..8..</quad>`` on a 0-1000 grid, per axis;
* ``coco``: pixel ``[x, y, w, h]``, either as a JSON list of ``{"bbox": [...], "category_name"|"label"|
  "category": ..., "score": ...}`` or as bracketed groups of four numbers in free text (label before it);
* ``dota``: one box per line, pixel ``x1 y1 ... x4 y4`` then the class name; a line of nine leading numbers
  reads the first as the box's score (``score x1 ... y4 class``); a trailing integer (difficulty) is ignored.

The label of a geochat/falcon/coco-text box is the category named in the text between the previous box and it
(longest name first); with no name there, a one-category task uses its category. Every box keeps the character
span of its label and coordinates so that token log-probabilities can score it.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from earthgpt.data.records import ImageRef
from earthgpt.evaluation.labels import find_category, label_key
from earthgpt.evaluation.tasks.spec import BoxFormat, ParsedBox
from earthgpt.geometry import HBB, OBB, Box, BoxKind
from earthgpt.geometry.codec import parse_boxes
from earthgpt.geometry.formats import coco_to_hbb, parse_falcon, parse_geochat
from earthgpt.geometry.normalize import denormalize
from earthgpt.geometry.order import hbb_to_obb, obb_to_hbb

__all__ = ["BOX_FORMATS", "BoxReading", "read_boxes"]

BOX_FORMATS: tuple[str, ...] = ("earthgpt", "geochat", "falcon", "coco", "dota")

log = logging.getLogger(__name__)

# Every pattern is linear on any input: no nested or adjacent quantifiers over the same characters, and ASCII
# only (``re.ASCII``: ``\d`` would take Arabic-Indic digits, IGNORECASE alone would take "ınf" for "inf").
_GEOCHAT_GROUP = re.compile(r"\{[^{}]*\}")
_FALCON_TAG = re.compile(r"<(/?)(box|quad)>")
_COCO_GROUP = re.compile(r"\[([^\[\]]*)\]")
_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|nan|inf", re.IGNORECASE | re.ASCII)
# Pixel coordinates beyond this magnitude are another scale or garbage (and overflow in corner maths): dropped.
MAX_COORDINATE = 1e7


@dataclass
class BoxReading:
    """The boxes read from one text; ``dropped`` counts boxes found but unusable, ``converted`` the boxes given
    in the other kind (an OBB in an HBB task becomes its enclosing box, an HBB in an OBB task its 4 corners)."""

    boxes: list[ParsedBox] = field(default_factory=list)
    dropped: int = 0
    converted: int = 0
    problems: list[str] = field(default_factory=list)
    outside: int = 0
    """Of ``dropped``: boxes with non-finite or huge coordinates, or wholly outside the image."""


def _per_axis_pixels(box: Box, image: ImageRef) -> Box:
    """A box normalised per axis (x / width, y / height) -> pixels."""
    w, h = float(image.width), float(image.height)
    vals = box.as_tuple()
    px = [v * (w if i % 2 == 0 else h) for i, v in enumerate(vals)]
    return HBB(*px) if isinstance(box, HBB) else OBB(tuple(px))  # type: ignore[arg-type]


def _usable(box: Box, image: ImageRef) -> bool:
    """Finite coordinates of a sane size and some overlap with the image (a box wholly outside it cannot be
    meant)."""
    vals = box.as_tuple()
    if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in vals):
        return False
    xs, ys = vals[0::2], vals[1::2]
    return max(xs) > 0 and max(ys) > 0 and min(xs) < image.width and min(ys) < image.height


def _add(
    r: BoxReading,
    image: ImageRef,
    kind: BoxKind,
    box: Box,
    label: str,
    span: tuple[int, int],
    score: float | None = None,
) -> None:
    """Keep one box read from the text (in the task's kind) when it is usable, else count it as dropped."""
    if not _usable(box, image):
        r.dropped += 1
        r.outside += 1
        return
    if score is not None and not math.isfinite(score):
        score = None
    r.boxes.append(ParsedBox(label, _to_kind(box, kind, r), span, score))


def _to_kind(box: Box, kind: BoxKind, reading: BoxReading) -> Box:
    """The box in the task's kind, counting conversions."""
    if kind == "hbb" and isinstance(box, OBB):
        reading.converted += 1
        return obb_to_hbb(box)
    if kind == "obb" and isinstance(box, HBB):
        reading.converted += 1
        return hbb_to_obb(box)
    return box


def _name_before(segment: str, categories: Sequence[str], previous: str = "") -> str:
    """The category named in the text before a box; else the previous box's label when only separators lie
    between them ("2 tanks {..}{..}"); else the sole category of a one-class task; else the raw text."""
    clean = re.sub(r"<[^<>]*>", " ", segment)
    found = find_category(clean, categories)
    if found is not None:
        return found
    words = re.split(r"[;:\n]", clean)[-1].strip(" \t.,")
    if previous and not re.sub(r"[\s,;.&]|and", "", clean):
        return previous
    if len(categories) == 1:
        return categories[0]
    return words


def _earthgpt(text: str, kind: BoxKind, image: ImageRef, reading: BoxReading) -> None:
    """Our codec over the whole text: boxes, labels, the span of each box's entry, drops and problems."""
    full = parse_boxes(text)
    reading.dropped += full.dropped
    reading.problems += full.problems
    for lb, span in zip(full.boxes, full.spans, strict=True):
        _add(reading, image, kind, denormalize(lb.box, image.width, image.height), lb.label, span)


def _grid(text: str, fmt: BoxFormat, kind: BoxKind, image: ImageRef, cats: Sequence[str], r: BoxReading) -> None:
    """GeoChat or Falcon boxes, each with the category named before it."""
    groups = (
        ((m.start(), m.end()) for m in _GEOCHAT_GROUP.finditer(text)) if fmt == "geochat" else _falcon_groups(text, r)
    )
    prev = 0
    for start, end in groups:
        piece = text[start:end]
        found = parse_geochat(piece) if fmt == "geochat" else parse_falcon(piece)
        if not found:
            r.dropped += 1
            r.problems.append(f"unreadable {fmt} box {piece[:40]!r}, dropped")
            continue
        label = _name_before(text[prev:start], cats, r.boxes[-1].label if r.boxes else "")
        _add(r, image, kind, _per_axis_pixels(found[0], image), label, (prev, end))
        prev = end


def _falcon_groups(text: str, r: BoxReading) -> Iterator[tuple[int, int]]:
    """Spans of the ``<box>..</box>`` / ``<quad>..</quad>`` groups in one left-to-right pass over the tags (a
    lazy ``<box>.*?</box>`` regex rescans the rest of the text from every opener: quadratic). An opener not
    closed before the next opener is dropped as unclosed."""
    open_tag, open_at = "", -1
    for m in _FALCON_TAG.finditer(text):
        closing, tag = m.group(1) == "/", m.group(2)
        if not closing:
            if open_at >= 0:
                r.dropped += 1
                r.problems.append(f"unclosed <{open_tag}> at {open_at}, dropped")
            open_tag, open_at = tag, m.start()
        elif open_at >= 0 and tag == open_tag:
            yield open_at, m.end()
            open_at = -1
    if open_at >= 0:
        r.dropped += 1
        r.problems.append(f"unclosed <{open_tag}> at {open_at} (truncated?), dropped")


def _coco_json(text: str) -> list[dict] | None:
    """The list of detection dicts of a COCO-style JSON answer, or None when the text is not one."""
    if not text.startswith(("[", "{")):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # bad JSON, an integer of > 4300 digits, "[" * 3000
        return None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(d, dict) and "bbox" in d for d in data):
        return None
    return data


def _coco(text: str, kind: BoxKind, image: ImageRef, cats: Sequence[str], r: BoxReading) -> None:
    """COCO pixel [x, y, w, h] boxes from a JSON answer or from bracketed groups in free text."""
    dets = _coco_json(text.strip())
    if dets is not None:
        for d in dets:
            try:
                box: Box = coco_to_hbb([float(v) for v in d["bbox"]])
                score = float(d["score"]) if d.get("score") is not None else None
            except (TypeError, ValueError, OverflowError):  # OverflowError: float() of a huge JSON integer
                r.dropped += 1
                r.problems.append(f"unreadable COCO detection {str(d)[:40]!r}, dropped")
                continue
            raw = str(d.get("category_name", d.get("label", d.get("category", ""))))
            label = find_category(raw, cats) or (cats[0] if len(cats) == 1 and not raw else raw)
            _add(r, image, kind, box, label, (0, len(text)), score)
        return
    prev = 0
    for m in _COCO_GROUP.finditer(text):
        parts = [p for p in re.split(r"[,\s]+", m.group(1).strip()) if p]
        if len(parts) != 4 or not all(_NUMBER.fullmatch(p) for p in parts):
            r.dropped += 1
            r.problems.append(f"COCO box {m.group(0)[:40]!r} is not 4 numbers, dropped")
            continue
        box = coco_to_hbb([float(p) for p in parts])
        label = _name_before(text[prev : m.start()], cats, r.boxes[-1].label if r.boxes else "")
        _add(r, image, kind, box, label, (prev, m.end()))
        prev = m.end()


def _dota(text: str, kind: BoxKind, image: ImageRef, cats: Sequence[str], r: BoxReading) -> None:
    """DOTA lines: eight pixel coordinates (optionally after a score) and a class name."""
    offset = 0
    for line in text.splitlines(keepends=True):
        span = (offset, offset + len(line.rstrip("\r\n")))
        offset += len(line)
        tokens = line.split()
        if not tokens:
            continue
        n = 0
        while n < len(tokens) and _NUMBER.fullmatch(tokens[n]):
            n += 1
        if n not in (8, 9):
            r.dropped += 1
            r.problems.append(f"DOTA line {line.strip()[:40]!r} does not start with 8 or 9 numbers, dropped")
            continue
        nums = [float(t) for t in tokens[:n]]
        score = nums.pop(0) if n == 9 else None
        rest = [t for t in tokens[n:] if not t.isdigit()]
        raw = " ".join(rest)
        label = find_category(raw, cats) or (cats[0] if len(cats) == 1 and not raw else raw)
        box: Box = OBB(tuple(nums))  # type: ignore[arg-type]
        _add(r, image, kind, box, label, span, score)


def read_boxes(
    text: str, box_format: BoxFormat, kind: BoxKind, image: ImageRef, categories: Sequence[str] = ()
) -> BoxReading:
    """Every box in ``text`` as a pixel box of ``kind`` with its label and span; never raises, linear in the text.

    Boxes with non-finite or huge coordinates (beyond ``MAX_COORDINATE``) or wholly outside the image are
    dropped and counted. An unknown ``box_format`` is the caller's bug: ValueError.
    """
    if box_format not in BOX_FORMATS:
        raise ValueError(f"unknown box format {box_format!r}: expected one of {BOX_FORMATS}")
    reading = BoxReading()
    try:
        if box_format == "earthgpt":
            _earthgpt(text, kind, image, reading)
        elif box_format in ("geochat", "falcon"):
            _grid(text, box_format, kind, image, categories, reading)
        elif box_format == "coco":
            _coco(text, kind, image, categories, reading)
        else:
            _dota(text, kind, image, categories, reading)
    except Exception as exc:  # last line of defence: a reader of model output must be total
        log.exception("read_boxes (%s) failed on %r", box_format, str(text)[:40])
        return BoxReading(dropped=reading.dropped + len(reading.boxes), problems=[f"internal error: {exc!r}"])
    if reading.outside:
        reading.problems.append(f"{reading.outside} box(es) non-finite, huge or outside the image, dropped")
    return reading


def canonical_label(label: str, categories: Sequence[str], aliases: Sequence[tuple[str, str]] = ()) -> str:
    """The category a box label names, or the label itself when it names none.

    Both sides go through :func:`label_key`; the candidates are the categories and the dataset's own spellings
    of them (``aliases``, the source's ``label_map`` that the builder reads the files with), so "OtherVehicle",
    "other_vehicles" and "other vehicle" all name "other vehicle".
    """
    keys = {label_key(name): cat for name, cat in aliases}
    keys.update({label_key(c): c for c in categories})
    return keys.get(label_key(label), label)
