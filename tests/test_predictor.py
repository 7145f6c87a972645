"""The predictor: multi-turn history keeps one image, and generations carry aligned log-probs and spans."""

from __future__ import annotations

import numpy as np
import torch

from earthgpt.data.conversation import ImagePart, Message
from earthgpt.data.tokenizer import train_tokenizer
from earthgpt.inference.predictor import INPUT_IMAGE, Predictor
from earthgpt.models import build_model, tiny_config
from earthgpt.pipeline import token_ids


def _predictor() -> Predictor:
    tok = train_tokenizer(["USER: what is here? ASSISTANT: a harbour [0.100,0.200,0.300,0.400]"] * 30, vocab_size=300)
    cfg = tiny_config(**token_ids(tok))
    torch.manual_seed(0)
    return Predictor(build_model(cfg), tok, max_new_tokens=12)


def test_history_keeps_the_image_once() -> None:
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


def test_logprobs_are_the_greedy_tokens_own_and_spans_tile_the_text() -> None:
    p = _predictor()
    rgb = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    dialogue = [Message.user("what is here?", INPUT_IMAGE)]
    px = p.pixels(rgb)
    gen = p.generate([px], [dialogue])[0]
    prompt = p.encode(dialogue)
    tokens = p.model.generate(px[None], torch.tensor([prompt]), max_new_tokens=p.max_new_tokens)[0]
    assert len(tokens) == len(gen.token_logprobs) == len(gen.token_spans) > 0  # the answer is not empty
    # an independent teacher-forced pass: each logprob is that of the greedy token, i.e. the row's maximum
    logits = p.model(px[None], torch.tensor([prompt + tokens])).logits[0, len(prompt) - 1 : -1]
    logp = torch.log_softmax(logits.float(), dim=-1)
    torch.testing.assert_close(torch.tensor(gen.token_logprobs), logp.max(dim=-1).values, rtol=0, atol=1e-4)
    assert logp.argmax(dim=-1).tolist() == tokens
    # the spans tile the answer: contiguous from 0 to its end, and each is the text of its token
    starts, ends = [s for s, _ in gen.token_spans], [e for _, e in gen.token_spans]
    assert starts[0] == 0 and starts[1:] == ends[:-1] and ends[-1] == len(gen.text)
    for (s, e), t in zip(gen.token_spans, tokens, strict=True):
        assert gen.text[s:e] == p.tok.decode([t]).strip() or gen.text[s:e] == p.tok.decode([t])
