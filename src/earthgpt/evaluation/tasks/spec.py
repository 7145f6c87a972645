"""A benchmark as data: the task spec (dataset, split, prompt builder, output parser, metrics) and its samples."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from earthgpt.data.records import ImageRef, Record
from earthgpt.data.sources.base import DataRootError
from earthgpt.geometry import HBB, LabeledBox
from earthgpt.geometry.prompts import RleMask, VisualPrompt

__all__ = [
    "BoxFormat",
    "Parsed",
    "Sample",
    "TaskDataError",
    "TaskKind",
    "TaskSpec",
]

TaskKind = Literal[
    "scene", "caption", "vqa", "grounding", "detection", "referring", "region_caption", "pixel_grounding"
]
BoxFormat = Literal["earthgpt", "geochat", "falcon", "coco", "dota"]
Setting = Literal["supervised", "zero-shot", "sample"]


class TaskDataError(DataRootError):
    """A task's data is absent or unusable; the message names the directory to provide and its format."""


@dataclass(frozen=True)
class Sample:
    """One request of a task with its ground truth.

    ``answer`` is the reference answer exactly as the training conversations write it (what an oracle says).
    Boxes are in the image's pixel coordinates. ``group`` is the per-group key of the metrics: the class of a
    scene, the question type of a VQA pair, the category of a grounding target.
    """

    id: str
    image: ImageRef
    prompt: str
    answer: str
    group: str = ""
    references: tuple[str, ...] = ()
    """Every reference caption (captioning) or the accepted answer (VQA)."""
    box: HBB | None = None
    """The grounding target."""
    objects: tuple[LabeledBox, ...] = ()
    """The detection ground truth."""
    categories: tuple[str, ...] = ()
    """The class list the model is asked to choose from (scene) or to detect (detection)."""
    ignored: tuple[LabeledBox, ...] = ()
    """Detection: what AP ignores: difficult objects under their category, ignore regions (DontCare, iscrowd)
    under ``ANY_CLASS`` (''), which ignore predictions of every class (see ``metrics.detection``)."""
    aliases: tuple[tuple[str, str], ...] = ()
    """Detection: the dataset's own class names -> categories (the builder's ``label_map``)."""
    prompts: tuple[VisualPrompt, ...] = ()
    """EarthGPT-X: the visual prompts of the request (``prompts[K - 1]`` is ``<regionK>``), in image pixels."""
    labels: tuple[str, ...] = ()
    """Referring classification: the category of each region, in prompt order."""
    masks: tuple[RleMask, ...] = ()
    """Pixel grounding: the target mask of each ``<seg>`` (annotated masks only), in image pixels."""


@dataclass(frozen=True)
class ParsedBox:
    """One box read from a model's text: label, pixel box, text span and any score the text itself gave."""

    label: str
    box: Any  # HBB | OBB in pixels
    span: tuple[int, int]
    score: float | None = None


@dataclass(frozen=True)
class Parsed:
    """A model's text turned into what the metric needs.

    ``status`` is "ok", "empty" (blank text) or "unparsed" (text the parser could not read). ``value`` is the
    class or answer string (scene, VQA), the caption (caption), a pixel HBB or None (grounding), or a tuple of
    :class:`ParsedBox` (detection). ``dropped`` counts boxes thrown away as invalid (NaN, out of range, empty).
    """

    status: Literal["ok", "empty", "unparsed"]
    value: Any
    dropped: int = 0
    converted: int = 0
    """Boxes given in the other kind (HBB for an OBB task or the reverse), converted."""
    notes: tuple[str, ...] = ()


PromptBuilder = Callable[[Record, str], str]
"""(record, query) -> the user prompt; ``query`` is the VQA question or grounding expression ('' otherwise)."""
OutputParser = Callable[[str, Sample, BoxFormat], Parsed]
"""(model text, sample, box format) -> Parsed."""


@dataclass(frozen=True)
class TaskSpec:
    """One benchmark: where its data is, how it is asked, how answers are read and scored.

    ``data_dir`` is the task's folder below the evaluation data root; it is passed as ``root`` to the source
    ``source`` (see ``earthgpt.data.sources``) with ``split`` and ``options``. ``prompt`` and ``parser`` default
    to the paper's instruction templates and the EarthGPT answer formats for the task's ``kind``.
    """

    name: str
    kind: TaskKind
    source: str
    split: str
    data_dir: str
    title: str
    options: Mapping[str, Any] = field(default_factory=dict)
    box_kind: Literal["hbb", "obb"] = "hbb"
    """Detection only: ask for (and score) horizontal or oriented boxes."""
    exclude_qtypes: tuple[str, ...] = ()
    """VQA only: question types left out of the task (e.g. counting on RSVQA-HR, as the paper does)."""
    vqa_match: Literal["strict", "normalized"] = "strict"
    """VQA only: how answers are compared (``metrics.vqa``); strict is RSVQA's rule and the paper's protocol."""
    metrics: tuple[str, ...] = ()
    """The headline metric keys, in the column order of the paper's table."""
    table: str = ""
    """The paper's table this task reproduces, e.g. "Tab. II"; '' for tasks over local sample data."""
    setting: Setting = "supervised"
    paper: Mapping[str, float] = field(default_factory=dict)
    """EarthGPT's numbers as the paper reports them, by metric key."""
    expects: str = ""
    """What ``data_dir`` must hold, in words (used in the error when it is absent)."""
    tile: int | None = None
    """Detection only: cut images larger than this many pixels into tiles as the training data does (the build's
    default tiling: 200 px overlap, objects kept when 70% visible); None keeps images whole."""
    one_class: str = ""
    """Detection only: score every object as this one class (the paper's MAR20 tables: "airplane"). A predicted
    label counts as it when it names the class, any of the dataset's own classes (a fine-grained type) or one of
    ``class_aliases``; '' keeps the dataset's classes."""
    class_aliases: tuple[str, ...] = ()
    """Detection with ``one_class``: other names of that class (e.g. DOTA's "plane")."""
    prompt_kind: str = "box"
    """Referring classification and region captioning: how each region is shown ("box", "point" sampled inside
    the object, "scribble" drawn inside it; see ``data.instructions.regions.region_prompt``, seeded by sample id)."""
    iou_thresholds: tuple[float, ...] = (0.4, 0.5)
    """Detection only: IoU thresholds of the AP columns (the paper reports AP@40 and AP@50)."""
    prompt: PromptBuilder | None = None
    parser: OutputParser | None = None

    @property
    def headline(self) -> str:
        """The one metric that sums the task up: top-1, OA, CIDEr, mIoU or AP at the highest IoU threshold."""
        if self.kind == "detection":
            return f"AP@{round(max(self.iou_thresholds) * 100)}"
        table = {"scene": "top1", "vqa": "OA", "caption": "CIDEr", "grounding": "mIoU", "referring": "SS"}
        return {**table, "region_caption": "CIDEr", "pixel_grounding": "gIoU"}[self.kind]

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary of the spec (what the report and the exports print)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "title": self.title,
            "source": self.source,
            "split": self.split,
            "options": dict(self.options),
            "data_dir": self.data_dir,
            "box_kind": self.box_kind if self.kind == "detection" else None,
            "exclude_qtypes": list(self.exclude_qtypes),
            "vqa_match": self.vqa_match if self.kind == "vqa" else None,
            "tile": self.tile,
            "prompt_kind": self.prompt_kind if self.kind in ("referring", "region_caption") else None,
            "one_class": self.one_class or None,
            "metrics": list(self.metrics),
            "table": self.table,
            "setting": self.setting,
            "paper": dict(self.paper),
        }
