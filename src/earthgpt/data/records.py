"""Typed records: one per annotated image and task, in the image's own pixel coordinates."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from earthgpt.geometry import HBB, LabeledBox
from earthgpt.geometry.prompts import RleMask

Modality = Literal["optical", "sar", "infrared"]
ANY_CLASS = ""
"""The label of an ignore region in ``DetectionRecord.ignored``: it ignores predictions of every class."""
MODALITIES: tuple[str, ...] = get_args(Modality)


@dataclass(frozen=True)
class Tile:
    """The window of a larger source image that a record covers: offset and size in source pixels.

    ``scale`` is output pixels per source pixel (1.0 when the tile is not resized).
    """

    x: int
    y: int
    width: int
    height: int
    scale: float = 1.0
    source_width: int = 0
    source_height: int = 0


@dataclass(frozen=True)
class ImageRef:
    """Where an image is and what it is.

    ``path`` is relative to the data root given to the builder (or absolute); ``width``/``height`` are the pixel size
    of what the model sees (the tile, if ``tile`` is set). ``bands`` and ``dtype`` describe the raster as stored:
    16-bit and multi-band rasters keep their original values and are stretched to 8-bit only at the model input.
    """

    path: str
    width: int
    height: int
    modality: Modality = "optical"
    sensor: str = ""
    bands: int = 3
    dtype: str = "uint8"
    tile: Tile | None = None

    def resolve(self, root: str | Path | None) -> Path:
        p = Path(self.path)
        if p.is_absolute() or root is None:
            return p
        return Path(root) / p

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "path": self.path,
            "width": self.width,
            "height": self.height,
            "modality": self.modality,
            "sensor": self.sensor,
            "bands": self.bands,
            "dtype": self.dtype,
        }
        if self.tile is not None:
            d["tile"] = self.tile.__dict__.copy()
        return d

    @staticmethod
    def from_dict(d: dict[str, Any]) -> ImageRef:
        modality = d.get("modality", "optical")
        if modality not in MODALITIES:
            raise ValueError(f"unknown modality {modality!r}: expected one of {MODALITIES}")
        tile = Tile(**d["tile"]) if d.get("tile") else None
        return ImageRef(
            path=str(d["path"]),
            width=int(d["width"]),
            height=int(d["height"]),
            modality=modality,
            sensor=str(d.get("sensor", "")),
            bands=int(d.get("bands", 3)),
            dtype=str(d.get("dtype", "uint8")),
            tile=tile,
        )


@dataclass(frozen=True)
class QAPair:
    """One question with its answer; ``qtype`` is the dataset's question type (e.g. RSVQA 'presence')."""

    question: str
    answer: str
    qtype: str = ""


@dataclass(frozen=True)
class _Base:
    id: str
    source: str
    split: str
    image: ImageRef


@dataclass(frozen=True)
class SceneRecord(_Base):
    """Scene (or object-level) classification: one label out of the dataset's category list."""

    label: str = ""
    categories: tuple[str, ...] = ()
    task: Literal["scene"] = field(default="scene", init=False)


@dataclass(frozen=True)
class CaptionRecord(_Base):
    """Image captioning: every reference caption of one image."""

    captions: tuple[str, ...] = ()
    task: Literal["caption"] = field(default="caption", init=False)


@dataclass(frozen=True)
class VQARecord(_Base):
    """Visual question answering: every question-answer pair of one image."""

    qa: tuple[QAPair, ...] = ()
    task: Literal["vqa"] = field(default="vqa", init=False)


@dataclass(frozen=True)
class DetectionRecord(_Base):
    """Object detection: every object of one image as labelled HBB or OBB boxes in pixel coordinates."""

    objects: tuple[LabeledBox, ...] = ()
    categories: tuple[str, ...] = ()
    ignored: tuple[LabeledBox, ...] = ()
    """What a benchmark ignores (filled only when a source reads for scoring, ``DetectionSource.for_scoring``):
    ``difficult`` objects under their category, and ignore regions (DontCare, iscrowd) under ``ANY_CLASS``.
    Predictions matching them count neither as true nor as false positives."""
    masks: tuple[RleMask | None, ...] = ()
    """The pixel mask of each object (``masks[i]`` belongs to ``objects[i]``; None: that object has none), in the
    image's pixels; empty when the source has no masks. Only real annotated masks: a box is never stored here."""
    task: Literal["detection"] = field(default="detection", init=False)

    def __post_init__(self) -> None:
        if self.masks and len(self.masks) != len(self.objects):
            raise ValueError(f"record {self.id}: {len(self.masks)} masks for {len(self.objects)} objects; one each")


@dataclass(frozen=True)
class GroundingRecord(_Base):
    """Visual grounding: a referring expression and the one box it describes (pixels)."""

    expression: str = ""
    box: HBB = HBB(0, 0, 0, 0)
    label: str = ""
    task: Literal["grounding"] = field(default="grounding", init=False)


@dataclass(frozen=True)
class RegionCaptionRecord(_Base):
    """Region-level captioning: a box (pixels) and a description of what it holds."""

    box: HBB = HBB(0, 0, 0, 0)
    caption: str = ""
    label: str = ""
    task: Literal["region_caption"] = field(default="region_caption", init=False)


Record = SceneRecord | CaptionRecord | VQARecord | DetectionRecord | GroundingRecord | RegionCaptionRecord
TASKS: tuple[str, ...] = ("scene", "caption", "vqa", "detection", "grounding", "region_caption")


def record_to_dict(record: Record) -> dict[str, Any]:
    """A JSON-ready dict with a ``task`` discriminator."""
    d: dict[str, Any] = {
        "task": record.task,
        "id": record.id,
        "source": record.source,
        "split": record.split,
        "image": record.image.to_dict(),
    }
    if isinstance(record, SceneRecord):
        d.update(label=record.label, categories=list(record.categories))
    elif isinstance(record, CaptionRecord):
        d.update(captions=list(record.captions))
    elif isinstance(record, VQARecord):
        d.update(qa=[{"question": q.question, "answer": q.answer, "qtype": q.qtype} for q in record.qa])
    elif isinstance(record, DetectionRecord):
        d.update(objects=[o.to_dict() for o in record.objects], categories=list(record.categories))
        if record.ignored:
            d["ignored"] = [o.to_dict() for o in record.ignored]
        if record.masks:
            d["masks"] = [m.to_dict() if m is not None else None for m in record.masks]
    elif isinstance(record, GroundingRecord):
        d.update(expression=record.expression, box=list(record.box.as_tuple()), label=record.label)
    else:
        d.update(box=list(record.box.as_tuple()), caption=record.caption, label=record.label)
    return d


def record_from_dict(d: dict[str, Any]) -> Record:
    """Inverse of :func:`record_to_dict`; raises ``ValueError`` naming the unknown task."""
    base: dict[str, Any] = {
        "id": str(d["id"]),
        "source": str(d["source"]),
        "split": str(d["split"]),
        "image": ImageRef.from_dict(d["image"]),
    }
    task = d.get("task")
    if task == "scene":
        return SceneRecord(**base, label=d["label"], categories=tuple(d.get("categories", ())))
    if task == "caption":
        return CaptionRecord(**base, captions=tuple(d["captions"]))
    if task == "vqa":
        return VQARecord(**base, qa=tuple(QAPair(**q) for q in d["qa"]))
    if task == "detection":
        objs = tuple(LabeledBox.from_dict(o) for o in d["objects"])
        ignored = tuple(LabeledBox.from_dict(o) for o in d.get("ignored", ()))
        masks = tuple(RleMask.from_dict(m) if m is not None else None for m in d.get("masks", ()))
        return DetectionRecord(
            **base, objects=objs, categories=tuple(d.get("categories", ())), ignored=ignored, masks=masks
        )
    if task == "grounding":
        return GroundingRecord(**base, expression=d["expression"], box=HBB(*d["box"]), label=d.get("label", ""))
    if task == "region_caption":
        return RegionCaptionRecord(**base, box=HBB(*d["box"]), caption=d["caption"], label=d.get("label", ""))
    raise ValueError(f"unknown record task {task!r}: expected one of {TASKS}")
