"""The predictor: multi-turn history keeps one image, and generations carry aligned log-probs and spans."""

from __future__ import annotations

import numpy as np
import torch

from earthgpt.data.conversation import ImagePart, Message
from earthgpt.data.tokenizer import train_tokenizer
from earthgpt.inference.predictor import Predictor
from earthgpt.models import build_model, tiny_config
from earthgpt.pipeline import token_ids


def _predictor() -> Predictor:
    tok = train_tokenizer(["USER: what is here? ASSISTANT: a harbour [0.100,0.200,0.300,0.400]"] * 30, vocab_size=300)
    cfg = tiny_config(**token_ids(tok))
    torch.manual_seed(0)
    return Predictor(build_model(cfg), tok, max_new_tokens=12)


def test_history_keeps_the_image_once_and_spans_align() -> None:
    p = _predictor()
    rgb = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    answer, history = p.ask(rgb, "what is here?")
    answer2, history = p.ask(rgb, "and where?", history)
    assert [m.role for m in history] == ["user", "assistant", "user", "assistant"]
    assert [m.text for m in history[1::2]] == [answer, answer2]
    images = [part for m in history for part in m.content if isinstance(part, ImagePart)]
    assert len(images) == 1 and isinstance(history[0].content[0], ImagePart)
    ids = p.template.encode_prompt([*history, Message.user("one more?")])
    assert ids.count(p.template.image_id) == p.model.num_image_tokens

    gen = p.generate([p.pixels(rgb)], [[Message.user("what is here?", history[0].content[0].image)]])[0]  # type: ignore[union-attr]
    assert len(gen.token_logprobs) == len(gen.token_spans)
    assert all(lp <= 0.0 for lp in gen.token_logprobs)
    ends = [e for _, e in gen.token_spans]
    assert ends == sorted(ends) and all(0 <= s <= e <= len(gen.text) for s, e in gen.token_spans)
