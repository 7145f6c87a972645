"""Tiny EarthGPT models and prompts shared by the model tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from earthgpt.models import EarthGPT, EarthGPTConfig, build_model, tiny_config

VOCAB = 512
PAD, BOS, EOS, IMAGE = 0, 1, 2, 3


def tiny_cfg() -> EarthGPTConfig:
    return tiny_config(vocab_size=VOCAB, image_token_id=IMAGE, pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS)


def make_tiny(seed: int = 0) -> EarthGPT:
    """A freshly initialised tiny EarthGPT in eval mode."""
    return build_model(tiny_cfg(), seed=seed).eval()


def prompt(text_len: int, seed: int, n_image: int) -> list[int]:
    """BOS, N image placeholders, then ``text_len`` random text tokens (ids 4..VOCAB-1)."""
    g = torch.Generator().manual_seed(seed)
    return [BOS] + [IMAGE] * n_image + torch.randint(4, VOCAB, (text_len,), generator=g).tolist()


def left_pad(prompts: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, T] ids and mask with LEFT padding."""
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), PAD, dtype=torch.long)
    mask = torch.zeros(len(prompts), width, dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p)
        mask[i, width - len(p) :] = 1
    return ids, mask


def images(n: int, seed: int = 0, size: int = 160) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def tiny() -> EarthGPT:
    """A shared tiny model: tests using it must not modify it."""
    return make_tiny()


@pytest.fixture
def fresh_tiny() -> Callable[..., EarthGPT]:
    return make_tiny
