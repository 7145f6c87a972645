"""The predictor: multi-turn history keeps one image and its KV cache, generations carry aligned log-probs and spans
taken while decoding, and the per-call options (budget, sampling, stop rules, seed, EarthGPT-X refusal) hold."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from earthgpt.data.conversation import ImagePart, Message
from earthgpt.data.tokenizer import train_tokenizer
from earthgpt.geometry.prompts import VisualPrompt
from earthgpt.inference.predictor import INPUT_IMAGE, Predictor
from earthgpt.models import build_model, tiny_config
from earthgpt.models.generation import generate_samples
from earthgpt.pipeline import token_ids


def _predictor(**kwargs: int) -> Predictor:
    tok = train_tokenizer(["USER: what is here? ASSISTANT: a harbour [0.100,0.200,0.300,0.400]"] * 30, vocab_size=300)
    cfg = tiny_config(**token_ids(tok))
    torch.manual_seed(0)
    return Predictor(build_model(cfg), tok, **{"max_new_tokens": 12, **kwargs})


def _rgb(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)


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
    torch.testing.assert_close(torch.tensor(gen.token_logprobs), logp.max(dim=-1).values, rtol=0, atol=1e-5)
    assert logp.argmax(dim=-1).tolist() == tokens
    # the spans tile the answer: contiguous from 0 to its end, and each is the text of its token
    starts, ends = [s for s, _ in gen.token_spans], [e for _, e in gen.token_spans]
    assert starts[0] == 0 and starts[1:] == ends[:-1] and ends[-1] == len(gen.text)
    for (s, e), t in zip(gen.token_spans, tokens, strict=True):
        assert gen.text[s:e] == p.tok.decode([t]).strip() or gen.text[s:e] == p.tok.decode([t])


def _teacher_forced(p: Predictor, px: torch.Tensor, prompt: list[int], answer: list[int]) -> torch.Tensor:
    """Log-probability of each answer token in one independent forward over prompt + answer. [W]"""
    logits = p.model(px[None], torch.tensor([prompt + answer])).logits[0, len(prompt) - 1 : -1]
    return torch.log_softmax(logits.float(), dim=-1).gather(-1, torch.tensor(answer)[:, None]).squeeze(-1)


def test_sampled_logprobs_are_the_models_own_at_temperature_one() -> None:
    """Sampling at temperature 0.5 with top-p: each log-prob is still the unfiltered model log-softmax of its token."""
    p = _predictor()
    dialogue = [Message.user("what is here?", INPUT_IMAGE)]
    px = p.pixels(_rgb())
    prompt = p.encode(dialogue)
    settings = p.options(temperature=0.5, top_p=0.9, seed=3).settings(p.tok)
    sample = generate_samples(p.model, px[None], torch.tensor([prompt]), None, settings)[0]
    assert len(sample.tokens) == len(sample.logprobs) > 0
    expected = _teacher_forced(p, px, prompt, sample.tokens)
    torch.testing.assert_close(torch.tensor(sample.logprobs), expected, rtol=0, atol=1e-5)
    gen = p.generate([px], [dialogue], temperature=0.5, top_p=0.9, seed=3)[0]
    assert gen.token_logprobs == [
        lp for t, lp in zip(sample.tokens, sample.logprobs, strict=True) if t != p.tok.eos_token_id
    ]


def test_per_call_options() -> None:
    p = _predictor()
    dialogue = [Message.user("what is here?", INPUT_IMAGE)]
    px = p.pixels(_rgb())
    greedy = p.generate([px], [dialogue], max_new_tokens=6)[0]
    assert greedy.finish_reason == "length" and len(greedy.token_logprobs) == 6
    assert greedy.prompt_tokens == len(p.encode(dialogue))
    assert p.generate([_rgb()], [dialogue], max_new_tokens=6)[0] == greedy  # an RGB array works as well
    # a stop string cuts the text before it, tokens and spans with it
    word = greedy.text[greedy.token_spans[2][0] : greedy.token_spans[2][1]]
    stopped = p.generate([px], [dialogue], max_new_tokens=6, stop=[word])[0]
    cut = greedy.text.find(word)
    assert stopped.text == greedy.text[:cut] and stopped.finish_reason == "stop"
    assert len(stopped.token_logprobs) == len(stopped.token_spans) <= 3
    # token-id stop sequences end the answer and are not part of it
    tokens = p.model.generate(px[None], torch.tensor([p.encode(dialogue)]), max_new_tokens=6, eos_token_id=-1)[0]
    pair = tokens[2:4]
    first = next(i for i in range(5) if tokens[i : i + 2] == pair)
    by_ids = p.generate([px], [dialogue], stop=[pair])[0]
    assert len(by_ids.token_logprobs) == first and by_ids.finish_reason == "stop"
    with pytest.raises(ValueError, match="temperature"):
        p.generate([px], [dialogue], temperature=-1.0)
    with pytest.raises(ValueError, match="top_p"):
        p.generate([px], [dialogue], top_p=0.0)
    with pytest.raises(ValueError, match="empty stop"):
        p.generate([px], [dialogue], stop=[""])


def test_seeded_sampling_does_not_depend_on_the_batch() -> None:
    p = _predictor()
    question = [Message.user("what is here?", INPUT_IMAGE)]
    other = [Message.user("and where is the harbour?", INPUT_IMAGE)]
    kw = {"temperature": 1.5, "seed": 7, "max_new_tokens": 8}
    alone = p.generate([_rgb()], [question], **kw)[0]
    batched = p.generate([_rgb(1), _rgb()], [other, question], **kw)[1]
    assert batched.text == alone.text
    assert p.generate([_rgb()], [question], **{**kw, "seed": 8})[0].text != alone.text


def test_a_plain_model_refuses_visual_prompts_and_views() -> None:
    p = _predictor()
    dialogue = [Message.user("what is <region1>?", INPUT_IMAGE)]
    with pytest.raises(ValueError, match="no prompt encoder / mask decoder"):
        p.generate([_rgb()], [dialogue], prompts=[[VisualPrompt.point(3, 4)]])
    with pytest.raises(ValueError, match="no prompt encoder / mask decoder"):
        p.ask(_rgb(), "what is here?", views="grid:2")
    with pytest.raises(ValueError, match="prompts: 2 entries for 1 dialogues"):
        p.generate([_rgb()], [dialogue], prompts=[[], []])
