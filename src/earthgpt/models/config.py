"""Typed model configuration: the ViT branch, the CNN branch, the LLM, how they are joined, and the EarthGPT-X parts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from earthgpt.errors import ConfigError

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
CLIP_MEAN: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)

ProjectorKind = Literal["linear", "mlp2x_gelu"]
LinearBias = Literal["qkv", "all"]


@dataclass
class ViTConfig:
    """The multi-layer ViT branch (Eqs. 1-3): a DINOv2 encoder and the blocks whose outputs are concatenated."""

    hidden_size: int
    num_layers: int
    num_heads: int
    patch_size: int
    feature_layers: tuple[int, ...]
    """1-based block indices i whose outputs V_a^i are concatenated along channels (Eq. 3)."""
    mlp_ratio: int = 4
    layerscale_value: float = 1.0
    pos_image_size: int = 518
    """Image size the position embeddings were trained at (DINOv2: 518 = 37 x 14); other sizes interpolate."""
    layer_norm_eps: float = 1e-6
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self) -> None:
        self.feature_layers = tuple(int(i) for i in self.feature_layers)
        self.mean = tuple(self.mean)  # type: ignore[assignment]
        self.std = tuple(self.std)  # type: ignore[assignment]
        if not self.feature_layers or any(i < 1 or i > self.num_layers for i in self.feature_layers):
            raise ConfigError(
                f"vit.feature_layers={self.feature_layers}: each must be a block index in 1..{self.num_layers}"
            )

    @property
    def feature_dim(self) -> int:
        """Channels of V_a: one hidden state per selected block."""
        return self.hidden_size * len(self.feature_layers)


@dataclass
class CNNConfig:
    """The multi-scale CNN branch (Eqs. 4-6): a ConvNeXt encoder, the strides it contributes, their common width."""

    hidden_sizes: tuple[int, ...]
    depths: tuple[int, ...]
    scale_channels: int
    """Common channel width each scale is projected to (1x1 convolution) before concatenation (Eq. 6)."""
    feature_strides: tuple[int, ...] = (4, 8, 16, 32)
    mean: tuple[float, float, float] = CLIP_MEAN
    std: tuple[float, float, float] = CLIP_STD

    def __post_init__(self) -> None:
        self.hidden_sizes = tuple(int(c) for c in self.hidden_sizes)
        self.depths = tuple(int(d) for d in self.depths)
        self.feature_strides = tuple(int(s) for s in self.feature_strides)
        self.mean = tuple(self.mean)  # type: ignore[assignment]
        self.std = tuple(self.std)  # type: ignore[assignment]
        if len(self.hidden_sizes) != len(self.depths):
            raise ConfigError("cnn.hidden_sizes and cnn.depths must have one entry per stage")
        available = tuple(4 * 2**i for i in range(len(self.depths)))
        if not self.feature_strides or any(s not in available for s in self.feature_strides):
            raise ConfigError(f"cnn.feature_strides={self.feature_strides}: choose from {available}")

    @property
    def feature_dim(self) -> int:
        """Channels of V_b: one projected map per selected scale."""
        return self.scale_channels * len(self.feature_strides)


@dataclass
class LLMConfig:
    """The LLaMA-style decoder."""

    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    num_kv_heads: int | None = None
    max_position_embeddings: int = 4096
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    initializer_range: float = 0.02


@dataclass
class XConfig:
    """The EarthGPT-X parts: visual prompts, zoom views and the pixel perception module (docs/earthgpt-x.md).

    Absent (``EarthGPTConfig.x = None``) the model is plain EarthGPT and its config.json has ``"x": null``.
    """

    region_token_id: int
    """``<region>``: a placeholder whose embedding is replaced by the region feature of a prompt."""
    seg_token_id: int
    """``<seg>``: a token the model predicts; its last hidden state drives the mask decoder."""
    view_token_id: int
    """``<view>``: the separator before each view's image placeholders when a sample has several views."""
    max_views: int = 17
    """Rows of the learned view embedding: the global view plus at most a 4 x 4 grid."""
    prompt_hidden_size: int = 64
    """Spatial-aware encoder (a randomly initialised HF ViT over one-channel prompt maps, the ViT branch's patch)."""
    prompt_layers: int = 2
    prompt_heads: int = 2
    fusion_hidden_size: int = 64
    """Width of the fusion block; image features are projected down to it and back (zero-initialised) again."""
    fusion_heads: int = 2
    fusion_ffn_size: int = 256
    sam_hidden_size: int = 32
    """SAM mask decoder (HF SamMaskDecoder): width, two-way transformer depth, heads, MLP width, IoU head width."""
    sam_layers: int = 2
    sam_heads: int = 2
    sam_mlp_dim: int = 64
    sam_iou_hidden: int = 32
    sam_multimask_outputs: int = 3
    mask_stride: int = 4
    """CNN stride of the image embedding the mask decoder sees (its output is 4x finer: S x S at stride 4)."""
    ce_weight: float = 1.0
    bce_weight: float = 2.0
    dice_weight: float = 0.5
    """Loss = ce * token CE + bce * mask BCE + dice * mask Dice (LISA's 1 / 2 / 0.5)."""

    def __post_init__(self) -> None:
        ids = (self.region_token_id, self.seg_token_id, self.view_token_id)
        if len(set(ids)) != 3:
            raise ConfigError(f"x: region/seg/view token ids {ids} must be three different ids")
        for name, width, heads in (
            ("prompt", self.prompt_hidden_size, self.prompt_heads),
            ("fusion", self.fusion_hidden_size, self.fusion_heads),
            ("sam", self.sam_hidden_size, self.sam_heads),
        ):
            if width % heads:
                raise ConfigError(f"x.{name}_hidden_size={width} is not a multiple of x.{name}_heads={heads}")
        if self.sam_hidden_size % 8:
            raise ConfigError(f"x.sam_hidden_size={self.sam_hidden_size}: SAM's upscaling needs a multiple of 8")
        if self.max_views < 1:
            raise ConfigError(f"x.max_views={self.max_views}: at least the global view")

    @property
    def token_ids(self) -> tuple[int, int, int]:
        return (self.region_token_id, self.seg_token_id, self.view_token_id)


@dataclass
class EarthGPTConfig:
    """Everything needed to rebuild an EarthGPT module; saved as ``config.json`` beside the weights."""

    image_size: int
    vit: ViTConfig
    cnn: CNNConfig
    llm: LLMConfig
    vocab_size: int
    image_token_id: int
    pad_token_id: int
    bos_token_id: int
    eos_token_id: int
    projector: ProjectorKind = "linear"
    llm_linear_bias: LinearBias = "qkv"
    """Which LLM linear layers carry a bias: q/k/v only (stage 1, Eqs. 9-11) or all (after merging adapters)."""
    adapters: bool = False
    """True when every LLM linear layer carries the stage-2 scale and bias factors (Eq. 15)."""
    adapter_mu: float = 1.0
    adapter_sigma: float = 0.02
    name: str = "custom"
    extra: dict[str, Any] = field(default_factory=dict)
    x: XConfig | None = None
    """The EarthGPT-X parts (prompt encoder, fusion, region encoder, views, mask decoder); None = plain EarthGPT."""

    def __post_init__(self) -> None:
        if self.image_size % self.vit.patch_size:
            raise ConfigError(f"image_size={self.image_size} is not a multiple of vit.patch_size={self.vit.patch_size}")
        if self.image_size % max(self.cnn.feature_strides):
            raise ConfigError(
                f"image_size={self.image_size} is not a multiple of the coarsest CNN stride "
                f"{max(self.cnn.feature_strides)}; pick a size divisible by both"
            )
        for key in ("image_token_id", "pad_token_id", "bos_token_id", "eos_token_id"):
            value = getattr(self, key)
            if not 0 <= value < self.vocab_size:
                raise ConfigError(f"{key}={value} is outside the vocabulary [0, {self.vocab_size})")
        if self.x is not None:
            plain = {self.image_token_id, self.pad_token_id, self.bos_token_id, self.eos_token_id}
            for key, value in zip(("region_token_id", "seg_token_id", "view_token_id"), self.x.token_ids, strict=True):
                if not 0 <= value < self.vocab_size or value in plain:
                    raise ConfigError(
                        f"x.{key}={value} is outside the vocabulary [0, {self.vocab_size}) or reuses an image/pad/"
                        "bos/eos id; add the EarthGPT-X tokens to the tokenizer (data/tokenizer.py)"
                    )
        if self.x is not None and self.image_size % self.x.mask_stride:
            raise ConfigError(f"image_size={self.image_size} is not a multiple of x.mask_stride={self.x.mask_stride}")

    @property
    def grid_size(self) -> int:
        """Side of the visual token grid (the ViT patch grid)."""
        return self.image_size // self.vit.patch_size

    @property
    def num_image_tokens(self) -> int:
        return self.grid_size**2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EarthGPTConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown model config keys {unknown}; expected a subset of {sorted(known)}")
        values = dict(data)
        values["vit"] = ViTConfig(**values["vit"])
        values["cnn"] = CNNConfig(**values["cnn"])
        values["llm"] = LLMConfig(**values["llm"])
        if values.get("x") is not None:
            values["x"] = XConfig(**values["x"])
        return cls(**values)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> EarthGPTConfig:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"{p}: no model config; a checkpoint directory holds config.json")
        try:
            return cls.from_dict(json.loads(p.read_text()))
        except (KeyError, TypeError, json.JSONDecodeError) as err:
            raise ConfigError(f"{p}: not a valid EarthGPT config ({err}); re-export the checkpoint") from err
