"""Generation stops: a tiny model trained step-counted on the demo's real data ends every demo answer with </s>.

The demo's detection answer used to repeat one box until the token limit. The cause: conversations longer than the
training ``max_length`` (the densest HIT-UAV frames: 26 tokens per box, up to 39 boxes) were cut inside the answer and
still trained, so the model learned that box lists go on past where they were cut, never ``</s>``; and the demo asked
for 256 new tokens where a third of the HIT-UAV answers are longer. Now such conversations are refused by ``fit``
(counted) and the demo's answer budget covers every answer it trained on.
Measured (seed 0, 80 steps of batch 8, peak LR 2e-3, 13 conversations): all 9 answers end with </s> well before
the limit; about 9 CPU-minutes (its wall time depends on the load). Fewer steps were not measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pytest

from earthgpt.data.chat_template import ChatTemplate
from earthgpt.data.conversation import Conversation, Message
from earthgpt.data.instructions import templates as T
from earthgpt.data.instructions.convert import InstructionOptions, to_conversations
from earthgpt.data.records import DetectionRecord, SceneRecord
from earthgpt.data.sources import get_source
from earthgpt.inference.predictor import INPUT_IMAGE, Predictor
from earthgpt.pipeline import fit, new_model, whole_conversations
from earthgpt.training import recipe

R = TypeVar("R", SceneRecord, DetectionRecord)
MAX_LENGTH = 400
LIMIT = 300
STEPS = 80


def _records(data_root: Path) -> tuple[list[SceneRecord], list[DetectionRecord]]:
    """4 RSSCN7 scenes of different classes; 5 HIT-UAV frames with 1-4 objects and one dense frame (>= 12)."""
    scenes_src = get_source("rsscn7")(data_root / "rsscn7", "train")
    scenes: dict[str, SceneRecord] = {}
    for item in scenes_src.items():
        for r in scenes_src.load(item):
            if isinstance(r, SceneRecord) and r.label not in scenes:
                scenes[r.label] = _absolute(r, data_root / "rsscn7")
        if len(scenes) == 4:
            break
    frames_src = get_source("hit_uav")(data_root / "hit_uav", "train", kind="hbb")
    small: list[DetectionRecord] = []
    dense: list[DetectionRecord] = []
    for item in frames_src.items():
        for r in frames_src.load(item):
            if isinstance(r, DetectionRecord):
                if 1 <= len(r.objects) <= 4 and len(small) < 5:
                    small.append(_absolute(r, data_root / "hit_uav"))
                elif len(r.objects) >= 12 and not dense:
                    dense.append(_absolute(r, data_root / "hit_uav"))
        if len(small) == 5 and dense:
            return list(scenes.values()), small + dense
    pytest.fail("HIT-UAV holds too few frames with 1-4 objects or with >= 12")


def _absolute(record: R, root: Path) -> R:
    """The record with its image path made absolute (two sources in one training run)."""
    return replace(record, image=replace(record.image, path=str(record.image.resolve(root))))


def _conversations(records: Sequence[SceneRecord | DetectionRecord]) -> list[Conversation]:
    opts = InstructionOptions(referring=False)
    return [c for r in records for c in to_conversations(r, opts)]


def test_every_demo_answer_ends_with_eos(data_root: Path, tmp_path: Path) -> None:
    scenes, frames = _records(data_root)
    conversations = _conversations(scenes) + _conversations(frames)
    model, tok = new_model(conversations, vocab_size=256, seed=0)
    template = ChatTemplate(tok, model.num_image_tokens, max_length=MAX_LENGTH)
    _, cut = whole_conversations(conversations, template)
    assert len(cut) == 1 and cut[0][1] > MAX_LENGTH  # the dense frame: refused, not cut
    config = recipe("scratch", str(tmp_path), max_steps=STEPS, batch_size=8, lr=2e-3, log_every=1, progress_bar=False)
    fit(model, tok, conversations, None, config, max_length=MAX_LENGTH)

    predictor = Predictor(model, tok, max_new_tokens=LIMIT)
    images = [predictor.pixels(r.image) for r in [*scenes, *frames[:-1]]]
    questions = [T.classify_prompt(r.categories) for r in scenes] + [T.DETECT_HBB] * (len(frames) - 1)
    answers = predictor.generate(images, [[Message.user(q, INPUT_IMAGE)] for q in questions])
    for a in answers:
        assert a.finish_reason == "stop" and len(a.token_logprobs or []) < LIMIT, a.text
