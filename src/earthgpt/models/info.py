"""Parameter counts per part of a model size, as a plain dict (the paper size via the meta device)."""

from __future__ import annotations

from typing import Any

from torch import nn

from earthgpt.models.builders import build_model, named_config
from earthgpt.models.config import EarthGPTConfig
from earthgpt.models.earthgpt import EarthGPT
from earthgpt.models.visual import XPART_NAMES


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def part_counts(model: EarthGPT) -> dict[str, int]:
    """Parameters per part: vit (DINOv2), cnn (ConvNeXt), cnn_scale_proj, projector, llm, then the EarthGPT-X parts
    of an X model (prompt_encoder, fusion, region_encoder, view_embedding, seg_projector, mask_decoder), total."""
    counts = {
        "vit": count(model.vision.vit),
        "cnn": count(model.vision.cnn.model),  # type: ignore[union-attr,arg-type]
        "cnn_scale_proj": count(model.vision.cnn.scale_proj),  # type: ignore[union-attr,arg-type]
        "projector": count(model.projector),
        "llm": count(model.llm),
    }
    for name in XPART_NAMES:
        part = getattr(model, name, None)
        if part is not None:
            counts[name] = count(part)
    counts["total"] = count(model)
    return counts


def info_config(size: str | EarthGPTConfig, vocab_size: int = 32001, x: bool = True) -> EarthGPTConfig:
    """A named size or a config as is. Named sizes (``tiny``/``paper``) come with their EarthGPT-X parts unless
    ``x=False``; token ids: pad 0, bos 1, eos 2, image = the last id, region / seg / view the three before it (ids
    only name rows of the embedding table: the counts are those of a ``vocab_size`` vocabulary)."""
    if isinstance(size, EarthGPTConfig):
        return size
    ids = {"region_token_id": vocab_size - 2, "seg_token_id": vocab_size - 3, "view_token_id": vocab_size - 4}
    return named_config(
        size,
        vocab_size=vocab_size,
        image_token_id=vocab_size - 1,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        **(ids if x else {}),
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
