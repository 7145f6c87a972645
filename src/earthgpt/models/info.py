"""Parameter counts per part of a model size, as a plain dict (the paper size via the meta device)."""

from __future__ import annotations

from typing import Any

from torch import nn

from earthgpt.models.builders import build_model, named_config
from earthgpt.models.config import EarthGPTConfig
from earthgpt.models.earthgpt import EarthGPT


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def part_counts(model: EarthGPT) -> dict[str, int]:
    """Parameters per part: vit (DINOv2), cnn (ConvNeXt), cnn_scale_proj, projector, llm, total."""
    return {
        "vit": count(model.vision.vit),
        "cnn": count(model.vision.cnn.model),  # type: ignore[union-attr,arg-type]
        "cnn_scale_proj": count(model.vision.cnn.scale_proj),  # type: ignore[union-attr,arg-type]
        "projector": count(model.projector),
        "llm": count(model.llm),
        "total": count(model),
    }


def info_config(size: str | EarthGPTConfig, vocab_size: int = 32001) -> EarthGPTConfig:
    """A named size (``tiny``/``paper``; token ids: pad 0, bos 1, eos 2, image = the last id) or a config as is."""
    if isinstance(size, EarthGPTConfig):
        return size
    return named_config(
        size, vocab_size=vocab_size, image_token_id=vocab_size - 1, pad_token_id=0, bos_token_id=1, eos_token_id=2
    )


def model_info(size: str | EarthGPTConfig, vocab_size: int = 32001) -> dict[str, Any]:
    """Counts for a named size or a config, built on the meta device (no memory, no weights).

    ``vocab_size`` applies to named sizes. Trainable counts per stage: ``earthgpt.training.stages.stage_info``.
    """
    config = info_config(size, vocab_size)
    model = build_model(config, device="meta")
    return {
        "size": config.name,
        "image_size": config.image_size,
        "num_image_tokens": config.num_image_tokens,
        "vocab_size": config.vocab_size,
        "parameters": part_counts(model),
    }
