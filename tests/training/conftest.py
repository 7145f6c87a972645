"""Tiny real models and token datasets for the training-engine tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

VOCAB = 61
SEQ = 12


def tiny_llama(seed: int = 0) -> LlamaForCausalLM:
    """A 2-layer LLaMA with a few thousand parameters, initialised from ``seed``."""
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=SEQ,
    )
    return LlamaForCausalLM(config)


class TokenDataset(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    """``n`` random token sequences; sample ``i`` also carries its index so tests can see the data order."""

    def __init__(self, n: int = 24, seed: int = 123) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(0, VOCAB, (n, SEQ), generator=generator)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[index], "index": torch.tensor(index)}


def collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack a list of samples into a causal-LM batch (labels = inputs)."""
    ids = torch.stack([item["input_ids"] for item in items])  # [B, T]
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}


@pytest.fixture
def llama() -> Callable[..., LlamaForCausalLM]:
    return tiny_llama


@pytest.fixture
def token_data() -> TokenDataset:
    return TokenDataset()


@pytest.fixture
def collate_fn() -> Callable[[list[Any]], dict[str, torch.Tensor]]:
    return collate
