"""Records -> conversations: category-, caption-, VQA-, detection- and VG-to-instruction (paper Section IV)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from earthgpt.data.conversation import Conversation, Message
from earthgpt.data.instructions import templates as T
from earthgpt.data.records import (
    CaptionRecord,
    DetectionRecord,
    GroundingRecord,
    ImageRef,
    Record,
    RegionCaptionRecord,
    SceneRecord,
    VQARecord,
)
from earthgpt.geometry import HBB, OBB, Box, LabeledBox, clip_box
from earthgpt.geometry.codec import format_box, format_boxes
from earthgpt.geometry.normalize import normalize
from earthgpt.geometry.order import obb_to_hbb, order_obb


@dataclass(frozen=True)
class InstructionOptions:
    """How records become conversations."""

    decimals: int = 3
    """Decimal places of normalised box coordinates in the text."""
    referring: bool = True
    """Add the referring-detection session: one round per category present ("detect all <category>")."""
    hbb_from_obb: bool = False
    """For OBB records, also emit an HBB detection conversation from the enclosing boxes."""
    paraphrase_seed: int | None = None
    """None: the paper's strings only. An int: a seeded choice among paraphrases, per conversation."""
    max_objects: int | None = None
    """Cap on the boxes of one detection answer: the first ``max_objects`` in reading order are kept (a dense DOTA
    tile holds ~300). None (the paper's recipe): every box."""
    x_tasks: tuple[str, ...] = ()
    """EarthGPT-X conversations to add (``earthgpt.data.instructions.regions.X_TASKS``, each also the
    conversations' task name): "region_classification", "region_description", "region_relation",
    "pixel_grounding", "zoom". Empty (the default): the paper's recipe only."""
    x_regions: int = 3
    """Most ``<regionK>`` prompts of one referring-classification conversation."""
    max_rounds: int | None = None
    """Most question-answer rounds of one VQA or caption conversation: a record with more (an RSVQA image has about
    100 questions) becomes several conversations of at most this many rounds, each opening with the image (ids
    ``<id>:vqa``, ``<id>:vqa.1``, ...), so that each fits a training length instead of being refused whole. None
    (the paper's recipe): one conversation per image."""
    x_seed: int = 0
    """Seed of the region choices (which objects, prompt kinds, sampled points and scribbles); the build sets it
    from its ``seed``."""

    def __post_init__(self) -> None:
        from earthgpt.data.instructions.regions import X_TASKS

        object.__setattr__(self, "x_tasks", tuple(self.x_tasks))
        unknown = [t for t in self.x_tasks if t not in X_TASKS]
        if unknown:
            raise ValueError(f"instructions.x_tasks: unknown {unknown}; choose from {list(X_TASKS)}")
        if isinstance(self.x_regions, bool) or not isinstance(self.x_regions, int) or self.x_regions < 1:
            raise ValueError(f"instructions.x_regions must be an integer >= 1, got {self.x_regions!r}")
        for name in ("max_objects", "max_rounds"):
            self._check_cap(name)
        if not isinstance(self.decimals, int) or isinstance(self.decimals, bool) or self.decimals < 0:
            raise ValueError(f"instructions.decimals must be an integer >= 0, got {self.decimals!r}")

    def _check_cap(self, name: str) -> None:
        value = getattr(self, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"instructions.{name} must be an integer >= 1 or null, got {value!r}")


def _rng(opts: InstructionOptions, key: str) -> random.Random | None:
    return None if opts.paraphrase_seed is None else random.Random(f"{opts.paraphrase_seed}:{key}")


def _rounds(
    cid: str, record: Record, pairs: Sequence[tuple[str, str]], task: str, meta: dict | None = None
) -> Conversation:
    """A multi-round conversation: the image goes with the first question only."""
    messages: list[Message] = []
    for i, (question, answer) in enumerate(pairs):
        image: ImageRef | None = record.image if i == 0 else None
        messages += [Message.user(question, image), Message.assistant(answer)]
    return Conversation(id=cid, messages=tuple(messages), task=task, source=record.source, meta=meta or {})


def _chunks(
    cid: str, pairs: Sequence[tuple[str, str]], most: int | None
) -> list[tuple[str, Sequence[tuple[str, str]]]]:
    """``pairs`` cut into runs of at most ``most`` rounds (all of them when None), with their conversation ids: the
    first keeps ``cid`` (a record that fits is unchanged), the k-th (k >= 1) is ``cid.k``."""
    step = most or max(len(pairs), 1)
    return [(cid if k == 0 else f"{cid}.{k}", pairs[i : i + step]) for k, i in enumerate(range(0, len(pairs), step))]


def _unique(items: Sequence[str]) -> list[str]:
    """Drop empty strings and repeats (after whitespace folding), keeping the first occurrence's order."""
    seen: set[str] = set()
    out: list[str] = []
    for s in items:
        text = " ".join(s.split())
        key = text.lower().rstrip(" .")
        if text and key not in seen:
            seen.add(key)
            out.append(text)
    return out


def _in_image(box: Box, image: ImageRef) -> Box | None:
    """The pixel box clipped to its image (``clip_box``), or None when no area of it is left inside. A box out by
    float noise only (well below what the written decimals show) is kept as is: the box codec clamps it."""
    tol = 0.5e-9 * max(image.width, image.height)
    coords = box.as_tuple()
    if not all(math.isfinite(v) for v in coords):
        raise ValueError(f"{box} has a non-finite coordinate: a source must skip it (reason nan_coordinate)")
    xs, ys = coords[0::2], coords[1::2]
    if min(xs) >= -tol and min(ys) >= -tol and max(xs) <= image.width + tol and max(ys) <= image.height + tol:
        return box if box.area > 0 else None
    clipped = clip_box(box, image.width, image.height)
    return clipped if clipped.area > 0 else None


def _normalised_box(box: Box, image: ImageRef) -> Box | None:
    """A pixel box clipped to its image and normalised (OBB corners in the paper's order); None if outside."""
    clipped = _in_image(box, image)
    if clipped is None:
        return None
    out = normalize(clipped, image.width, image.height)
    return order_obb(out.points) if isinstance(out, OBB) else out


def _reading_order(boxes: Sequence[LabeledBox]) -> list[LabeledBox]:
    """Objects sorted top-to-bottom, then left-to-right, by their top-left extent: a stable target order."""

    def key(b: LabeledBox) -> tuple[float, float, str]:
        h = b.box if isinstance(b.box, HBB) else obb_to_hbb(b.box)
        return (round(h.y1, 6), round(h.x1, 6), b.label)

    return sorted(boxes, key=key)


def detection_boxes(objects: Sequence[LabeledBox], image: ImageRef, max_objects: int | None = None) -> list[LabeledBox]:
    """The boxes a detection answer writes: clipped to the image (an object with no area inside it is left out),
    normalised, OBB corners in the paper's order, in reading order, the first ``max_objects`` of them (None: all)."""
    boxes: list[LabeledBox] = []
    for o in objects:
        box = _normalised_box(o.box, image)
        if box is not None:
            boxes.append(LabeledBox(o.label, box))
    return _reading_order(boxes)[:max_objects]


def detection_answer(
    objects: Sequence[LabeledBox], image: ImageRef, decimals: int = 3, max_objects: int | None = None
) -> str:
    """The assistant's answer for detection: the :func:`detection_boxes` in the box text form."""
    return format_boxes(detection_boxes(objects, image, max_objects), decimals=decimals)


def _detection(record: DetectionRecord, opts: InstructionOptions) -> list[Conversation]:
    """The detection conversation (and the referring session) of each box kind; ``meta["objects"]`` holds the
    number of boxes when ``max_objects`` left some out of an answer."""
    if not record.objects:
        return []
    kind: Literal["hbb", "obb"] = "obb" if isinstance(record.objects[0].box, OBB) else "hbb"
    variants: list[tuple[Literal["hbb", "obb"], list[LabeledBox]]] = [(kind, list(record.objects))]
    if kind == "obb" and opts.hbb_from_obb:
        hbbs = [LabeledBox(o.label, obb_to_hbb(o.box)) for o in record.objects if isinstance(o.box, OBB)]
        variants.append(("hbb", hbbs))
    cap = opts.max_objects
    out: list[Conversation] = []
    for k, objects in variants:
        boxes = detection_boxes(objects, record.image)  # every box, in reading order; capped per answer below
        if not boxes:
            continue
        meta = {"objects": len(boxes)} if cap is not None and len(boxes) > cap else {}
        q = T.pick(T.DETECT_OBB if k == "obb" else T.DETECT_HBB, _rng(opts, f"{record.id}:{k}"))
        answer = format_boxes(boxes[:cap], decimals=opts.decimals)
        out.append(_rounds(f"{record.id}:det_{k}", record, [(q, answer)], f"detection_{k}", meta))
        if opts.referring:
            template = T.DETECT_CATEGORY_OBB if k == "obb" else T.DETECT_CATEGORY_HBB
            pairs = [
                (
                    template.format(category=label),
                    format_boxes([b for b in boxes if b.label == label][:cap], opts.decimals),
                )
                for label in sorted({b.label for b in boxes})
            ]
            out.append(_rounds(f"{record.id}:ref_{k}", record, pairs, f"referring_{k}", meta))
    return out


def to_conversations(record: Record, opts: InstructionOptions | None = None) -> list[Conversation]:
    """All conversations the recipe makes from one record (possibly none, e.g. no captions left)."""
    return conversations_and_skips(record, opts)[0]


def conversations_and_skips(
    record: Record, opts: InstructionOptions | None = None
) -> tuple[list[Conversation], list[tuple[str, str]]]:
    """The paper's conversations of one record, then the EarthGPT-X ones of ``opts.x_tasks``, and the (reason,
    detail) of every object the X conversions left out (a bad mask, a point outside its mask)."""
    opts = opts or InstructionOptions()
    convs = _paper_conversations(record, opts)
    if not opts.x_tasks:
        return convs, []
    from earthgpt.data.instructions.regions import x_conversations

    more, skips = x_conversations(record, opts)
    return convs + more, skips


def _paper_conversations(record: Record, opts: InstructionOptions) -> list[Conversation]:
    """The paper's recipe (Section IV)."""
    rng = _rng(opts, record.id)
    if isinstance(record, SceneRecord):
        q = T.classify_prompt(record.categories or (record.label,))
        return [_rounds(f"{record.id}:cls", record, [(q, record.label)], "scene")]
    if isinstance(record, CaptionRecord):
        caps = _unique(record.captions)
        if not caps:
            return []
        pairs = [(T.pick(T.CAPTION, rng), c) for c in caps]
        return [
            _rounds(cid, record, part, "caption") for cid, part in _chunks(f"{record.id}:cap", pairs, opts.max_rounds)
        ]
    if isinstance(record, VQARecord):
        pairs = [(T.vqa_prompt(qa.question), qa.answer.strip()) for qa in record.qa if qa.question.strip()]
        if not pairs:
            return []
        qtypes = [qa.qtype for qa in record.qa if qa.question.strip()]
        step = opts.max_rounds or len(pairs)
        return [
            _rounds(cid, record, part, "vqa", {"qtypes": qtypes[k * step : (k + 1) * step]})
            for k, (cid, part) in enumerate(_chunks(f"{record.id}:vqa", pairs, opts.max_rounds))
        ]
    if isinstance(record, DetectionRecord):
        return _detection(record, opts)
    if isinstance(record, (GroundingRecord, RegionCaptionRecord)):
        return _region(record, opts)
    raise TypeError(f"no instruction conversion for {type(record).__name__}")


def _region(record: GroundingRecord | RegionCaptionRecord, opts: InstructionOptions) -> list[Conversation]:
    """Visual grounding (expression -> box) or region captioning (box -> caption); none for a box outside the
    image."""
    normalised = _normalised_box(record.box, record.image)
    if normalised is None:
        return []
    box = format_box(normalised, opts.decimals)
    if isinstance(record, GroundingRecord):
        q = T.GROUND.format(expression=record.expression.strip())
        return [_rounds(f"{record.id}:vg", record, [(q, box)], "grounding")]
    q = T.REGION_CAPTION.format(box=box)
    return [_rounds(f"{record.id}:region", record, [(q, record.caption.strip())], "region_caption")]
