"""The spatial-aware encoder (a ViT over prompt maps) and the region encoder (one mask-pooled token per prompt)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from transformers import ViTConfig as HFViTConfig
from transformers import ViTModel


class SpatialAwareEncoder(nn.Module):
    """A randomly initialised HF ``ViTModel`` over one-channel prompt maps.

    Its patch size is the ViT branch's, so prompt token n covers exactly the pixels of image token n:
    ``prompt_maps`` [P, S, S] in [0, 1] -> [P, N, hidden] (CLS dropped, patch grid in raster order).
    """

    def __init__(self, image_size: int, patch_size: int, hidden_size: int, num_layers: int, num_heads: int) -> None:
        super().__init__()
        config = HFViTConfig(
            hidden_size=hidden_size,
            num_hidden_layers=num_layers,
            num_attention_heads=num_heads,
            intermediate_size=4 * hidden_size,
            image_size=image_size,
            patch_size=patch_size,
            num_channels=1,
        )
        self.model = ViTModel(config, add_pooling_layer=False)
        self.hidden_size = hidden_size

    def forward(self, prompt_maps: torch.Tensor) -> torch.Tensor:
        dtype = self.model.embeddings.patch_embeddings.projection.weight.dtype
        x = (prompt_maps.unsqueeze(1).to(dtype) - 0.5) * 2.0  # [P, 1, S, S] in [-1, 1]
        hidden = self.model(pixel_values=x).last_hidden_state  # [P, 1 + N, hidden]
        return hidden[:, 1:, :]  # [P, N, hidden]


def mask_pool(feature: torch.Tensor, maps: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Mean of ``feature`` [P, C, h, w] under ``maps`` [P, S, S] (area-resized to h x w): [P, C].

    Area resizing keeps the mass of a small prompt (a point is a few input pixels), so even the stride-32 level
    sees a non-zero weight under it.
    """
    weights = F.adaptive_avg_pool2d(
        maps.unsqueeze(1).to(feature.dtype), (feature.shape[-2], feature.shape[-1])
    )  # [P, 1, h, w]
    total = weights.sum(dim=(2, 3)).clamp_min(eps)  # [P, 1]
    return (feature * weights).sum(dim=(2, 3)) / total  # [P, C]


class RegionEncoder(nn.Module):
    """Osprey's mask-pooled region feature: per CNN level, the mean feature under the prompt, projected to the LLM
    width, summed over levels, then a two-layer MLP. ``forward(stages, maps)`` -> [P, D]."""

    def __init__(self, stage_channels: Sequence[int], out_dim: int) -> None:
        super().__init__()
        self.levels = nn.ModuleList([nn.Linear(int(c), out_dim) for c in stage_channels])
        self.mlp = nn.Sequential(nn.Linear(out_dim, out_dim), nn.GELU(), nn.Linear(out_dim, out_dim))

    def forward(self, stages: Sequence[torch.Tensor], maps: torch.Tensor) -> torch.Tensor:
        """``stages``: the CNN stage maps of each prompt's global view, stage k [P, C_k, h_k, h_k]; ``maps`` [P, S, S]."""
        dtype = next(self.parameters()).dtype
        pooled = sum(
            level(mask_pool(stage.to(dtype), maps)) for level, stage in zip(self.levels, stages, strict=True)
        )  # [P, D]
        return self.mlp(pooled)  # type: ignore[no-any-return]  # [P, D]
