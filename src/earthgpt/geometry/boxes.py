"""The two box types (horizontal HBB, oriented OBB) and a labelled box."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

BoxKind: TypeAlias = Literal["hbb", "obb"]
"""Which box type a task, source or reader deals in: horizontal or oriented."""


@dataclass(frozen=True)
class HBB:
    """A horizontal box [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2, in pixels or in normalised units."""

    x1: float
    y1: float
    x2: float
    y2: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)


@dataclass(frozen=True)
class OBB:
    """An oriented box as four corners (x1, y1, ..., x4, y4), in pixels or in normalised units."""

    points: tuple[float, float, float, float, float, float, float, float]

    def as_tuple(self) -> tuple[float, ...]:
        return tuple(self.points)

    def corners(self) -> list[tuple[float, float]]:
        p = self.points
        return [(p[0], p[1]), (p[2], p[3]), (p[4], p[5]), (p[6], p[7])]

    @property
    def area(self) -> float:
        """Shoelace area of the quadrilateral."""
        c = self.corners()
        s = 0.0
        for i in range(4):
            x0, y0 = c[i]
            x1, y1 = c[(i + 1) % 4]
            s += x0 * y1 - x1 * y0
        return abs(s) / 2.0


Box: TypeAlias = HBB | OBB


@dataclass(frozen=True)
class LabeledBox:
    """A box with its category name and, for predictions, an optional confidence score."""

    label: str
    box: Box
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        kind = "hbb" if isinstance(self.box, HBB) else "obb"
        out: dict[str, Any] = {"label": self.label, "kind": kind, "coords": list(self.box.as_tuple())}
        if self.score is not None:
            out["score"] = self.score
        return out

    @staticmethod
    def from_dict(d: dict[str, Any]) -> LabeledBox:
        coords = [float(v) for v in d["coords"]]
        box: Box
        if d["kind"] == "hbb":
            box = HBB(*coords)
        elif d["kind"] == "obb":
            if len(coords) != 8:
                raise ValueError(f"an OBB needs 8 coordinates, got {len(coords)}")
            box = OBB(tuple(coords))  # type: ignore[arg-type]
        else:
            raise ValueError(f"unknown box kind {d['kind']!r}: expected 'hbb' or 'obb'")
        return LabeledBox(label=str(d["label"]), box=box, score=d.get("score"))
