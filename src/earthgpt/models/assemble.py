"""EarthGPT sized from the checkpoints a user holds: DINOv2 of any size, any ConvNeXt, a LLaMA-family decoder.

Each part's shape is read from its own files (``--size auto`` of ``earthgpt model init``), and the paper's
choices are scaled onto it:

* ViT layers: our paper size takes blocks 6/12/18/24 of DINOv2-L's 24 (the paper names no blocks; see
  docs/paper-fidelity.md), the ends of the four quarters of the depth; a checkpoint of depth n gives blocks round(n k / 4), k = 1..4 (ViT-S/B: 3/6/9/12, ViT-G: 10/20/30/40).
* ConvNeXt: every stage (strides 4/8/16/32 for the usual four), each projected to the ViT's width (the paper's
  1024 is DINOv2-L's width).
* Token grid: input size / ViT patch size (224 / 14 = 16 by default); the input size must be a multiple of the
  patch size and of the coarsest ConvNeXt stride.
* Decoder: ``LlamaForCausalLM`` (LLaMA-2/3, Vicuna, TinyLlama) and ``MistralForCausalLM`` (the LLaMA decoder
  with sliding-window attention: the context is capped at the window, inside which both are the same). Others,
  and LLaMA variants the LLaMA config cannot express here (rope scaling, tied embeddings, a separate head_dim,
  built-in linear biases, another activation), are refused with the reason.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from earthgpt.errors import ConfigError
from earthgpt.models.config import CNNConfig, EarthGPTConfig, LLMConfig, ViTConfig
from earthgpt.models.convnext_weights import read_convnext_state

log = logging.getLogger(__name__)

PAPER_FRACTIONS: tuple[int, ...] = (1, 2, 3, 4)
"""Blocks 6/12/18/24 of 24 (our choice: the paper names none): the ends of the four quarters of the depth."""
DINOV2_TYPES: tuple[str, ...] = ("dinov2", "dinov2_with_registers")
DECODER_ARCHITECTURES: dict[str, str] = {"LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral"}
VIT_HF_KEY = "vit_hf_config"
"""Key of ``EarthGPTConfig.extra`` holding DINOv2 settings ViTConfig lacks (registers, SwiGLU)."""
_DW_KEY = re.compile(
    r"^(?:.*\.)?(?:stages|encoder\.stages)\.(\d+)\.(?:blocks|layers)\.(\d+)\.(?:conv_dw|dwconv)\.weight$"
)


class CheckpointShapeError(ConfigError):
    """A checkpoint whose architecture cannot be assembled; the message names the file and the reason."""


@dataclass(frozen=True)
class Parts:
    """The three parts' configurations, read from their checkpoints."""

    vit: ViTConfig
    vit_hf: dict[str, Any]
    cnn: CNNConfig
    llm: LLMConfig


def _read_json(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no config.json; pass the local HF-format {what} directory")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def paper_layers(depth: int) -> tuple[int, ...]:
    """Our paper-size ViT layer pattern (6/12/18/24 of 24) mapped onto ``depth`` blocks."""
    if depth < 1:
        raise ValueError(f"a ViT needs at least one block, got depth {depth}")
    return tuple(sorted({max(1, round(depth * k / 4)) for k in PAPER_FRACTIONS}))


def dinov2_parts(directory: str | Path) -> tuple[ViTConfig, dict[str, Any]]:
    """The ViT branch config of an HF DINOv2 directory (any size, with or without registers)."""
    path = Path(directory) / "config.json"
    hf = _read_json(path, "DINOv2")
    if hf.get("model_type") not in DINOV2_TYPES:
        raise CheckpointShapeError(
            f"{path}: model_type {hf.get('model_type')!r} is not a DINOv2; pass a Dinov2Model or "
            "Dinov2WithRegistersModel directory"
        )
    if hf.get("hidden_act", "gelu") != "gelu" and not hf.get("use_swiglu_ffn"):
        raise CheckpointShapeError(f"{path}: hidden_act {hf['hidden_act']!r}; DINOv2 uses gelu (or SwiGLU)")
    depth = int(hf["num_hidden_layers"])
    vit = ViTConfig(
        hidden_size=int(hf["hidden_size"]),
        num_layers=depth,
        num_heads=int(hf["num_attention_heads"]),
        patch_size=int(hf["patch_size"]),
        feature_layers=paper_layers(depth),
        mlp_ratio=int(hf.get("mlp_ratio", 4)),
        layerscale_value=float(hf.get("layerscale_value", 1.0)),
        pos_image_size=int(hf.get("image_size", 518)),
        layer_norm_eps=float(hf.get("layer_norm_eps", 1e-6)),
    )
    keep = ("model_type", "num_register_tokens", "use_swiglu_ffn", "qkv_bias", "hidden_act")
    return vit, {k: hf[k] for k in keep if k in hf}


def convnext_parts(weights: str | Path, scale_channels: int) -> CNNConfig:
    """Stage widths and depths of a ConvNeXt checkpoint (open_clip, timm or HF layout), every stage used."""
    state = read_convnext_state(weights)
    blocks: dict[int, dict[int, int]] = {}
    for key, tensor in state.items():
        m = _DW_KEY.match(key)
        if m:
            blocks.setdefault(int(m.group(1)), {})[int(m.group(2))] = int(tensor.shape[0])
    if not blocks or sorted(blocks) != list(range(len(blocks))):
        raise CheckpointShapeError(
            f"{weights}: no ConvNeXt stages found (expected '...stages.<i>.blocks.<j>.conv_dw.weight' or the HF "
            "'encoder.stages.<i>.layers.<j>.dwconv.weight'); pass a ConvNeXt state dict"
        )
    widths = tuple(stage[0] for _, stage in sorted(blocks.items()))
    depths = tuple(len(stage) for _, stage in sorted(blocks.items()))
    strides = tuple(4 * 2**k for k in range(len(depths)))
    return CNNConfig(hidden_sizes=widths, depths=depths, scale_channels=scale_channels, feature_strides=strides)


def _refuse(path: Path, hf: dict[str, Any]) -> None:
    """Raise for decoder settings LLMConfig cannot rebuild."""
    arch = (hf.get("architectures") or ["?"])[0]
    if arch not in DECODER_ARCHITECTURES or hf.get("model_type") != DECODER_ARCHITECTURES[arch]:
        accepted = ", ".join(DECODER_ARCHITECTURES)
        raise CheckpointShapeError(
            f"{path}: architecture {arch} (model_type {hf.get('model_type')!r}) is not a LLaMA decoder; accepted: "
            f"{accepted} (LLaMA-2/3, Vicuna, TinyLlama, Mistral). Convert the model to one of them first"
        )
    rope = hf.get("rope_scaling") or hf.get("rope_parameters") or {}
    problems = {
        "rope_scaling": rope.get("rope_type", rope.get("type", "default")) not in ("default", None),
        "tie_word_embeddings": bool(hf.get("tie_word_embeddings", False)),
        "head_dim": hf.get("head_dim") not in (None, hf["hidden_size"] // hf["num_attention_heads"]),
        "attention_bias": bool(hf.get("attention_bias", False)) or bool(hf.get("mlp_bias", False)),
        "hidden_act": hf.get("hidden_act", "silu") != "silu",
    }
    bad = [name for name, is_bad in problems.items() if is_bad]
    if bad:
        raise CheckpointShapeError(
            f"{path}: {arch} with {', '.join(bad)} differing from LLaMA-2's; the EarthGPT LLM config cannot "
            "express that yet: use a checkpoint with default RoPE, untied embeddings and no built-in biases"
        )


def decoder_parts(directory: str | Path) -> LLMConfig:
    """The LLM config of an HF LLaMA-family directory (refusing architectures that are not the LLaMA decoder)."""
    path = Path(directory) / "config.json"
    hf = _read_json(path, "LLaMA")
    _refuse(path, hf)
    rope = hf.get("rope_parameters") or {}
    context = int(hf.get("max_position_embeddings", 4096))
    window = hf.get("sliding_window") if hf.get("use_sliding_window", True) else None
    if window is not None and int(window) < context:
        log.info("%s: context capped at the sliding window of %d tokens (full attention inside it)", path, window)
        context = int(window)
    return LLMConfig(
        hidden_size=int(hf["hidden_size"]),
        num_layers=int(hf["num_hidden_layers"]),
        num_heads=int(hf["num_attention_heads"]),
        intermediate_size=int(hf["intermediate_size"]),
        num_kv_heads=int(hf.get("num_key_value_heads") or hf["num_attention_heads"]),
        max_position_embeddings=context,
        rope_theta=float(rope.get("rope_theta", hf.get("rope_theta", 10000.0))),
        rms_norm_eps=float(hf.get("rms_norm_eps", 1e-6)),
        initializer_range=float(hf.get("initializer_range", 0.02)),
    )


def read_parts(dinov2_dir: str | Path, convnext_weights: str | Path, llama_dir: str | Path) -> Parts:
    """Every part's configuration from its checkpoint."""
    vit, vit_hf = dinov2_parts(dinov2_dir)
    cnn = convnext_parts(convnext_weights, scale_channels=vit.hidden_size)
    return Parts(vit=vit, vit_hf=vit_hf, cnn=cnn, llm=decoder_parts(llama_dir))


def auto_config(parts: Parts, image_size: int = 224, **token_ids: int) -> EarthGPTConfig:
    """The EarthGPT config of the parts at ``image_size`` px (a multiple of the patch and the coarsest stride).

    With the three EarthGPT-X token ids (region, seg, view) it gains the paper-size X parts (SAM's decoder dims).
    """
    from earthgpt.models.builders import paper_x_config

    x_keys = ("region_token_id", "seg_token_id", "view_token_id")
    x = paper_x_config(*(token_ids.pop(k) for k in x_keys)) if all(k in token_ids for k in x_keys) else None
    step = math.lcm(parts.vit.patch_size, max(parts.cnn.feature_strides))
    if image_size % step:
        raise CheckpointShapeError(
            f"image size {image_size} must be a multiple of the ViT patch {parts.vit.patch_size} and the coarsest "
            f"ConvNeXt stride {max(parts.cnn.feature_strides)}: use a multiple of {step}, e.g. {step * max(1, round(image_size / step))}"
        )
    return EarthGPTConfig(
        name="auto",
        image_size=image_size,
        vit=parts.vit,
        cnn=parts.cnn,
        llm=parts.llm,
        projector="linear",
        extra={VIT_HF_KEY: parts.vit_hf},
        x=x,
        **token_ids,  # type: ignore[arg-type]
    )


def describe(config: EarthGPTConfig) -> dict[str, Any]:
    """The choices made for an assembled config, for logs and ``model info``."""
    return {
        "vit": {"hidden": config.vit.hidden_size, "blocks": config.vit.num_layers, "patch": config.vit.patch_size,
                "feature_layers": list(config.vit.feature_layers),
                "registers": int(config.extra.get(VIT_HF_KEY, {}).get("num_register_tokens", 0))},
        "cnn": {"widths": list(config.cnn.hidden_sizes), "depths": list(config.cnn.depths),
                "strides": list(config.cnn.feature_strides), "scale_channels": config.cnn.scale_channels},
        "llm": {"hidden": config.llm.hidden_size, "layers": config.llm.num_layers, "heads": config.llm.num_heads,
                "kv_heads": config.llm.num_kv_heads, "context": config.llm.max_position_embeddings},
        "grid": config.grid_size,
    }  # fmt: skip
