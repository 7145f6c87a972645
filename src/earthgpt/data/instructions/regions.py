"""EarthGPT-X conversions: region classification, description and relations, pixel grounding, zoom sessions.

Records -> conversations with visual prompts (``Conversation.prompts``, named ``<regionK>`` in the user text) and
``<seg>`` mask targets (``Conversation.masks``), all in the pixels of the record's image. Every random choice
(which objects, which prompt kind, the sampled point or scribble) comes from a ``random.Random`` seeded with
``InstructionOptions.x_seed``, the record id and the task, so a build is deterministic given its seed.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from earthgpt.data.conversation import Conversation, Message
from earthgpt.data.instructions import templates as T
from earthgpt.data.instructions.region_text import describe, relation
from earthgpt.data.masks import (
    MaskError,
    box_mask,
    hbb_of,
    mask_pixels,
    point_in_mask,
    sample_point,
    sample_scribble,
    union_mask,
)
from earthgpt.data.records import DetectionRecord, GroundingRecord, ImageRef, Record, RegionCaptionRecord
from earthgpt.geometry import HBB, OBB, Box
from earthgpt.geometry.masks import mask_obb
from earthgpt.geometry.prompts import RleMask, VisualPrompt, region_name

if TYPE_CHECKING:
    from earthgpt.data.instructions.convert import InstructionOptions

__all__ = ["REGION_PROMPT_KINDS", "X_TASKS", "Target", "region_names", "region_prompt", "targets_of", "x_conversations"]

X_TASKS: tuple[str, ...] = ("region_classification", "region_description", "region_relation", "pixel_grounding", "zoom")
REGION_PROMPT_KINDS: tuple[str, ...] = ("box", "obb", "point", "scribble")
Skips = list[tuple[str, str]]


@dataclass(frozen=True)
class Target:
    """One object a region conversation is about: its label, box and (where annotated) mask, in image pixels."""

    label: str
    box: Box
    mask: RleMask | None = None
    expression: str = ""
    """The dataset's own referring expression (DIOR-RSVG), '' elsewhere."""

    @property
    def area(self) -> float:
        """Mask pixels where there is a mask, else the box's area."""
        if self.mask is not None:
            return float(mask_pixels(self.mask)[0].size)
        return float(self.box.area)

    def kinds(self) -> tuple[str, ...]:
        """The prompt kinds this object can be shown by: an OBB only from an oriented box or a mask."""
        oriented = isinstance(self.box, OBB) or self.mask is not None
        return tuple(k for k in REGION_PROMPT_KINDS if k != "obb" or oriented)


def targets_of(record: Record) -> list[Target]:
    """The objects of a detection record (with their masks), or the one object of a grounding/region record."""
    if isinstance(record, DetectionRecord):
        masks = record.masks or (None,) * len(record.objects)
        return [Target(o.label, o.box, m) for o, m in zip(record.objects, masks, strict=True) if o.box.area > 0]
    if isinstance(record, GroundingRecord):
        return [Target(record.label, record.box, None, record.expression.strip())]
    if isinstance(record, RegionCaptionRecord):
        return [Target(record.label, record.box, None, record.caption.strip())]
    return []


def _clamp(points: Sequence[tuple[float, float]], image: ImageRef) -> tuple[tuple[float, float], ...]:
    """Points moved into the image (an OBB corner may lie outside it, a prompt may not)."""
    return tuple((min(max(x, 0.0), float(image.width)), min(max(y, 0.0), float(image.height))) for x, y in points)


def region_prompt(target: Target, kind: str, image: ImageRef, rng: random.Random) -> VisualPrompt:
    """The prompt of ``kind`` showing ``target``: its box, its oriented box, a point sampled inside its mask (the
    middle half of its box without one), or a scribble drawn inside it. MaskError ``point_outside_mask`` if a point
    is not inside the object's mask."""
    if kind == "box":
        h = hbb_of(target.box)
        (x1, y1), (x2, y2) = _clamp([(h.x1, h.y1), (h.x2, h.y2)], image)
        return VisualPrompt.box(HBB(x1, y1, x2, y2))
    if kind == "obb":
        if isinstance(target.box, OBB):
            corners = target.box.corners()
        elif target.mask is not None:
            corners = mask_obb(*mask_pixels(target.mask)).corners()
        else:
            raise ValueError(f"no oriented box for a {target.label} with a horizontal box and no mask")
        return VisualPrompt("obb", _clamp([(float(x), float(y)) for x, y in corners], image))
    if kind == "point":
        x, y = sample_point(target.mask, target.box, rng)
        if target.mask is not None and not point_in_mask(target.mask, x, y):
            raise MaskError("point_outside_mask", f"{target.label}: ({x:g}, {y:g}) is outside its mask")
        return VisualPrompt("point", _clamp([(x, y)], image))
    if kind == "scribble":
        return VisualPrompt.scribble([_clamp(sample_scribble(target.mask, target.box, rng), image)])
    raise ValueError(f"unknown region prompt kind {kind!r}; choose from {REGION_PROMPT_KINDS}")


def region_names(count: int, first: int = 0) -> str:
    """``<region1>``, ``<region1> and <region2>``, ``<region1>, <region2> and <region3>``..."""
    names = [region_name(first + i) for i in range(count)]
    return names[0] if count == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _conversation(
    cid: str,
    record: Record,
    task: str,
    pairs: Sequence[tuple[str, str]],
    prompts: Sequence[VisualPrompt],
    masks: Sequence[RleMask] = (),
    meta: dict[str, Any] | None = None,
    views: str = "",
) -> Conversation:
    """A conversation over the record's image (with the first question) carrying its prompts and mask targets."""
    messages: list[Message] = []
    for i, (q, a) in enumerate(pairs):
        messages += [Message.user(q, record.image if i == 0 else None), Message.assistant(a)]
    return Conversation(
        id=cid,
        messages=tuple(messages),
        task=task,
        source=record.source,
        meta=meta or {},
        prompts=tuple(prompts),
        masks=tuple(masks),
        views=views,
    )


def _prompted(
    targets: Sequence[Target], image: ImageRef, rng: random.Random, skips: Skips, kind: str | None = None
) -> list[tuple[Target, VisualPrompt, str]]:
    """Each target with a prompt (of ``kind``, else a seeded choice of its kinds); a failure is a skip."""
    out: list[tuple[Target, VisualPrompt, str]] = []
    for t in targets:
        k = kind or rng.choice(t.kinds())
        try:
            out.append((t, region_prompt(t, k, image, rng), k))
        except MaskError as e:
            skips.append((e.reason, f"{t.label}: {e.detail}"))
    return out


def refer_answer(labels: Sequence[str], first: int = 1) -> str:
    """``Region 1: ship; Region 2: harbor``."""
    return "; ".join(T.REFER_ANSWER.format(index=first + i, label=label) for i, label in enumerate(labels))


def region_classification(
    record: Record, targets: list[Target], opts: InstructionOptions, rng: random.Random, skips: Skips
) -> list[Conversation]:
    """Up to ``x_regions`` seeded objects, each shown by a seeded prompt kind -> "Region K: <label>"."""
    if isinstance(record, RegionCaptionRecord) or not targets:
        return []  # DIOR-RSVG gives a grounding and a region record per expression: classify the first only
    chosen = [targets[i] for i in rng.sample(range(len(targets)), min(len(targets), opts.x_regions))]
    shown = _prompted(chosen, record.image, rng, skips)
    if not shown:
        return []
    q = T.REFER.format(regions=region_names(len(shown)))
    a = refer_answer([t.label for t, _, _ in shown])
    meta = {"prompt_kinds": [k for _, _, k in shown]}
    return [
        _conversation(
            f"{record.id}:refer", record, "region_classification", [(q, a)], [p for _, p, _ in shown], meta=meta
        )
    ]


def region_description(
    record: Record, targets: list[Target], opts: InstructionOptions, rng: random.Random, skips: Skips
) -> list[Conversation]:
    """DIOR-RSVG: the expression for a box or point prompt; detection records: a templated description of a
    seeded object (``meta["templated"]`` says which)."""
    if isinstance(record, GroundingRecord) or not targets:
        return []
    target = targets[rng.randrange(len(targets))]
    real = isinstance(record, RegionCaptionRecord)
    shown = _prompted([target], record.image, rng, skips, rng.choice(("box", "point")) if real else None)
    if not shown:
        return []
    _, prompt, kind = shown[0]
    answer = target.expression if real else describe(target, record.image)
    if not answer:
        return []
    q = T.REGION_DESCRIBE.format(region=region_name(0))
    meta = {"templated": not real, "prompt_kinds": [kind]}
    return [_conversation(f"{record.id}:describe", record, "region_description", [(q, answer)], [prompt], meta=meta)]


def region_relation(
    record: Record, targets: list[Target], opts: InstructionOptions, rng: random.Random, skips: Skips
) -> list[Conversation]:
    """Two seeded objects -> left/right, above/below, nearer the image centre, larger (from the geometry)."""
    if len(targets) < 2:
        return []
    pair = [targets[i] for i in rng.sample(range(len(targets)), 2)]
    shown = _prompted(pair, record.image, rng, skips)
    if len(shown) < 2:
        return []
    a, b = region_name(0), region_name(1)
    q = T.RELATION.format(a=a, b=b)
    answer = relation(shown[0][0], shown[1][0], record.image, a, b)
    meta = {"prompt_kinds": [k for _, _, k in shown]}
    return [
        _conversation(
            f"{record.id}:relation", record, "region_relation", [(q, answer)], [p for _, p, _ in shown], meta=meta
        )
    ]


def _target_mask(t: Target, image: ImageRef) -> tuple[RleMask, bool]:
    """The object's annotated mask (True), else its box polygon as a weak mask (False)."""
    if t.mask is not None:
        return t.mask, True
    return box_mask(t.box, image.height, image.width), False


def _mask_meta(real: bool, **more: Any) -> dict[str, Any]:
    return {"mask": "annotated" if real else "weak_box", **more}


def _segment_classes(record: Record, targets: list[Target]) -> list[Conversation]:
    """One conversation per class: "segment every <class>" -> one ``<seg>``, the union of its instances' masks."""
    out: list[Conversation] = []
    for label in sorted({t.label for t in targets}):
        parts = [_target_mask(t, record.image) for t in targets if t.label == label]
        meta = _mask_meta(all(r for _, r in parts), instances=len(parts))
        pairs = [(T.SEGMENT_CLASS.format(label=label), T.SEGMENT_ANSWER)]
        mask = union_mask([m for m, _ in parts])
        out.append(_conversation(f"{record.id}:seg:{label}", record, "pixel_grounding", pairs, [], [mask], meta))
    return out


def pixel_grounding(
    record: Record, targets: list[Target], opts: InstructionOptions, rng: random.Random, skips: Skips
) -> list[Conversation]:
    """A class -> one ``<seg>`` of the union of its instances' masks; a point on a seeded object -> its mask;
    DIOR-RSVG: the expression -> its box as a weak mask. ``meta["mask"]`` is "annotated" or "weak_box"."""
    if isinstance(record, RegionCaptionRecord) or not targets:
        return []
    try:
        if isinstance(record, GroundingRecord):
            mask, real = _target_mask(targets[0], record.image)
            pairs = [(T.SEGMENT_EXPRESSION.format(expression=targets[0].expression), T.SEGMENT_ANSWER)]
            return [_conversation(f"{record.id}:seg", record, "pixel_grounding", pairs, [], [mask], _mask_meta(real))]
        out = _segment_classes(record, targets)
        target = targets[rng.randrange(len(targets))]
        shown = _prompted([target], record.image, rng, skips, "point")
        if shown:
            mask, real = _target_mask(target, record.image)
            pairs = [(T.SEGMENT_REGION.format(label=target.label, region=region_name(0)), T.SEGMENT_ANSWER)]
            meta = _mask_meta(real, prompt_kinds=["point"])
            prompt = [shown[0][1]]
            out.append(_conversation(f"{record.id}:seg_point", record, "pixel_grounding", pairs, prompt, [mask], meta))
    except MaskError as e:
        skips.append((e.reason, f"{record.id}: {e.detail}"))
        return []
    return out


def _counts(targets: Sequence[Target]) -> str:
    """``harbor: 1; ship: 3`` (categories in name order)."""
    return "; ".join(f"{label}: {n}" for label, n in sorted(Counter(t.label for t in targets).items()))


def _centre(box: Box) -> tuple[float, float]:
    h = hbb_of(box)
    return (h.x1 + h.x2) / 2.0, (h.y1 + h.y2) / 2.0


def zoom(
    record: Record, targets: list[Target], opts: InstructionOptions, rng: random.Random, skips: Skips
) -> list[Conversation]:
    """Scene (counts per category), then the image quarter holding a seeded object (``<region1>``, counts there),
    then that object (``<region2>``, its category); the view plan zooms on the quarter (``region:1``)."""
    if not isinstance(record, DetectionRecord) or len(targets) < 2:
        return []
    target = targets[rng.randrange(len(targets))]
    cx, cy = _centre(target.box)
    w, h = record.image.width, record.image.height
    qx, qy = (0.0 if cx < w / 2 else w / 2), (0.0 if cy < h / 2 else h / 2)
    quarter = HBB(qx, qy, qx + w / 2, qy + h / 2)
    inside = [
        t
        for t in targets
        if quarter.x1 <= _centre(t.box)[0] < quarter.x2 and quarter.y1 <= _centre(t.box)[1] < quarter.y2
    ]
    shown = _prompted([target], record.image, rng, skips)
    if not shown or not inside:
        return []
    pairs = [
        (T.ZOOM_SCENE, _counts(targets)),
        (T.ZOOM_REGION.format(region=region_name(0)), _counts(inside)),
        (T.ZOOM_OBJECT.format(region=region_name(1)), refer_answer([target.label], first=2)),
    ]
    prompts = [VisualPrompt.box(quarter), shown[0][1]]
    meta = {"prompt_kinds": ["box", shown[0][2]], "levels": ["scene", "region", "object"]}
    return [_conversation(f"{record.id}:zoom", record, "zoom", pairs, prompts, meta=meta, views="region:1")]


_BUILDERS = {
    "region_classification": region_classification,
    "region_description": region_description,
    "region_relation": region_relation,
    "pixel_grounding": pixel_grounding,
    "zoom": zoom,
}


def x_conversations(record: Record, opts: InstructionOptions) -> tuple[list[Conversation], Skips]:
    """The EarthGPT-X conversations of ``opts.x_tasks`` for one record, and the objects they left out as
    (reason, detail)."""
    targets = targets_of(record)
    convs: list[Conversation] = []
    skips: Skips = []
    for task in opts.x_tasks:
        rng = random.Random(f"{opts.x_seed}:{record.id}:{task}")
        convs += _BUILDERS[task](record, targets, opts, rng, skips)
    return convs, skips
