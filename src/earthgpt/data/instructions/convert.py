"""Records -> conversations: category-, caption-, VQA-, detection- and VG-to-instruction (paper Section IV)."""

from __future__ import annotations

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
from earthgpt.geometry import HBB, OBB, LabeledBox
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


def _normalised(obj: LabeledBox, image: ImageRef) -> LabeledBox:
    box = normalize(obj.box, image.width, image.height)
    if isinstance(box, OBB):
        box = order_obb(box.points)
    return LabeledBox(obj.label, box)


def _reading_order(boxes: Sequence[LabeledBox]) -> list[LabeledBox]:
    """Objects sorted top-to-bottom, then left-to-right, by their top-left extent: a stable target order."""

    def key(b: LabeledBox) -> tuple[float, float, str]:
        h = b.box if isinstance(b.box, HBB) else obb_to_hbb(b.box)
        return (round(h.y1, 6), round(h.x1, 6), b.label)

    return sorted(boxes, key=key)


def detection_answer(objects: Sequence[LabeledBox], image: ImageRef, decimals: int = 3) -> str:
    """The assistant's answer for detection: normalised, paper-ordered, in reading order, in the box text form."""
    return format_boxes(_reading_order([_normalised(o, image) for o in objects]), decimals=decimals)


def _detection(record: DetectionRecord, opts: InstructionOptions) -> list[Conversation]:
    if not record.objects:
        return []
    kind: Literal["hbb", "obb"] = "obb" if isinstance(record.objects[0].box, OBB) else "hbb"
    variants: list[tuple[Literal["hbb", "obb"], list[LabeledBox]]] = [(kind, list(record.objects))]
    if kind == "obb" and opts.hbb_from_obb:
        hbbs = [LabeledBox(o.label, obb_to_hbb(o.box)) for o in record.objects if isinstance(o.box, OBB)]
        variants.append(("hbb", hbbs))
    out: list[Conversation] = []
    for k, objects in variants:
        question = T.DETECT_OBB if k == "obb" else T.DETECT_HBB
        answer = detection_answer(objects, record.image, opts.decimals)
        q = T.pick(question, _rng(opts, f"{record.id}:{k}"))
        out.append(_rounds(f"{record.id}:det_{k}", record, [(q, answer)], f"detection_{k}"))
        if opts.referring:
            template = T.DETECT_CATEGORY_OBB if k == "obb" else T.DETECT_CATEGORY_HBB
            labels = sorted({o.label for o in objects})
            pairs = [
                (
                    template.format(category=label),
                    detection_answer([o for o in objects if o.label == label], record.image, opts.decimals),
                )
                for label in labels
            ]
            out.append(_rounds(f"{record.id}:ref_{k}", record, pairs, f"referring_{k}"))
    return out


def to_conversations(record: Record, opts: InstructionOptions | None = None) -> list[Conversation]:
    """All conversations the paper's recipe makes from one record (possibly none, e.g. no captions left)."""
    opts = opts or InstructionOptions()
    rng = _rng(opts, record.id)
    if isinstance(record, SceneRecord):
        q = T.classify_prompt(record.categories or (record.label,))
        return [_rounds(f"{record.id}:cls", record, [(q, record.label)], "scene")]
    if isinstance(record, CaptionRecord):
        caps = _unique(record.captions)
        if not caps:
            return []
        pairs = [(T.pick(T.CAPTION, rng), c) for c in caps]
        return [_rounds(f"{record.id}:cap", record, pairs, "caption")]
    if isinstance(record, VQARecord):
        pairs = [(T.vqa_prompt(qa.question), qa.answer.strip()) for qa in record.qa if qa.question.strip()]
        if not pairs:
            return []
        qtypes = [qa.qtype for qa in record.qa if qa.question.strip()]
        return [_rounds(f"{record.id}:vqa", record, pairs, "vqa", {"qtypes": qtypes})]
    if isinstance(record, DetectionRecord):
        return _detection(record, opts)
    if isinstance(record, GroundingRecord):
        box = format_box(normalize(record.box, record.image.width, record.image.height), opts.decimals)
        q = T.GROUND.format(expression=record.expression.strip())
        return [_rounds(f"{record.id}:vg", record, [(q, box)], "grounding")]
    if isinstance(record, RegionCaptionRecord):
        box = format_box(normalize(record.box, record.image.width, record.image.height), opts.decimals)
        q = T.REGION_CAPTION.format(box=box)
        return [_rounds(f"{record.id}:region", record, [(q, record.caption.strip())], "region_caption")]
    raise TypeError(f"no instruction conversion for {type(record).__name__}")
