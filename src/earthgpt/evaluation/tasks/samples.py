"""Prompt builders (the paper's templates) and records -> samples, with answers as the training data writes them."""

from __future__ import annotations

from collections import Counter

from earthgpt.data.conversation import Conversation
from earthgpt.data.instructions import templates as T
from earthgpt.data.instructions.convert import InstructionOptions, detection_answer, to_conversations
from earthgpt.data.records import (
    ANY_CLASS,
    CaptionRecord,
    DetectionRecord,
    GroundingRecord,
    Record,
    SceneRecord,
    VQARecord,
)
from earthgpt.evaluation.tasks.spec import PromptBuilder, Sample, TaskSpec
from earthgpt.geometry import HBB, OBB, Box, LabeledBox
from earthgpt.geometry.order import hbb_to_obb, obb_to_hbb

__all__ = [
    "default_prompt",
    "prompt_caption",
    "prompt_classify",
    "prompt_detect_hbb",
    "prompt_detect_obb",
    "prompt_ground",
    "prompt_vqa",
    "samples_from_record",
]

# Training answers without the referring-detection session: evaluation asks the first question only.
_OPTIONS = InstructionOptions(referring=False)


def prompt_classify(record: Record, query: str = "") -> str:
    """The category-to-instruction question with the dataset's full class list."""
    cats = record.categories if isinstance(record, SceneRecord) and record.categories else ()
    return T.classify_prompt(cats or (getattr(record, "label", ""),))


def prompt_caption(record: Record, query: str = "") -> str:
    """The caption-to-instruction question."""
    return T.CAPTION


def prompt_vqa(record: Record, query: str = "") -> str:
    """The original question followed by the single-word suffix."""
    return T.vqa_prompt(query)


def prompt_ground(record: Record, query: str = "") -> str:
    """The VG-to-instruction question for the referring expression ``query``."""
    return T.GROUND.format(expression=query.strip())


def prompt_detect_hbb(record: Record, query: str = "") -> str:
    """The paper's horizontal-box detection instruction."""
    return T.DETECT_HBB


def prompt_detect_obb(record: Record, query: str = "") -> str:
    """The paper's oriented-box detection instruction."""
    return T.DETECT_OBB


def default_prompt(spec: TaskSpec) -> PromptBuilder:
    """The spec's own prompt builder, else the paper's template for its kind."""
    if spec.prompt is not None:
        return spec.prompt
    if spec.kind == "detection":
        return prompt_detect_obb if spec.box_kind == "obb" else prompt_detect_hbb
    table: dict[str, PromptBuilder] = {
        "scene": prompt_classify,
        "caption": prompt_caption,
        "vqa": prompt_vqa,
        "grounding": prompt_ground,
    }
    return table[spec.kind]


def _answers(conv: Conversation) -> list[tuple[str, str]]:
    """(question, answer) text of every round of a conversation."""
    msgs = conv.messages
    return [(msgs[i].text, msgs[i + 1].text) for i in range(0, len(msgs) - 1, 2)]


def _conversation(record: Record, task: str) -> Conversation | None:
    """The record's training conversation of the given task (None when the recipe makes none)."""
    for conv in to_conversations(record, _OPTIONS):
        if conv.task == task:
            return conv
    return None


def _vqa(spec: TaskSpec, record: VQARecord, excluded: Counter[str]) -> list[Sample]:
    conv = _conversation(record, "vqa")
    if conv is None:
        return []
    asked = [qa for qa in record.qa if qa.question.strip()]
    build = default_prompt(spec)
    out: list[Sample] = []
    for i, (qa, (_, answer)) in enumerate(zip(asked, _answers(conv), strict=True)):
        if qa.qtype in spec.exclude_qtypes:
            excluded[qa.qtype] += 1
            continue
        out.append(
            Sample(
                id=f"{record.id}#{i}",
                image=record.image,
                prompt=build(record, qa.question),
                answer=answer,
                group=qa.qtype,
                references=(answer,),
            )
        )
    return out


def _single(spec: TaskSpec, record: Record, task: str) -> Sample | None:
    """The one sample of a scene, caption, grounding or detection record."""
    conv = _conversation(record, task)
    if conv is None:
        return None
    answers = [a for _, a in _answers(conv)]
    build = default_prompt(spec)
    if isinstance(record, SceneRecord):
        prompt = build(record, "")
        return Sample(record.id, record.image, prompt, answers[0], record.label, categories=record.categories)
    if isinstance(record, CaptionRecord):
        return Sample(record.id, record.image, build(record, ""), answers[0], references=tuple(answers))
    if isinstance(record, GroundingRecord):
        prompt = build(record, record.expression)
        return Sample(record.id, record.image, prompt, answers[0], record.label, box=record.box)
    return None


def _detection(spec: TaskSpec, record: DetectionRecord, aliases: tuple[tuple[str, str], ...]) -> Sample:
    """The detection sample (also of an image without objects: its answer is empty); objects and ignored
    boxes are turned into the task's box kind (OBB -> enclosing HBB, HBB -> OBB)."""
    one = spec.one_class
    objects = tuple(LabeledBox(one or o.label, _as_kind(o.box, spec.box_kind), o.score) for o in record.objects)
    ignored = tuple(
        LabeledBox(one if one and o.label != ANY_CLASS else o.label, _as_kind(o.box, spec.box_kind))
        for o in record.ignored
    )
    categories = record.categories
    if one:  # every name of the dataset's classes, and the aliases, now names the one class
        names = {n for pair in aliases for n in pair} | set(categories) | set(spec.class_aliases)
        aliases, categories = tuple((n, one) for n in sorted(names)), (one,)
    answer = detection_answer(objects, record.image, _OPTIONS.decimals)
    prompt = default_prompt(spec)(record, "")
    return Sample(
        record.id,
        record.image,
        prompt,
        answer,
        objects=objects,
        categories=categories,
        ignored=ignored,
        aliases=aliases,
    )


def _as_kind(box: Box, kind: str) -> Box:
    if kind == "hbb" and isinstance(box, OBB):
        return obb_to_hbb(box)
    if kind == "obb" and isinstance(box, HBB):
        return hbb_to_obb(box)
    return box


_TASK_OF = {"scene": "scene", "caption": "caption", "grounding": "grounding"}
_RECORD_OF: dict[str, type] = {
    "scene": SceneRecord,
    "caption": CaptionRecord,
    "vqa": VQARecord,
    "grounding": GroundingRecord,
    "detection": DetectionRecord,
}


def samples_from_record(
    spec: TaskSpec, record: Record, excluded: Counter[str], aliases: tuple[tuple[str, str], ...] = ()
) -> list[Sample]:
    """The samples one record gives for a task (VQA: one per question; else one); records of another task
    type give none. Question types in ``spec.exclude_qtypes`` are counted in ``excluded`` instead. ``aliases``
    (detection) are the dataset's own class names -> categories, kept on the sample for label matching."""
    if spec.kind in ("referring", "region_caption", "pixel_grounding"):
        from earthgpt.evaluation.tasks.region_samples import region_samples

        return region_samples(spec, record)
    if not isinstance(record, _RECORD_OF[spec.kind]):
        return []
    if isinstance(record, VQARecord):
        return _vqa(spec, record, excluded)
    if isinstance(record, DetectionRecord):
        sample: Sample | None = _detection(spec, record, aliases)
    else:
        sample = _single(spec, record, _TASK_OF[spec.kind])
    return [sample] if sample is not None else []
