"""Multi-layer visual perception (Eqs. 1-3): DINOv2 hidden states of chosen blocks, concatenated along channels."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import Dinov2Config, Dinov2Model

from earthgpt.models.vision.base import BackboneEncoder


class MultiLayerViT(BackboneEncoder):
    """A DINOv2 ViT whose patch tokens from several blocks are concatenated channel-wise.

    V_a^1 = ViTBlock_1(I), V_a^i = ViTBlock_i(V_a^{i-1}), V_a = Concat[V_a^i for i in feature_layers]. The hidden
    states are taken as each block outputs them (before DINOv2's final LayerNorm), the CLS token (and any register
    tokens) dropped, so the tokens are the patch grid in raster order: [B, (S/P)^2, hidden * len(feature_layers)].
    """

    model: Dinov2Model

    def __init__(
        self,
        model: Dinov2Model,
        image_size: int,
        feature_layers: Sequence[int],
        mean: Sequence[float],
        std: Sequence[float],
    ) -> None:
        cfg: Dinov2Config = model.config
        n = cfg.num_hidden_layers
        patch = int(cfg.patch_size)  # type: ignore[arg-type]
        if not feature_layers or any(i < 1 or i > n for i in feature_layers):
            raise ValueError(f"feature_layers={tuple(feature_layers)}: block indices must lie in 1..{n}")
        if image_size % patch:
            raise ValueError(f"image_size={image_size} is not a multiple of the ViT patch size {patch}")
        super().__init__(model, image_size, image_size // patch, mean, std)
        self.feature_layers = tuple(int(i) for i in feature_layers)
        self.prefix_tokens = 1 + int(getattr(cfg, "num_register_tokens", 0))  # CLS (+ registers) before the patches

    @property
    def embed_dim(self) -> int:
        return int(self.model.config.hidden_size) * len(self.feature_layers)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        # hidden_states[0] is the embedding output, hidden_states[i] the output of block i: [B, 1 + N, C] each
        hidden = self.hidden_states(pixel_values, self.model.embeddings.cls_token.dtype)
        return torch.cat([hidden[i][:, self.prefix_tokens :, :] for i in self.feature_layers], dim=-1)  # [B, N, C*n]
