"""Generation: batched == one by one, equality with HF generate, EOS / stop sequences, sampling, multi-turn cache."""

from __future__ import annotations

import pytest
import torch

from earthgpt.models import ChatSession, EarthGPT
from earthgpt.models.generation import top_p_filter

from .conftest import images, left_pad, prompt

N = 100
NEVER = -1  # an EOS id no token can match: run to max_new_tokens


@pytest.fixture(scope="module")
def prompts() -> list[list[int]]:
    return [prompt(2, 10, N), prompt(9, 11, N), prompt(5, 12, N)]


@pytest.fixture(scope="module")
def free_run(tiny: EarthGPT, prompts: list[list[int]]) -> list[list[int]]:
    """Greedy continuations (12 tokens, EOS disabled) of the prompts, generated as one left-padded batch."""
    ids, mask = left_pad(prompts)
    return tiny.generate(images(3), ids, mask, max_new_tokens=12, eos_token_id=NEVER)


def test_batched_equals_one_by_one(tiny: EarthGPT, prompts: list[list[int]], free_run: list[list[int]]) -> None:
    px = images(3)
    alone = [
        tiny.generate(px[i : i + 1], torch.tensor([p]), max_new_tokens=12, eos_token_id=NEVER)[0]
        for i, p in enumerate(prompts)
    ]
    assert alone == free_run
    assert all(len(r) == 12 for r in free_run)


@torch.no_grad()
def test_equals_hf_generate(tiny: EarthGPT, prompts: list[list[int]], free_run: list[list[int]]) -> None:
    ids, mask = left_pad(prompts)
    embeds = tiny.embed_inputs(ids, images(3))
    hf = tiny.llm.generate(
        inputs_embeds=embeds,
        attention_mask=mask,
        max_new_tokens=12,
        do_sample=False,
        eos_token_id=None,
        pad_token_id=0,
    )
    assert hf.tolist() == free_run


def _first_new_token(seq: list[int]) -> int:
    """Index of the first token that did not occur earlier in ``seq`` (excluding 0)."""
    return next(i for i in range(1, len(seq)) if seq[i] not in seq[:i])


def test_eos_and_stop_sequences(tiny: EarthGPT, prompts: list[list[int]], free_run: list[list[int]]) -> None:
    seq = free_run[1]
    k = _first_new_token(seq)
    px = images(3)[1:2]
    ids = torch.tensor([prompts[1]])
    assert tiny.generate(px, ids, max_new_tokens=12, eos_token_id=seq[k]) == [seq[:k]]
    stop = [seq[k - 1], seq[k]]
    first = next(i for i in range(len(seq) - 1) if seq[i : i + 2] == stop)
    out = tiny.generate(px, ids, max_new_tokens=12, eos_token_id=NEVER, stop_sequences=[[99999], stop])
    assert out == [seq[:first]]
    assert tiny.generate(px, ids, max_new_tokens=0) == [[]]


def test_batched_stops_per_sample(tiny: EarthGPT, prompts: list[list[int]], free_run: list[list[int]]) -> None:
    """One sample ends on EOS early; the others still run to max_new_tokens unchanged."""
    k = _first_new_token(free_run[0])
    eos = free_run[0][k]
    ids, mask = left_pad(prompts)
    out = tiny.generate(images(3), ids, mask, max_new_tokens=12, eos_token_id=eos)
    for got, full in zip(out, free_run, strict=True):
        expected = full[: full.index(eos)] if eos in full else full
        assert got == expected


def test_sampling_is_seeded(tiny: EarthGPT, prompts: list[list[int]], free_run: list[list[int]]) -> None:
    ids, mask = left_pad(prompts)
    px = images(3)
    kw = {"max_new_tokens": 8, "do_sample": True, "eos_token_id": NEVER}
    a = tiny.generate(px, ids, mask, seed=1, **kw)
    assert a == tiny.generate(px, ids, mask, seed=1, **kw)
    assert a != tiny.generate(px, ids, mask, seed=2, **kw)
    # a vanishing nucleus keeps only the top token: sampling reduces to greedy
    greedy = [r[:8] for r in free_run]
    assert tiny.generate(px, ids, mask, seed=3, top_p=1e-6, **kw) == greedy
    assert tiny.generate(px, ids, mask, seed=3, temperature=0.7, top_p=1e-6, **kw) == greedy


def test_top_p_filter_hand_case() -> None:
    probs = torch.tensor([[0.15, 0.5, 0.05, 0.3]])
    logits = probs.log()
    kept = torch.isfinite(top_p_filter(logits, 0.8))
    assert kept.tolist() == [[False, True, False, True]]  # 0.5 + 0.3 reaches 0.8
    kept = torch.isfinite(top_p_filter(logits, 0.81))
    assert kept.tolist() == [[True, True, False, True]]
    assert torch.equal(top_p_filter(logits, 1.0), logits)


def test_rejects_right_padding_and_bad_settings(tiny: EarthGPT) -> None:
    p = prompt(2, 0, N)
    ids = torch.tensor([p + [0]])
    mask = torch.tensor([[1] * len(p) + [0]])
    with pytest.raises(ValueError, match="LEFT-padded"):
        tiny.generate(images(1), ids, mask, max_new_tokens=2)
    with pytest.raises(ValueError, match="temperature"):
        tiny.generate(images(1), torch.tensor([p]), max_new_tokens=2, do_sample=True, temperature=0.0)


def test_chat_session_reuses_the_cache(tiny: EarthGPT) -> None:
    px = images(1, seed=5)
    calls = []
    hook = tiny.vision.register_forward_hook(lambda *_: calls.append(1))
    try:
        session = ChatSession(tiny, px)
        turn1 = prompt(6, 20, N)
        answer1 = session.send(turn1, max_new_tokens=5, eos_token_id=NEVER).tokens
        assert answer1 == tiny.generate(px, torch.tensor([turn1]), max_new_tokens=5, eos_token_id=NEVER)[0]
        history = list(session.transcript)
        assert history == turn1 + answer1
        turn2 = prompt(7, 21, 0)[1:]
        answer2 = session.send(turn2, max_new_tokens=6, eos_token_id=NEVER).tokens
        assert len(calls) == 2  # the generate call above + the session's single encoding for both turns
        scratch = tiny.generate(px, torch.tensor([history + turn2]), max_new_tokens=6, eos_token_id=NEVER)[0]
        assert answer2 == scratch
        assert session.transcript == history + turn2 + answer2
        with pytest.raises(ValueError, match="one image"):
            session.send([3] * N, max_new_tokens=1)
    finally:
        hook.remove()
