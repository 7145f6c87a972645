"""The EarthGPT text form of boxes: how boxes are written into instructions and read back from model output.

Written form (the single source of truth, see docs/boxes.md):

* one box: ``[x1,y1,x2,y2]`` (HBB) or ``[x1,y1,x2,y2,x3,y3,x4,y4]`` (OBB, corners in the paper's order),
  normalised coordinates in [0, 1] with ``decimals`` places (default 3), no spaces;
* labelled boxes: ``label [..]`` joined by ``"; "``, e.g. ``car [0.100,0.200,0.300,0.400]; person [...]``.

Reading is total: ``parse_boxes`` and ``parse_box`` accept any string and never raise. What they can
read unambiguously they keep, and every repair or drop is named in ``problems``:

* kept silently: spaces around numbers and commas, unicode labels;
* kept with a problem: parentheses instead of brackets, numbers separated by spaces only, a trailing
  comma, coordinates a little outside [0, 1] (within ``clamp_tolerance``, clamped), x2 < x1 or y2 < y1
  (swapped), a self-crossing OBB (re-ordered with ``order_obb``), a zero-area box, a missing label,
  text that is neither label nor box;
* dropped with a problem: an unclosed bracket (truncated output), a wrong number count, NaN or
  infinity, junk inside the brackets, coordinates far outside [0, 1] (another scale).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from shapely.errors import GEOSException
from shapely.geometry import Polygon

from earthgpt.geometry.boxes import HBB, OBB, Box, BoxKind, LabeledBox
from earthgpt.geometry.order import order_obb

__all__ = [
    "CLAMP_TOLERANCE",
    "DEFAULT_DECIMALS",
    "ParseResult",
    "format_box",
    "format_boxes",
    "parse_box",
    "parse_boxes",
]

logger = logging.getLogger(__name__)


DEFAULT_DECIMALS = 3
# Coordinates within this distance outside [0, 1] are clamped; further out the box is dropped.
CLAMP_TOLERANCE = 0.05
# Tolerance for float noise when writing boxes that should lie in [0, 1].
_WRITE_EPS = 1e-9
# Characters trimmed from both ends of a label, and forbidden inside written labels.
_LABEL_TRIM = " \t\r\n:;,.[](){}"
_LABEL_FORBIDDEN = set("[]();,\n\r")

_BOX_RE = re.compile(r"([\[(])([^\[\]()]*)([\])])?")
# ASCII only: with IGNORECASE alone, "ınf" (dotless i) and "İNF" would match and then fail in float().
_NUM_RE = re.compile(
    r"[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|nan|inf(?:inity)?)", re.IGNORECASE | re.ASCII
)
_EXPECTED: dict[BoxKind | None, tuple[int, ...]] = {"hbb": (4,), "obb": (8,), None: (4, 8)}


@dataclass
class ParseResult:
    """Boxes read from a text and a description of every repair or drop made on the way."""

    boxes: list[LabeledBox] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    """Character span [start, end) in the text of each kept box's entry (label and brackets), as ``boxes``."""
    dropped: int = 0
    """How many box entries were found but dropped (unclosed, wrong count, NaN, unreadable, another scale)."""

    @property
    def ok(self) -> bool:
        """True when the text was in the exact written form (nothing repaired or dropped)."""
        return not self.problems


# ---------------------------------------------------------------------------------------------- writing


def _fmt(v: float, decimals: int) -> str:
    """One coordinate with ``decimals`` places; never "-0.000"."""
    s = f"{v:.{decimals}f}"
    return f"{0.0:.{decimals}f}" if float(s) == 0.0 else s


def format_box(box: Box, decimals: int = DEFAULT_DECIMALS) -> str:
    """One normalised box as ``[x1,y1,x2,y2]`` or 8 numbers (OBB corners put in the paper's order).

    Raises ValueError for a box that is not normalised to [0, 1], has non-finite coordinates, or is an
    HBB with x2 < x1 or y2 < y1: such boxes are bugs upstream (normalise with ``normalize`` first).
    """
    if not isinstance(decimals, int) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative integer, got {decimals!r}")
    if isinstance(box, OBB):
        box = order_obb(box)
    elif box.x2 < box.x1 or box.y2 < box.y1:
        raise ValueError(f"{box} has x2 < x1 or y2 < y1: build HBBs as (xmin, ymin, xmax, ymax)")
    values = box.as_tuple()
    if not all(math.isfinite(v) and -_WRITE_EPS <= v <= 1.0 + _WRITE_EPS for v in values):
        raise ValueError(
            f"{box} is not normalised to [0, 1]: convert pixel boxes with "
            "earthgpt.geometry.normalize(box, width, height) (and clip_box) first"
        )
    return "[" + ",".join(_fmt(min(1.0, max(0.0, v)), decimals) for v in values) + "]"


def _check_label(label: str) -> str:
    """The label as written; ValueError if it could not be read back unchanged."""
    if label != label.strip(_LABEL_TRIM) or any(c in _LABEL_FORBIDDEN for c in label):
        raise ValueError(
            f"label {label!r} cannot be written: it may not contain any of []();, or a newline, nor start "
            f"or end with any of {_LABEL_TRIM!r}; rename the category"
        )
    return label


def format_boxes(boxes: Sequence[LabeledBox], decimals: int = DEFAULT_DECIMALS) -> str:
    """Labelled boxes as ``label [..]; label [..]`` (an empty label writes the box alone)."""
    parts = []
    for lb in boxes:
        text = format_box(lb.box, decimals)
        label = _check_label(lb.label)
        parts.append(f"{label} {text}" if label else text)
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------- reading


def _snip(text: str, n: int = 40) -> str:
    """A short repr of a piece of text for problem messages."""
    return repr(text if len(text) <= n else text[:n] + "...")


def _number(token: str) -> float | None:
    """The float an ASCII number token writes, or None (``float`` alone also takes unicode digits and '_')."""
    if not _NUM_RE.fullmatch(token):
        return None
    try:
        return float(token)
    except (ValueError, OverflowError):  # unreachable for a full match; kept so that reading stays total
        return None


def _read_numbers(body: str, where: str, problems: list[str]) -> list[float] | None:
    """The numbers inside one pair of brackets, or None (with a problem) when they cannot be read."""
    pieces = body.split(",")
    if len(pieces) > 1 and not pieces[-1].strip():
        pieces.pop()
        problems.append(f"{where}: trailing comma")
    values: list[float] = []
    spaced = False
    for piece in pieces:
        tokens = piece.split()
        if not tokens:
            problems.append(f"{where}: empty field in {_snip(body)}, dropped")
            return None
        for tok in tokens:
            value = _number(tok)
            if value is None:
                problems.append(f"{where}: unreadable {_snip(body)}, dropped")
                return None
            values.append(value)
        spaced = spaced or len(tokens) > 1
    if spaced:
        problems.append(f"{where}: numbers separated by spaces instead of commas")
    return values


def _to_range(values: list[float], where: str, tol: float, problems: list[str]) -> list[float] | None:
    """Values checked against [0, 1]: small excursions clamped, large ones drop the box."""
    if not all(math.isfinite(v) for v in values):
        problems.append(f"{where}: NaN or infinite coordinate, dropped")
        return None
    if any(v < -tol or v > 1.0 + tol for v in values):
        problems.append(f"{where}: coordinates {values} far outside [0, 1] (another scale?), dropped")
        return None
    if any(v < 0.0 or v > 1.0 for v in values):
        problems.append(f"{where}: coordinates outside [0, 1] clamped")
        return [min(1.0, max(0.0, v)) for v in values]
    return values


def _make_hbb(v: list[float], where: str, problems: list[str]) -> HBB:
    """An HBB from 4 values, swapping reversed corners."""
    x1, y1, x2, y2 = v
    if x2 < x1 or y2 < y1:
        problems.append(f"{where}: x2 < x1 or y2 < y1, swapped")
        x1, x2 = min(x1, x2), max(x1, x2)
        y1, y2 = min(y1, y2), max(y1, y2)
    box = HBB(x1, y1, x2, y2)
    if box.area <= 0.0:
        problems.append(f"{where}: zero-area box")
    return box


def _make_obb(v: list[float], where: str, problems: list[str]) -> OBB:
    """An OBB from 8 values, re-ordering a self-crossing quadrilateral."""
    box = OBB(tuple(v))  # type: ignore[arg-type]
    if box.area <= 0.0:
        problems.append(f"{where}: zero-area box")
        return box
    try:
        valid = Polygon(box.corners()).is_valid
    except (GEOSException, ValueError):
        valid = False
    if not valid:
        problems.append(f"{where}: corners cross each other, re-ordered")
        box = order_obb(box)
    return box


def _read_box(m: re.Match[str], index: int, kind: BoxKind | None, tol: float, problems: list[str]) -> Box | None:
    """One bracketed group -> box, or None (with a problem) when it must be dropped."""
    where = f"box {index}"
    opener, body, closer = m.group(1), m.group(2), m.group(3)
    if closer is None:
        problems.append(f"{where}: unclosed bracket {_snip(m.group(0))} (truncated?), dropped")
        return None
    if (opener, closer) != ("[", "]"):
        problems.append(f"{where}: written with {opener}{closer} instead of []")
    values = _read_numbers(body, where, problems)
    if values is None:
        return None
    if len(values) not in _EXPECTED[kind]:
        want = " or ".join(str(n) for n in _EXPECTED[kind])
        problems.append(f"{where}: {len(values)} numbers, expected {want}, dropped")
        return None
    values = _to_range(values, where, tol, problems)
    if values is None:
        return None
    return _make_hbb(values, where, problems) if len(values) == 4 else _make_obb(values, where, problems)


def _split_label(segment: str, problems: list[str]) -> tuple[str, int]:
    """The label in the text before a box: its last clause after ';' or a newline, trimmed -> (label, its
    offset in ``segment``; ``len(segment)`` when there is no label)."""
    clauses = re.split(r"[;\n]", segment)
    for extra in clauses[:-1]:
        if extra.strip(_LABEL_TRIM):
            problems.append(f"text {_snip(extra.strip())} ignored")
    last = clauses[-1]
    label = last.strip(_LABEL_TRIM)
    if not label:
        return "", len(segment)
    return label, len(segment) - len(last.lstrip(_LABEL_TRIM))


@dataclass
class _Scan:
    """What one pass over a text found."""

    boxes: list[LabeledBox] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    dropped: int = 0
    problems: list[str] = field(default_factory=list)
    text_problems: list[str] = field(default_factory=list)


def _scan(text: str, kind: BoxKind | None, tol: float) -> _Scan:
    """Every box in a text with the label before it, the span of its entry, and the problems met."""
    found = _Scan()
    problems, text_problems = found.problems, found.text_problems
    pos = 0  # start of the text not yet used as a label or a box
    index = 0
    for m in _BOX_RE.finditer(text):
        if m.group(3) is None and not m.group(2).strip() and m.end() < len(text):
            problems.append(f"stray {m.group(1)!r} ignored")  # e.g. the outer bracket of [[...]]
            continue
        index += 1
        label, offset = _split_label(text[pos : m.start()], text_problems)
        start = pos + offset
        box = _read_box(m, index, kind, tol, problems)
        # After an unclosed bracket the rest of its "body" may hold the next label: read it again.
        pos = m.end() if m.group(3) is not None else m.start() + 1
        if box is None:
            found.dropped += 1
            continue
        if not label:
            text_problems.append(f"box {index} has no label")
        found.boxes.append(LabeledBox(label=label, box=box))
        found.spans.append((start, m.end()))
    tail = text[pos:].strip(_LABEL_TRIM)
    if tail and (index == 0 or pos == len(text) or text[pos - 1] in "])"):
        text_problems.append(f"trailing text without a box {_snip(tail)} ignored")
    return found


def parse_boxes(text: str, kind: BoxKind | None = None, clamp_tolerance: float = CLAMP_TOLERANCE) -> ParseResult:
    """Read labelled boxes from any text (model output); never raises.

    ``kind`` "hbb" accepts only 4 numbers per box, "obb" only 8, None both. ``spans`` gives where each kept
    box's entry (its label, or the box alone when it has none, through the closing bracket) lies in ``text``;
    ``dropped`` counts the box entries found but dropped.
    """
    try:
        found = _scan(str(text), kind, clamp_tolerance)
    except Exception as exc:  # last line of defence: the reader must be total
        logger.exception("parse_boxes failed on %s", _snip(str(text)))
        return ParseResult([], [f"internal error while reading boxes: {exc!r}"])
    all_problems = found.problems + found.text_problems
    if not found.boxes and str(text).strip() and not all_problems:
        all_problems.append("no box found")
    return ParseResult(found.boxes, all_problems, found.spans, found.dropped)


def parse_box(
    text: str, kind: BoxKind | None = None, clamp_tolerance: float = CLAMP_TOLERANCE
) -> tuple[Box | None, list[str]]:
    """Read one unlabelled box (a grounding answer) from any text -> (box or None, problems); never raises.

    Text around the box is ignored without a problem; when several boxes are found the first is used.
    """
    try:
        found = _scan(str(text), kind, clamp_tolerance)
        boxes, problems = found.boxes, found.problems
    except Exception as exc:  # last line of defence: the reader must be total
        logger.exception("parse_box failed on %s", _snip(str(text)))
        return None, [f"internal error while reading a box: {exc!r}"]
    if not boxes:
        return None, [*problems, "no box found"]
    if len(boxes) > 1:
        problems.append(f"{len(boxes)} boxes found, used the first")
    return boxes[0].box, problems
