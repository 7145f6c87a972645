"""Synthetic image-text batches for the tiny EarthGPT: engine tests and speed benchmarks that need no corpus.

Multi-process training runs the real command (``accelerate launch ... -m earthgpt.cli train``, see
docs/distributed.md); this module only feeds tests (tests/training/test_recipes.py) and bench/mfu.py.
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from earthgpt.models import EarthGPT, build_model, tiny_config
from earthgpt.training.stages import apply_stage

# Token ids of the synthetic vocabulary.
VOCAB_SIZE, PAD_ID, BOS_ID, EOS_ID, IMAGE_ID = 96, 0, 1, 2, 95
TEXT_TOKENS = 12


class SyntheticImageText(Dataset[dict[str, torch.Tensor]]):
    """Deterministic random images in [0, 1] with random captions, in the model's input format.

    Sample ``i`` is generated from seed ``i``; ``read`` lists the indices fetched by this process.
    """

    def __init__(self, num_samples: int, image_size: int, num_image_tokens: int) -> None:
        self.num_samples = num_samples
        self.image_size = image_size
        self.num_image_tokens = num_image_tokens
        self.read: list[int] = []

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        self.read.append(index)
        generator = torch.Generator().manual_seed(index)
        pixels = torch.rand(3, self.image_size, self.image_size, generator=generator)  # [3, S, S]
        caption = torch.randint(3, IMAGE_ID, (TEXT_TOKENS,), generator=generator)
        image = torch.full((self.num_image_tokens,), IMAGE_ID)
        ids = torch.cat([torch.tensor([BOS_ID]), image, caption, torch.tensor([EOS_ID])])  # [T]
        labels = ids.clone()
        labels[: 1 + self.num_image_tokens] = -100  # loss on the caption only
        return {"pixel_values": pixels, "input_ids": ids, "labels": labels}


def collate_image_text(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack equal-length samples (the synthetic data needs no padding)."""
    ids = torch.stack([item["input_ids"] for item in items])  # [B, T]
    return {
        "pixel_values": torch.stack([item["pixel_values"] for item in items]),  # [B, 3, S, S]
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "labels": torch.stack([item["labels"] for item in items]),
    }


def build_tiny_model(seed: int, stage: int | None = 1) -> EarthGPT:
    """The tiny EarthGPT, identical on every rank, with ``stage`` applied (None leaves build_model's defaults)."""
    config = tiny_config(
        vocab_size=VOCAB_SIZE, image_token_id=IMAGE_ID, pad_token_id=PAD_ID, bos_token_id=BOS_ID, eos_token_id=EOS_ID
    )
    model = build_model(config, seed=seed)
    if stage is not None:
        apply_stage(model, stage)
    return model
