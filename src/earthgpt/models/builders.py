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
from earthgpt.models.config import CNNConfig, EarthGPTConfig, LLMConfig, ViTConfig, XConfig
from earthgpt.models.convnext_weights import load_convnext_weights
from earthgpt.models.earthgpt import EarthGPT
from earthgpt.models.language import add_linear_biases, llama_hf_config, load_llama
from earthgpt.models.pixel.decoder import MaskDecoder, SegProjector
from earthgpt.models.projector import Projector
from earthgpt.models.prompts.encoder import RegionEncoder, SpatialAwareEncoder
from earthgpt.models.prompts.fusion import PromptFusion
from earthgpt.models.vision.cnn import MultiScaleCNN
from earthgpt.models.vision.hybrid import HybridEncoder
from earthgpt.models.vision.vit import MultiLayerViT
from earthgpt.models.visual import XParts

logger = logging.getLogger(__name__)

SIZES: tuple[str, ...] = ("tiny", "paper")


@dataclass(frozen=True)
class PretrainedSources:
    """Local pretrained weights for the paper size; nothing is ever downloaded.

    ``dinov2_dir``: HF-format DINOv2 directory (config.json + weights). ``convnext_weights``: an open_clip/timm
    state-dict file of CLIP ConvNeXt (``.safetensors``, or ``.bin``/``.pt`` read with weights_only=True).
    ``llama_dir``: HF-format LLaMA-2 directory. ``sam_dir``: HF ``SamModel`` directory whose mask decoder the
    EarthGPT-X pixel perception module starts from. Any of them may be None (that part stays randomly initialised).
    """

    dinov2_dir: str | Path | None = None
    convnext_weights: str | Path | None = None
    llama_dir: str | Path | None = None
    sam_dir: str | Path | None = None


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


def x_parts(config: EarthGPTConfig, vision: HybridEncoder, sam_dir: str | Path | None = None) -> XParts:
    """The EarthGPT-X modules for ``config.x`` over ``vision`` (its CNN stages feed the region encoder and the mask
    decoder); with ``sam_dir`` the mask decoder starts from a local SAM checkpoint."""
    x = config.x
    assert x is not None
    cnn = vision.cnn
    if not isinstance(cnn, MultiScaleCNN):
        raise TypeError(f"EarthGPT-X reads CNN stage maps; {type(cnn).__name__} has none")
    channels = [cnn.stage_channels[k] for k in cnn.stage_indices]
    d = config.llm.hidden_size
    view_embedding = torch.nn.Embedding(x.max_views, d)
    torch.nn.init.zeros_(view_embedding.weight)  # the global view starts as today's single view
    parts = XParts(
        prompt_encoder=SpatialAwareEncoder(
            config.image_size, config.vit.patch_size, x.prompt_hidden_size, x.prompt_layers, x.prompt_heads
        ),
        fusion=PromptFusion(
            vision.embed_dim, x.prompt_hidden_size, x.fusion_hidden_size, x.fusion_heads, x.fusion_ffn_size
        ),
        region_encoder=RegionEncoder(channels, d),
        view_embedding=view_embedding,
        seg_projector=SegProjector(d, x.sam_hidden_size),
        mask_decoder=MaskDecoder(x, channels, config.image_size),
    )
    if sam_dir is not None:
        parts.mask_decoder.load_sam(sam_dir)
    return parts


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
    if src.sam_dir is not None and config.x is None:
        raise ValueError("a SAM checkpoint was given but the config has no x part (no mask decoder to load it into)")
    if device is not None and str(device) == "meta" and pretrained is not None:
        raise ValueError("pretrained weights cannot be loaded on the meta device; drop device='meta'")
    device_ctx = torch.device(device) if device is not None else contextlib.nullcontext()
    with _seeded(seed), device_ctx:
        vit = vit_branch(config.vit, config.image_size, src.dinov2_dir, config.extra.get("vit_hf_config"))
        cnn = cnn_branch(config.cnn, config.image_size, config.grid_size, src.convnext_weights)
        vision = HybridEncoder(vit, cnn)
        projector = Projector(vision.embed_dim, config.llm.hidden_size, config.projector)
        llm = llama_lm(config, src.llama_dir, dtype)
        # built last, so the plain parts draw the same random numbers with or without them
        x = x_parts(config, vision, src.sam_dir) if config.x is not None else None
    model = EarthGPT(config, vision, projector, llm, x)
    if pretrained is not None:
        logger.info("built %s EarthGPT with pretrained parts from %s", config.name, pretrained)
    # both pretrained vision encoders stay frozen (V-A); the new layers (1x1 scale projections, projector) train
    for p in (*vit.model.parameters(), *cnn.model.parameters()):
        p.requires_grad_(False)
    if dtype is not None:
        model.to(dtype)
    return model


# ----- named sizes --------------------------------------------------------------------------------------------


def tiny_x_config(region_token_id: int, seg_token_id: int, view_token_id: int) -> XConfig:
    """The EarthGPT-X parts at CPU size: a 2-layer 64-wide prompt ViT, a 64-wide fusion block, a 32-wide SAM
    decoder (2 two-way layers, 2 heads)."""
    return XConfig(region_token_id=region_token_id, seg_token_id=seg_token_id, view_token_id=view_token_id)


def paper_x_config(region_token_id: int, seg_token_id: int, view_token_id: int) -> XConfig:
    """The EarthGPT-X parts at paper size (docs/earthgpt-x.md says why):

    - prompt encoder: a 4-layer 512-wide ViT (8 heads, patch 14 like DINOv2-L): prompt maps are one-channel
      shapes, a small randomly initialised ViT is enough to encode where they are, and it trains from scratch in
      the one X stage (~12.6M parameters);
    - fusion: 1024 wide (DINOv2-L's width), 16 heads, FFN 4096;
    - mask decoder: SAM's (ViT-B/L/H share it): 256 wide, 2 two-way layers, 8 heads, MLP 2048, IoU head 256.
    """
    return XConfig(
        region_token_id=region_token_id,
        seg_token_id=seg_token_id,
        view_token_id=view_token_id,
        prompt_hidden_size=512,
        prompt_layers=4,
        prompt_heads=8,
        fusion_hidden_size=1024,
        fusion_heads=16,
        fusion_ffn_size=4096,
        sam_hidden_size=256,
        sam_layers=2,
        sam_heads=8,
        sam_mlp_dim=2048,
        sam_iou_hidden=256,
    )


def _x_part(
    make: Any, region_token_id: int | None, seg_token_id: int | None, view_token_id: int | None
) -> XConfig | None:
    ids = (region_token_id, seg_token_id, view_token_id)
    if all(i is None for i in ids):
        return None
    if any(i is None for i in ids):
        raise ValueError(f"EarthGPT-X needs all three token ids (region, seg, view); got {ids}")
    return make(*ids)  # type: ignore[no-any-return]


def tiny_config(
    vocab_size: int,
    image_token_id: int,
    pad_token_id: int,
    bos_token_id: int,
    eos_token_id: int,
    region_token_id: int | None = None,
    seg_token_id: int | None = None,
    view_token_id: int | None = None,
    image_size: int = 160,
) -> EarthGPTConfig:
    """CPU-sized EarthGPT for tests and demos: 160 px, 100 visual tokens, a 4-layer 256-wide LLaMA.

    About 6M parameters plus 2 x 256 x vocab_size for the input/output embeddings. With the three EarthGPT-X
    token ids it gains the X parts (``tiny_x_config``). ``image_size`` (a multiple of 32) changes the input and the
    ViT's position grid with it: (image_size / 16)^2 visual tokens.
    """
    return EarthGPTConfig(
        name="tiny",
        image_size=image_size,
        vit=ViTConfig(
            hidden_size=192,
            num_layers=4,
            num_heads=3,
            patch_size=16,
            feature_layers=(2, 4),
            pos_image_size=image_size,
        ),
        cnn=CNNConfig(hidden_sizes=(32, 64, 128, 256), depths=(1, 1, 2, 1), scale_channels=64),
        llm=LLMConfig(hidden_size=256, num_layers=4, num_heads=4, intermediate_size=688, max_position_embeddings=2048),
        projector="linear",
        vocab_size=vocab_size,
        image_token_id=image_token_id,
        pad_token_id=pad_token_id,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
        x=_x_part(tiny_x_config, region_token_id, seg_token_id, view_token_id),
    )


def paper_config(
    vocab_size: int = 32001,
    image_token_id: int = 32000,
    pad_token_id: int = 0,
    bos_token_id: int = 1,
    eos_token_id: int = 2,
    region_token_id: int | None = None,
    seg_token_id: int | None = None,
    view_token_id: int | None = None,
) -> EarthGPTConfig:
    """The paper's EarthGPT: DINOv2 ViT-L/14 + CLIP ConvNeXt-L + LLaMA-2-7B, 224 px, 256 visual tokens.

    ViT blocks 6/12/18/24 (our choice: the paper says "multi-layer" and names none) and ConvNeXt strides 4/8/16/32 (each projected to 1024 channels) give 8192 channels per
    token before the linear projection to 4096. The defaults are LLaMA-2's token ids plus one added image token.
    With the three EarthGPT-X token ids it gains the X parts (``paper_x_config``).
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
        x=_x_part(paper_x_config, region_token_id, seg_token_id, view_token_id),
    )


def named_config(size: str, image_size: int | None = None, **token_ids: int) -> EarthGPTConfig:
    """``tiny`` or ``paper`` by name; ``image_size`` replaces the tiny size's 160 px (the paper's is 224)."""
    if size == "tiny":
        return tiny_config(**token_ids, **({"image_size": image_size} if image_size is not None else {}))
    if size == "paper":
        if image_size not in (None, 224):
            raise ValueError(f"image_size={image_size}: the paper size is 224 px (its DINOv2 and CLIP ConvNeXt)")
        return paper_config(**token_ids)
    raise ValueError(f"unknown model size {size!r}; choose one of {SIZES}")
