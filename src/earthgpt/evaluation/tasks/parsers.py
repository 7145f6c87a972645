"""Output parsers, one per task kind: a model's text -> what the task's metric needs (see ``Parsed``)."""

from __future__ import annotations

import re

from earthgpt.evaluation.labels import find_category, match_category
from earthgpt.evaluation.tasks.boxtext import canonical_label, read_boxes
from earthgpt.evaluation.tasks.spec import BoxFormat, OutputParser, Parsed, ParsedBox, Sample, TaskKind, TaskSpec
from earthgpt.geometry import HBB
from earthgpt.geometry.order import obb_to_hbb

__all__ = [
    "PARSERS",
    "parse_caption",
    "parse_detection_hbb",
    "parse_detection_obb",
    "parse_grounding",
    "parse_referring",
    "parse_scene",
    "parse_scene_lenient",
    "parse_segmentation",
    "parse_vqa",
    "parser_of",
    "region_answers",
]


def _blank(text: str) -> bool:
    return not text.strip()


def parse_scene(text: str, sample: Sample, box_format: BoxFormat = "earthgpt") -> Parsed:
    """The category the whole answer names (``labels.match_category``, the metric's rule), "unparsed" otherwise
    (it then counts as a miss)."""
    if _blank(text):
        return Parsed("empty", "")
    found = match_category(text, sample.categories)
    return Parsed("ok", found) if found is not None else Parsed("unparsed", text)


def parse_scene_lenient(text: str, sample: Sample, box_format: BoxFormat = "earthgpt") -> Parsed:
    """Like :func:`parse_scene`, but a sentence naming one category ("It is a dense residential area.") counts
    as that category (``labels.find_category``). Not the default: it can
    flatter a model that ignores the one-word instruction; use it as a TaskSpec's ``parser`` to compare."""
    if _blank(text):
        return Parsed("empty", "")
    found = find_category(text, sample.categories)
    return Parsed("ok", found) if found is not None else Parsed("unparsed", text)


def parse_vqa(text: str, sample: Sample, box_format: BoxFormat = "earthgpt") -> Parsed:
    """The answer as written; the VQA metric compares it by the task's rule (``TaskSpec.vqa_match``)."""
    if _blank(text):
        return Parsed("empty", "")
    return Parsed("ok", text)


def parse_caption(text: str, sample: Sample, box_format: BoxFormat = "earthgpt") -> Parsed:
    """The caption with its whitespace folded; a blank caption stays in the corpus as ''."""
    caption = " ".join(text.split())
    return Parsed("ok", caption) if caption else Parsed("empty", "")


def parse_grounding(text: str, sample: Sample, box_format: BoxFormat = "earthgpt") -> Parsed:
    """The first box of the answer as a pixel HBB (an OBB becomes its enclosing box)."""
    if _blank(text):
        return Parsed("empty", None)
    reading = read_boxes(text, box_format, "hbb", sample.image, sample.categories)
    if not reading.boxes:
        return Parsed("unparsed", None, dropped=reading.dropped, notes=tuple(reading.problems))
    box = reading.boxes[0].box
    hbb = box if isinstance(box, HBB) else obb_to_hbb(box)
    return Parsed("ok", hbb, dropped=reading.dropped, notes=tuple(reading.problems))


def _detection(text: str, sample: Sample, box_format: BoxFormat, kind: str) -> Parsed:
    if _blank(text):
        return Parsed("empty", ())
    reading = read_boxes(text, box_format, "obb" if kind == "obb" else "hbb", sample.image, sample.categories)
    boxes = tuple(
        ParsedBox(canonical_label(b.label, sample.categories, sample.aliases), b.box, b.span, b.score)
        for b in reading.boxes
    )
    notes = tuple(reading.problems)
    return Parsed("ok" if boxes else "unparsed", boxes, reading.dropped, reading.converted, notes)


def parse_detection_hbb(text: str, sample: Sample, box_format: BoxFormat = "earthgpt") -> Parsed:
    """Every labelled box of the answer as pixel HBBs (OBBs become their enclosing boxes)."""
    return _detection(text, sample, box_format, "hbb")


def parse_detection_obb(text: str, sample: Sample, box_format: BoxFormat = "earthgpt") -> Parsed:
    """Every labelled box of the answer as pixel OBBs (HBBs become 4-corner OBBs)."""
    return _detection(text, sample, box_format, "obb")


_REGION = re.compile(r"<?\bregion\s*(\d+)\s*>?\s*:\s*(.*?)(?=;|\n|<?\bregion\s*\d+\s*>?\s*:|$)", re.I | re.S)


def region_answers(text: str, count: int) -> list[str | None]:
    """The answer for each of ``count`` regions: the text after ``Region K:`` (or ``<regionK>:``) up to a ``;``,
    a line break or the next region; a one-region answer without any ``Region K:`` is the whole text."""
    found: dict[int, str] = {}
    for m in _REGION.finditer(text):
        found.setdefault(int(m.group(1)), m.group(2).strip(" .,"))
    if not found and count == 1 and text.strip():
        return [text.strip()]
    return [found.get(k + 1) or None for k in range(count)]


def parse_referring(text: str, sample: Sample, box_format: BoxFormat = "earthgpt") -> Parsed:
    """One answer per region of the sample (``region_answers``); None for a region the text does not answer."""
    if _blank(text):
        return Parsed("empty", [None] * len(sample.labels))
    answers = region_answers(text, len(sample.labels))
    return Parsed("ok" if any(a is not None for a in answers) else "unparsed", answers)


def parse_segmentation(text: str, sample: Sample, box_format: BoxFormat = "earthgpt") -> Parsed:
    """The text of a pixel-grounding answer says nothing the metric reads (the masks travel beside it, see
    ``evaluation.region_scores``): "unparsed" until masks are attached."""
    return Parsed("empty", []) if _blank(text) else Parsed("unparsed", [])


PARSERS: dict[TaskKind | str, OutputParser] = {
    "referring": parse_referring,
    "region_caption": parse_caption,
    "pixel_grounding": parse_segmentation,
    "scene": parse_scene,
    "caption": parse_caption,
    "vqa": parse_vqa,
    "grounding": parse_grounding,
    "detection_hbb": parse_detection_hbb,
    "detection_obb": parse_detection_obb,
}


def parser_of(spec: TaskSpec) -> OutputParser:
    """The spec's own output parser, else the default parser of its kind."""
    if spec.parser is not None:
        return spec.parser
    key = f"detection_{spec.box_kind}" if spec.kind == "detection" else spec.kind
    return PARSERS[key]
