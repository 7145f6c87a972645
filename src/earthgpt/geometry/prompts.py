"""Visual prompts: a point, a box (HBB or OBB), a free-form shape (polygon or scribble strokes) or a mask on an image.

A prompt is in the pixel coordinates of the image it is drawn on (x right, y down, pixel (r, c) covering
[c, c+1] x [r, r+1]), like every box in :mod:`earthgpt.geometry`. The K-th prompt of a conversation is the object the
text calls ``<regionK>`` (1-based). Masks are COCO RLE (:class:`RleMask`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from earthgpt.geometry.boxes import HBB, OBB
from earthgpt.geometry.masks import decode_rle_counts, encode_rle_counts

PromptKind = Literal["point", "box", "obb", "polygon", "scribble", "mask"]
PROMPT_KINDS: tuple[str, ...] = get_args(PromptKind)

Point = tuple[float, float]

__all__ = ["PROMPT_KINDS", "PromptError", "PromptKind", "RleMask", "VisualPrompt", "region_name"]


class PromptError(ValueError):
    """A visual prompt that cannot be used, with the prompt named and the fix."""


def region_name(index: int) -> str:
    """The text that names the prompt at 0-based ``index``: ``<region1>`` for 0."""
    return f"<region{index + 1}>"


@dataclass(frozen=True)
class RleMask:
    """A binary mask as COCO compressed RLE: ``counts`` column-major run lengths (off first) of a height x width mask."""

    height: int
    width: int
    counts: str

    @staticmethod
    def from_array(mask: np.ndarray) -> RleMask:
        """Encode a 2-D array (non-zero = set) [H, W]."""
        if mask.ndim != 2:
            raise ValueError(f"a mask is 2-D [H, W]; got shape {mask.shape}")
        flat = (np.asarray(mask) != 0).T.reshape(-1)  # column-major
        change = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
        edges = np.concatenate([[0], change, [flat.size]])
        runs = np.diff(edges)
        if flat.size and flat[0]:
            runs = np.concatenate([[0], runs])
        return RleMask(int(mask.shape[0]), int(mask.shape[1]), encode_rle_counts(runs))

    def to_array(self) -> np.ndarray:
        """The mask as bool [H, W]."""
        runs = decode_rle_counts(self.counts, "mask")
        if int(runs.sum()) != self.height * self.width:
            raise ValueError(f"RLE runs sum to {int(runs.sum())}, not {self.height}x{self.width}")
        values = np.zeros(runs.size, dtype=bool)
        values[1::2] = True
        flat = np.repeat(values, runs)
        return flat.reshape(self.width, self.height).T

    def to_dict(self) -> dict[str, Any]:
        """COCO form: ``{"size": [h, w], "counts": "..."}``."""
        return {"size": [self.height, self.width], "counts": self.counts}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> RleMask:
        """From COCO form; uncompressed ``counts`` lists are accepted and compressed."""
        height, width = (int(v) for v in d["size"])
        counts = d["counts"]
        if isinstance(counts, list):
            return RleMask(height, width, encode_rle_counts(np.asarray(counts, dtype=np.int64)))
        return RleMask(height, width, counts.decode("ascii") if isinstance(counts, bytes) else str(counts))


@dataclass(frozen=True)
class VisualPrompt:
    """One prompt. ``points`` by kind: point 1 (x, y); box 2, the corners (x1, y1), (x2, y2); obb 4 corners in order;
    polygon >= 3 vertices. ``strokes``: a scribble's polylines (each >= 1 point). ``mask``: kind ``mask`` only."""

    kind: PromptKind
    points: tuple[Point, ...] = ()
    strokes: tuple[tuple[Point, ...], ...] = ()
    mask: RleMask | None = None

    # ----- constructors -------------------------------------------------------------------------------------------

    @staticmethod
    def point(x: float, y: float) -> VisualPrompt:
        return VisualPrompt("point", ((float(x), float(y)),))

    @staticmethod
    def box(box: HBB) -> VisualPrompt:
        return VisualPrompt("box", ((box.x1, box.y1), (box.x2, box.y2)))

    @staticmethod
    def obb(box: OBB) -> VisualPrompt:
        return VisualPrompt("obb", tuple((float(x), float(y)) for x, y in box.corners()))

    @staticmethod
    def polygon(vertices: Any) -> VisualPrompt:
        return VisualPrompt("polygon", tuple((float(x), float(y)) for x, y in vertices))

    @staticmethod
    def scribble(strokes: Any) -> VisualPrompt:
        return VisualPrompt("scribble", strokes=tuple(tuple((float(x), float(y)) for x, y in s) for s in strokes))

    @staticmethod
    def from_mask(mask: RleMask) -> VisualPrompt:
        return VisualPrompt("mask", mask=mask)

    # ----- checks -------------------------------------------------------------------------------------------------

    def validate(self, width: int, height: int, name: str = "prompt") -> VisualPrompt:
        """The prompt itself if it can be drawn on a width x height image; else :class:`PromptError` naming it.

        Coordinates must be finite and inside [0, width] x [0, height]; a box needs x2 > x1 and y2 > y1.
        """
        where = f"{name} ({self.kind})"
        counts = {"point": 1, "box": 2, "obb": 4}
        if self.kind not in PROMPT_KINDS:
            raise PromptError(f"{where}: unknown kind; use one of {', '.join(PROMPT_KINDS)}")
        if self.kind == "mask":
            if self.mask is None:
                raise PromptError(f"{where}: no mask given; pass an RLE mask")
            if (self.mask.height, self.mask.width) != (height, width):
                raise PromptError(
                    f"{where}: the mask is {self.mask.width}x{self.mask.height} px but the image is "
                    f"{width}x{height}; draw the mask on this image"
                )
            return self
        coords = [p for s in self.strokes for p in s] if self.kind == "scribble" else list(self.points)
        if self.kind == "scribble" and (not self.strokes or any(not s for s in self.strokes)):
            raise PromptError(f"{where}: the scribble has an empty stroke; draw at least one point per stroke")
        if self.kind in counts and len(coords) != counts[self.kind]:
            raise PromptError(f"{where}: needs {counts[self.kind]} points, got {len(coords)}")
        if self.kind == "polygon" and len(coords) < 3:
            raise PromptError(f"{where}: a polygon needs at least 3 vertices, got {len(coords)}")
        for x, y in coords:
            if not (math.isfinite(x) and math.isfinite(y)):
                raise PromptError(f"{where}: coordinate ({x}, {y}) is not a finite number")
            if not (0 <= x <= width and 0 <= y <= height):
                raise PromptError(
                    f"{where}: ({x:g}, {y:g}) is outside the {width}x{height} px image; give pixel coordinates "
                    f"inside it"
                )
        if self.kind == "box":
            (x1, y1), (x2, y2) = coords
            if not (x2 > x1 and y2 > y1):
                raise PromptError(f"{where}: the box ({x1:g}, {y1:g}, {x2:g}, {y2:g}) needs x2 > x1 and y2 > y1")
        return self

    # ----- JSON ---------------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """``{"kind": ..., "points": [[x, y], ...]}``, ``"strokes": [[[x, y], ...], ...]`` or ``"mask": RLE``."""
        if self.kind == "mask":
            assert self.mask is not None
            return {"kind": "mask", "mask": self.mask.to_dict()}
        if self.kind == "scribble":
            return {"kind": "scribble", "strokes": [[list(p) for p in s] for s in self.strokes]}
        return {"kind": self.kind, "points": [list(p) for p in self.points]}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> VisualPrompt:
        """Inverse of :meth:`to_dict`; :class:`PromptError` on an unknown kind or malformed coordinates."""
        kind = d.get("kind")
        if kind not in PROMPT_KINDS:
            raise PromptError(f"unknown prompt kind {kind!r}: expected one of {', '.join(PROMPT_KINDS)}")
        try:
            if kind == "mask":
                return VisualPrompt("mask", mask=RleMask.from_dict(d["mask"]))
            if kind == "scribble":
                return VisualPrompt.scribble(d["strokes"])
            return VisualPrompt(kind, tuple((float(x), float(y)) for x, y in d["points"]))
        except (KeyError, TypeError, ValueError) as e:
            raise PromptError(f"{kind} prompt: malformed coordinates ({e}); see VisualPrompt.to_dict") from e
