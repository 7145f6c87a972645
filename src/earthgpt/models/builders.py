"""Component builders with every knob, the two named sizes (``tiny``, ``paper``) with literal numbers, build_model."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModel,
    ConvNextConfig,
    ConvNextModel,
    Dinov2Config,
    LlamaForCausalLM,
    PretrainedConfig,
)

from earthgpt.models.adapters import add_adapters
from earthgpt.models.config import CNNConfig, EarthGPTConfig, LLMConfig, ViTConfig
from earthgpt.models.convnext_weights import load_convnext_weights
from earthgpt.models.earthgpt import EarthGPT
from earthgpt.models.language import add_linear_biases, llama_hf_config, load_llama
from earthgpt.models.projector import Projector
from earthgpt.models.vision.cnn import MultiScaleCNN
from earthgpt.models.vision.hybrid import HybridEncoder
from earthgpt.models.vision.vit import MultiLayerViT

logger = logging.getLogger(__name__)

SIZES: tuple[str, ...] = ("tiny", "paper")


@dataclass(frozen=True)
class PretrainedSources:
    """Local pretrained weights for the paper size; nothing is ever downloaded.

    ``dinov2_dir``: HF-format DINOv2 directory (config.json + weights). ``convnext_weights``: an open_clip/timm
    state-dict file of CLIP ConvNeXt (``.safetensors``, or ``.bin``/``.pt`` read with weights_only=True).
    ``llama_dir``: HF-format LLaMA-2 directory. Any of them may be None (that part stays randomly initialised).
    """

    dinov2_dir: str | Path | None = None
    convnext_weights: str | Path | None = None
    llama_dir: str | Path | None = None


# ----- component builders -------------------------------------------------------------------------------------


def dinov2_hf_config(vit: ViTConfig, extra: dict[str, Any] | None = None) -> PretrainedConfig:
    """The HF config for a ViT branch: Dinov2Config (no drop path, no SwiGLU: the ViT-S/B/L layout), or with
    ``extra`` (an assembled model's registers / SwiGLU, see models/assemble.py) the checkpoint's own kind."""
    if extra:
        return AutoConfig.for_model(**(_dinov2_fields(vit) | extra))
    return Dinov2Config(**_dinov2_fields(vit))


def _dinov2_fields(vit: ViTConfig) -> dict[str, Any]:
    return dict(
        hidden_size=vit.hidden_size,
        num_hidden_layers=vit.num_layers,
        num_attention_heads=vit.num_heads,
        mlp_ratio=vit.mlp_ratio,
        patch_size=vit.patch_size,
        image_size=vit.pos_image_size,
        layerscale_value=vit.layerscale_value,
        layer_norm_eps=vit.layer_norm_eps,
        drop_path_rate=0.0,
        use_swiglu_ffn=False,
    )


def vit_branch(
    vit: ViTConfig, image_size: int, dinov2_dir: str | Path | None = None, extra: dict[str, Any] | None = None
) -> MultiLayerViT:
    """The multi-layer ViT branch; with ``dinov2_dir`` its DINOv2 weights are read from that local directory."""
    if dinov2_dir is None:
        model = AutoModel.from_config(dinov2_hf_config(vit, extra))
    else:
        path = Path(dinov2_dir)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path}: not an HF DINOv2 directory (no config.json)")
        model = AutoModel.from_pretrained(path, local_files_only=True)
        kind = model.config.model_type
        if kind != (extra or {}).get("model_type", "dinov2"):
            raise ValueError(f"{path}: a {kind} checkpoint; assemble it with `earthgpt model init --size auto`")
        got = (model.config.hidden_size, model.config.num_hidden_layers, model.config.patch_size)
        if got != (vit.hidden_size, vit.num_layers, vit.patch_size):
            raise ValueError(f"{path}: DINOv2 (hidden, layers, patch)={got} does not match the vit config {vit}")
    return MultiLayerViT(model, image_size, vit.feature_layers, vit.mean, vit.std)


def convnext_hf_config(cnn: CNNConfig) -> ConvNextConfig:
    """The HF ConvNextConfig for a CNN branch (patch-4 stem, GELU, layer scale, no drop path)."""
    return ConvNextConfig(
        hidden_sizes=list(cnn.hidden_sizes),
        depths=list(cnn.depths),
        num_stages=len(cnn.depths),
        patch_size=4,
        drop_path_rate=0.0,
    )


def cnn_branch(cnn: CNNConfig, image_size: int, grid: int, weights: str | Path | None = None) -> MultiScaleCNN:
    """The multi-scale CNN branch; with ``weights`` the ConvNeXt is loaded from an open_clip/timm state-dict file."""
    model = ConvNextModel(convnext_hf_config(cnn))
    if weights is not None:
        load_convnext_weights(model, weights)
    return MultiScaleCNN(model, image_size, grid, cnn.feature_strides, cnn.scale_channels, cnn.mean, cnn.std)


def llama_lm(
    config: EarthGPTConfig, llama_dir: str | Path | None = None, dtype: torch.dtype | None = None
) -> LlamaForCausalLM:
    """The LLaMA decoder with the configured linear biases (and stage-2 adapters if the config says so)."""
    if llama_dir is None:
        hf = llama_hf_config(
            config.llm, config.vocab_size, config.pad_token_id, config.bos_token_id, config.eos_token_id
        )
        llm = LlamaForCausalLM(hf)
    else:
        llm = load_llama(llama_dir, config.llm, config.vocab_size, dtype or torch.get_default_dtype())
    add_linear_biases(llm, config.llm_linear_bias)
    if config.adapters:
        add_adapters(llm.model.layers, config.adapter_mu, config.adapter_sigma, seed=0)
    return llm


@contextlib.contextmanager
def _seeded(seed: int | None) -> Iterator[None]:
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def build_model(
    config: EarthGPTConfig,
    pretrained: PretrainedSources | None = None,
    device: str | torch.device | None = None,
    seed: int | None = None,
    dtype: torch.dtype | None = None,
) -> EarthGPT:
    """Build EarthGPT from ``config``; ``device="meta"`` gives shapes and counts without allocating memory.

    ``pretrained`` loads the paper's DINOv2 / CLIP ConvNeXt / LLaMA-2 weights from local files; the projector and
    the per-scale 1x1 projections are always new. ``seed`` fixes the random initialisation; ``dtype`` casts the
    whole model (e.g. torch.bfloat16; LLaMA is then read directly in that dtype).
    """
    src = pretrained or PretrainedSources()
    if device is not None and str(device) == "meta" and pretrained is not None:
        raise ValueError("pretrained weights cannot be loaded on the meta device; drop device='meta'")
    device_ctx = torch.device(device) if device is not None else contextlib.nullcontext()
    with _seeded(seed), device_ctx:
        vit = vit_branch(config.vit, config.image_size, src.dinov2_dir, config.extra.get("vit_hf_config"))
        cnn = cnn_branch(config.cnn, config.image_size, config.grid_size, src.convnext_weights)
        vision = HybridEncoder(vit, cnn)
        projector = Projector(vision.embed_dim, config.llm.hidden_size, config.projector)
        llm = llama_lm(config, src.llama_dir, dtype)
    model = EarthGPT(config, vision, projector, llm)
    if pretrained is not None:
        logger.info("built %s EarthGPT with pretrained parts from %s", config.name, pretrained)
    # both pretrained vision encoders stay frozen (V-A); the new layers (1x1 scale projections, projector) train
    for p in (*vit.model.parameters(), *cnn.model.parameters()):
        p.requires_grad_(False)
    if dtype is not None:
        model.to(dtype)
    return model


# ----- named sizes --------------------------------------------------------------------------------------------


def tiny_config(
    vocab_size: int, image_token_id: int, pad_token_id: int, bos_token_id: int, eos_token_id: int
) -> EarthGPTConfig:
    """CPU-sized EarthGPT for tests and demos: 160 px, 100 visual tokens, a 4-layer 256-wide LLaMA.

    About 6M parameters plus 2 x 256 x vocab_size for the input/output embeddings.
    """
    return EarthGPTConfig(
        name="tiny",
        image_size=160,
        vit=ViTConfig(
            hidden_size=192,
            num_layers=4,
            num_heads=3,
            patch_size=16,
            feature_layers=(2, 4),
            pos_image_size=160,
        ),
        cnn=CNNConfig(hidden_sizes=(32, 64, 128, 256), depths=(1, 1, 2, 1), scale_channels=64),
        llm=LLMConfig(hidden_size=256, num_layers=4, num_heads=4, intermediate_size=688, max_position_embeddings=2048),
        projector="linear",
        vocab_size=vocab_size,
        image_token_id=image_token_id,
        pad_token_id=pad_token_id,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
    )


def paper_config(
    vocab_size: int = 32001,
    image_token_id: int = 32000,
    pad_token_id: int = 0,
    bos_token_id: int = 1,
    eos_token_id: int = 2,
) -> EarthGPTConfig:
    """The paper's EarthGPT: DINOv2 ViT-L/14 + CLIP ConvNeXt-L + LLaMA-2-7B, 224 px, 256 visual tokens.

    ViT blocks 6/12/18/24 (our choice: the paper says "multi-layer" and names none) and ConvNeXt strides 4/8/16/32 (each projected to 1024 channels) give 8192 channels per
    token before the linear projection to 4096. The defaults are LLaMA-2's token ids plus one added image token.
    """
    return EarthGPTConfig(
        name="paper",
        image_size=224,
        vit=ViTConfig(
            hidden_size=1024,
            num_layers=24,
            num_heads=16,
            patch_size=14,
            feature_layers=(6, 12, 18, 24),
            pos_image_size=518,
        ),
        cnn=CNNConfig(hidden_sizes=(192, 384, 768, 1536), depths=(3, 3, 27, 3), scale_channels=1024),
        llm=LLMConfig(
            hidden_size=4096,
            num_layers=32,
            num_heads=32,
            intermediate_size=11008,
            max_position_embeddings=4096,
            rms_norm_eps=1e-5,
        ),
        projector="linear",
        vocab_size=vocab_size,
        image_token_id=image_token_id,
        pad_token_id=pad_token_id,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
    )


def named_config(size: str, **token_ids: int) -> EarthGPTConfig:
    """``tiny`` or ``paper`` by name."""
    if size == "tiny":
        return tiny_config(**token_ids)
    if size == "paper":
        return paper_config(**token_ids)
    raise ValueError(f"unknown model size {size!r}; choose one of {SIZES}")
