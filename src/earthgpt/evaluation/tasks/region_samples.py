"""EarthGPT-X samples: referring classification and region captions with visual prompts, pixel grounding with masks.

The questions and answers are the training conversions' own (``data.instructions.regions``), so an oracle that
repeats ``Sample.answer`` (and ``Sample.masks``) scores 100. The prompt of a sample is drawn by the task's
``prompt_kind`` with a generator seeded by the sample id: the same points and scribbles on every run.
"""

from __future__ import annotations

import random

from earthgpt.data.instructions import templates as T
from earthgpt.data.instructions.regions import Target, refer_answer, region_names, region_prompt, targets_of
from earthgpt.data.masks import union_mask
from earthgpt.data.records import DetectionRecord, GroundingRecord, Record, RegionCaptionRecord
from earthgpt.evaluation.tasks.spec import Sample, TaskSpec
from earthgpt.geometry.prompts import region_name

__all__ = ["SEED", "region_samples"]

SEED = 0
"""The seed of the benchmark prompts (with the sample id)."""


def _prompt(spec: TaskSpec, record: Record, target: Target) -> Sample | None:
    """The referring or region-caption sample of one DIOR-RSVG expression."""
    rng = random.Random(f"{SEED}:{record.id}:{spec.prompt_kind}")
    prompt = region_prompt(target, spec.prompt_kind, record.image, rng)
    if spec.kind == "referring":
        question = T.REFER.format(regions=region_names(1))
        answer = refer_answer([target.label])
        return Sample(
            record.id, record.image, question, answer, target.label, prompts=(prompt,), labels=(target.label,)
        )
    question = T.REGION_DESCRIBE.format(region=region_name(0))
    return Sample(
        record.id,
        record.image,
        question,
        target.expression,
        target.label,
        references=(target.expression,),
        prompts=(prompt,),
    )


def _segment(record: DetectionRecord) -> list[Sample]:
    """One sample per class of the image: "segment every <class>" -> the union of its annotated masks. A class
    with an object lacking an annotated mask gives none (benchmarks use annotated masks only)."""
    out: list[Sample] = []
    targets = targets_of(record)
    for label in sorted({t.label for t in targets}):
        masks = [t.mask for t in targets if t.label == label]
        if any(m is None for m in masks):
            continue
        question = T.SEGMENT_CLASS.format(label=label)
        union = union_mask([m for m in masks if m is not None])
        sid = f"{record.id}#{label}"
        out.append(Sample(sid, record.image, question, T.SEGMENT_ANSWER, label, masks=(union,)))
    return out


def region_samples(spec: TaskSpec, record: Record) -> list[Sample]:
    """The samples of a referring, region-caption or pixel-grounding task from one record (none from a record of
    another type). ``MaskError`` (a prompt that cannot be drawn inside its object) propagates: the loader counts it
    as a skip under its reason."""
    if spec.kind == "pixel_grounding":
        return _segment(record) if isinstance(record, DetectionRecord) else []
    wanted = GroundingRecord if spec.kind == "referring" else RegionCaptionRecord
    if not isinstance(record, wanted):
        return []
    targets = targets_of(record)
    sample = (
        _prompt(spec, record, targets[0]) if targets and (spec.kind == "referring" or targets[0].expression) else None
    )
    return [sample] if sample is not None else []
