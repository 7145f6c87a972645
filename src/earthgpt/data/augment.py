"""Training-time flips and quarter turns that move every coordinate with the image (docs/augmentation.md).

A transform is an element of the square's symmetry group, written as an optional transpose (x, y) -> (y, x)
followed by optional flips x -> W - x and y -> H - y. It acts on pixel arrays [..., H, W], on points (pixel or
normalised), on the boxes written in a conversation's text (read with the codec and written back in the same
decimals), on visual prompts and on masks. Coordinates are image coordinates: x to the right, y downwards; a
quarter turn ``rot90`` is clockwise on screen.

Only conversations whose meaning survives are transformed (:func:`ineligible_reason`): a square image or one padded
evenly to its square, one view, no orientation word in any text, and every box in its text in the exact written form.

Boxes in text are normalised in the model input's centred square (geometry/normalize.py), so they move as the
square does: x -> 1 - x for a left-right flip whatever the image's aspect.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from earthgpt.data.conversation import Conversation, ImagePart, Message, Part, TextPart
from earthgpt.geometry.boxes import HBB, OBB, Box
from earthgpt.geometry.codec import format_box, parse_boxes
from earthgpt.geometry.order import order_obb
from earthgpt.geometry.prompts import RleMask, VisualPrompt

__all__ = [
    "AUGMENT_OPS",
    "Augmentation",
    "Dihedral",
    "eligibility",
    "ineligible_reason",
    "orientation_words",
]

AUGMENT_OPS: tuple[str, ...] = ("hflip", "vflip", "rot90")
"""What ``TrainConfig.augment`` may list: a left-right flip, a top-bottom flip, a clockwise turn by 90, 180 or 270."""

# Words whose meaning a flip or a turn changes (a relation in the image's frame, or a compass direction).
_ORIENTATION = re.compile(
    r"\b(?:left|right|top|bottom|upper|lower|above|below|beneath|underneath|up|down|upward|upwards|downward"
    r"|downwards|leftmost|rightmost|topmost|bottommost|uppermost|lowermost|horizontal|horizontally|vertical"
    r"|vertically|clockwise|counterclockwise|anticlockwise|north|south|east|west|northern|southern|eastern"
    r"|western|northward|southward|eastward|westward|north-?east|north-?west|south-?east|south-?west"
    r"|northeastern|northwestern|southeastern|southwestern)\b",
    re.IGNORECASE,
)
# The paper's name of a box type ("horizontal bounding boxes") says nothing about the image: not an orientation.
_BOX_KIND = re.compile(r"\bhorizontal bounding box(?:es)?\b", re.IGNORECASE)
_FRACTION = re.compile(r"^[0-9]+(?:\.([0-9]*))?$")


def orientation_words(text: str) -> list[str]:
    """The orientation words of ``text`` (lower case, in order): any one makes a conversation ineligible."""
    return [m.group(0).lower() for m in _ORIENTATION.finditer(text)]


@dataclass(frozen=True)
class Dihedral:
    """``transpose`` (x, y) -> (y, x), then ``flip_x`` x -> W - x, then ``flip_y`` y -> H - y (W, H after the
    transpose). The identity has all three off."""

    transpose: bool = False
    flip_x: bool = False
    flip_y: bool = False

    @staticmethod
    def of(ops: Iterable[str]) -> Dihedral:
        """The transform that applies ``ops`` in order ("hflip", "vflip", "rot90" = one clockwise quarter turn)."""
        out = Dihedral()
        for op in ops:
            out = out.then(op)
        return out

    def then(self, op: str) -> Dihedral:
        """This transform followed by the elementary ``op``."""
        if op == "hflip":
            return replace(self, flip_x=not self.flip_x)
        if op == "vflip":
            return replace(self, flip_y=not self.flip_y)
        if op == "rot90":  # clockwise (x, y) -> (H - y, x) = transpose, then flip x; it swaps the two flips
            return Dihedral(not self.transpose, not self.flip_y, self.flip_x)
        raise ValueError(f"unknown augmentation {op!r}: use one of {', '.join(AUGMENT_OPS)}")

    @property
    def is_identity(self) -> bool:
        return not (self.transpose or self.flip_x or self.flip_y)

    def point(self, x: float, y: float, width: float = 1.0, height: float = 1.0) -> tuple[float, float]:
        """Where (x, y) of a ``width`` x ``height`` image lies after the transform (normalised by default)."""
        if self.transpose:
            x, y, width, height = y, x, height, width
        return (width - x if self.flip_x else x, height - y if self.flip_y else y)

    def array(self, values: np.ndarray) -> np.ndarray:
        """A contiguous copy of ``values`` [..., H, W] transformed: pixel (col c, row r) moves as its centre."""
        out = np.swapaxes(values, -1, -2) if self.transpose else values
        if self.flip_x:
            out = out[..., ::-1]
        if self.flip_y:
            out = out[..., ::-1, :]
        return np.ascontiguousarray(out)

    def box(self, box: Box) -> Box:
        """A normalised box moved: an HBB stays (xmin, ymin, xmax, ymax); OBB corners go in the paper's order."""
        if isinstance(box, OBB):
            return order_obb([self.point(x, y) for x, y in box.corners()])
        (ax, ay), (bx, by) = self.point(box.x1, box.y1), self.point(box.x2, box.y2)
        return HBB(min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))

    def mask(self, mask: RleMask) -> RleMask:
        """An RLE mask moved (its size swaps under a transpose)."""
        return RleMask.from_array(self.array(mask.to_array()))

    def prompt(self, prompt: VisualPrompt, width: int, height: int) -> VisualPrompt:
        """A visual prompt in the pixels of a ``width`` x ``height`` image, moved; a box stays (x1 < x2, y1 < y2)."""
        if prompt.kind == "mask":
            assert prompt.mask is not None
            return VisualPrompt.from_mask(self.mask(prompt.mask))

        def move(points: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
            return tuple(self.point(x, y, width, height) for x, y in points)

        if prompt.kind == "scribble":
            return VisualPrompt("scribble", strokes=tuple(move(s) for s in prompt.strokes))
        if prompt.kind == "box":
            (ax, ay), (bx, by) = move(prompt.points)
            return VisualPrompt.box(HBB(min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
        if prompt.kind == "obb":
            return VisualPrompt.obb(order_obb(move(prompt.points)))
        return VisualPrompt(prompt.kind, move(prompt.points))

    def text(self, text: str) -> str | None:
        """``text`` with every box moved and written in its own decimals; None when a box of it is not in the exact
        written form (a repaired or dropped entry), which could not be rewritten exactly."""
        found = parse_boxes(text)
        if found.dropped or text.count("[") != len(found.boxes) or text.count("]") != len(found.boxes):
            return None
        pieces: list[str] = []
        pos = 0
        for labeled, (start, end) in zip(found.boxes, found.spans, strict=True):
            bracket = text.rfind("[", start, end)
            if bracket < 0:
                return None
            written = text[bracket:end]
            decimals = _decimals(written)
            if decimals is None or _written(labeled.box, decimals) != written:
                return None
            pieces += [text[pos:bracket], format_box(self.box(labeled.box), decimals)]
            pos = end
        return "".join(pieces) + text[pos:]

    def conversation(self, conv: Conversation) -> Conversation | None:
        """``conv`` with its texts, prompts and masks moved, its image reference naming the moved size (a quarter turn
        swaps width and height; the pixels are moved by :meth:`array` where they are read); None when a text cannot be
        rewritten exactly."""
        ref = conv.image
        assert ref is not None
        width, height = (ref.height, ref.width) if self.transpose else (ref.width, ref.height)
        messages = []
        for message in conv.messages:
            parts: list[Part] = []
            for part in message.content:
                if isinstance(part, TextPart):
                    moved = self.text(part.text)
                    if moved is None:
                        return None
                    parts.append(TextPart(moved))
                else:
                    parts.append(ImagePart(replace(part.image, width=width, height=height)))
            messages.append(Message(message.role, tuple(parts), message.masked))
        return replace(
            conv,
            messages=tuple(messages),
            prompts=tuple(self.prompt(p, ref.width, ref.height) for p in conv.prompts),
            masks=tuple(self.mask(m) for m in conv.masks),
        )


def _written(box: Box, decimals: int) -> str:
    """The box's numbers in the order it holds them (an OBB as read: a corner order fixed before rounding may differ
    from the order of the rounded corners, and is kept), with ``decimals`` places."""
    return "[" + ",".join(f"{v:.{decimals}f}" for v in box.as_tuple()) + "]"


def _decimals(written: str) -> int | None:
    """The places after the point of a written box's first number (all must share it), or None."""
    numbers = written[1:-1].split(",")
    places = set()
    for number in numbers:
        m = _FRACTION.match(number)
        if m is None:
            return None
        places.add(len(m.group(1) or ""))
    return places.pop() if len(places) == 1 else None


def ineligible_reason(conv: Conversation, default_views: str = "global") -> str | None:
    """Why a flip or turn would change what ``conv`` means or could not move it exactly; None when it can.

    Reasons: ``no image``, ``uneven padding`` (the model input pads a rectangle to a centred square, and boxes are
    normalised in that square while prompts and masks are drawn into it from the image's pixels: a flip of the square
    equals the flip of the image inside it only when the padding is the same on both sides, i.e. width - height is
    even), ``several views`` (views are cut from the file, not from the moved pixels),
    ``orientation words`` (left/right/top/north ... in any text; "horizontal bounding boxes", the name of a box
    type, does not count), ``inexact boxes`` (a box in the text not in
    the exact written form).
    """
    ref = conv.image
    if ref is None:
        return "no image"
    if (ref.width - ref.height) % 2:
        return "uneven padding"
    if (conv.views or default_views).strip().lower() != "global":
        return "several views"
    texts = [m.text for m in conv.messages]
    if any(orientation_words(_BOX_KIND.sub("", t)) for t in texts):
        return "orientation words"
    if any(Dihedral(flip_x=True).text(t) is None for t in texts):
        return "inexact boxes"
    return None


def eligibility(conversations: Iterable[Conversation], default_views: str = "global") -> Counter[str]:
    """How many conversations may be augmented (``eligible``) and how many may not, by reason."""
    return Counter(ineligible_reason(c, default_views) or "eligible" for c in conversations)


@dataclass(frozen=True)
class Augmentation:
    """Which transform sample ``index`` gets in ``epoch``: each op of ``ops`` is applied, in order, with
    probability ``prob`` (``rot90`` then turns by 90, 180 or 270 degrees, equally likely). The draw is a
    function of (seed, epoch, index) alone, so runs reproduce and resume identically."""

    ops: tuple[str, ...]
    prob: float
    seed: int

    def __post_init__(self) -> None:
        unknown = [op for op in self.ops if op not in AUGMENT_OPS]
        if unknown:
            raise ValueError(f"unknown augmentation(s) {unknown}: use some of {', '.join(AUGMENT_OPS)}")
        if not (math.isfinite(self.prob) and 0.0 <= self.prob <= 1.0):
            raise ValueError(f"augmentation probability must lie in [0, 1], got {self.prob!r}")

    def choose(self, epoch: int, index: int) -> Dihedral:
        """The transform of sample ``index`` in ``epoch`` (every op draws its numbers whether applied or not)."""
        rng = np.random.default_rng([self.seed % 2**63, epoch, index])
        out = Dihedral()
        for op in self.ops:
            apply, turns = rng.random() < self.prob, int(rng.integers(1, 4))
            if apply:
                for _ in range(turns if op == "rot90" else 1):
                    out = out.then(op)
        return out
