"""Parameter counts per part and trainable counts per stage, as a plain dict (the paper size via the meta device)."""

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


def model_info(size: str | EarthGPTConfig, vocab_size: int = 32001) -> dict[str, Any]:
    """Counts for a named size (``tiny``/``paper``) or a config, built on the meta device (no memory, no weights).

    ``vocab_size`` applies to named sizes (token ids: pad 0, bos 1, eos 2, image = the last id).
    """
    from earthgpt.training.stages import STAGES, apply_stage

    if isinstance(size, EarthGPTConfig):
        config = size
    else:
        config = named_config(
            size,
            vocab_size=vocab_size,
            image_token_id=vocab_size - 1,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=2,
        )
    model = build_model(config, device="meta")
    info: dict[str, Any] = {
        "size": config.name,
        "image_size": config.image_size,
        "num_image_tokens": config.num_image_tokens,
        "vocab_size": config.vocab_size,
        "parameters": part_counts(model),
        "stages": {},
    }
    for stage in sorted(STAGES):
        report = apply_stage(model, stage)
        info["stages"][stage] = {
            "name": report.name,
            "trainable": report.trainable_params,
            "frozen": report.frozen_params,
            "groups": {g: {"params": n, "trainable": t} for g, (_, n, t) in report.groups.items()},
        }
    return info
