"""Multi-scale visual perception (Eqs. 4-6): ConvNeXt stage outputs, one width, one token grid, concatenated."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from transformers import ConvNextModel

from earthgpt.models.vision.base import BackboneEncoder


def align_to_grid(feature: torch.Tensor, grid: int) -> torch.Tensor:
    """Resample a [B, C, h, h] map to [B, C, grid, grid].

    Finer maps (h > grid) are adaptive-average-pooled: each token is the mean of the CNN cells its patch covers, so
    the local detail of the stride-4/8 maps is summarised over exactly the token's footprint (no aliasing, no
    parameters). Coarser maps (h < grid) are bilinearly upsampled (align_corners=False keeps cell centres aligned).
    """
    h = feature.shape[-1]
    if h == grid:
        return feature
    if h > grid:
        return F.adaptive_avg_pool2d(feature, grid)
    return F.interpolate(feature, size=(grid, grid), mode="bilinear", align_corners=False)


class MultiScaleCNN(BackboneEncoder):
    """A ConvNeXt whose stage outputs at several strides are brought to one width and one grid, then concatenated.

    Stage k (0-based) of ConvNeXt has stride 4 * 2^k: [B, C_k, S/(4*2^k), S/(4*2^k)]. Each selected map is aligned
    to the token grid of the ViT branch (``grid`` = S / patch; see ``align_to_grid``) and projected by its own 1x1
    convolution to ``scale_channels`` (Eq. 6 "transformed into the same channel dimension"). The grid of the ViT is
    the reference because the two branches are joined token by token (Eq. 7): the ViT grid is fixed by its patch
    size and position embeddings, whereas resampling a CNN map is cheap and parameter-free. Pooling and the 1x1
    projection are both linear per position, so resampling first gives the same result at a fraction of the cost.
    Output: [B, grid^2, scale_channels * len(feature_strides)].
    """

    model: ConvNextModel

    def __init__(
        self,
        model: ConvNextModel,
        image_size: int,
        grid: int,
        feature_strides: Sequence[int],
        scale_channels: int,
        mean: Sequence[float],
        std: Sequence[float],
    ) -> None:
        sizes = [int(c) for c in model.config.hidden_sizes or ()]
        strides = [4 * 2**k for k in range(len(sizes))]
        for s in feature_strides:
            if s not in strides:
                raise ValueError(f"feature_strides={tuple(feature_strides)}: this ConvNeXt has strides {strides}")
        super().__init__(model, image_size, grid, mean, std)
        self.stage_indices = tuple(strides.index(s) for s in feature_strides)
        self.scale_proj = nn.ModuleList(nn.Conv2d(sizes[k], scale_channels, kernel_size=1) for k in self.stage_indices)
        self.scale_channels = scale_channels

    @property
    def embed_dim(self) -> int:
        return self.scale_channels * len(self.stage_indices)

    def stage_maps(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The ConvNeXt stage outputs, stage k: [B, C_k, S/(4*2^k), S/(4*2^k)] (read again by the EarthGPT-X parts)."""
        dtype = self.model.embeddings.patch_embeddings.weight.dtype
        # hidden_states[0] is the stem output, hidden_states[k + 1] the output of stage k: [B, C_k, h_k, h_k]
        return self.hidden_states(pixel_values, dtype)[1:]

    @property
    def stage_channels(self) -> tuple[int, ...]:
        """C_k of every ConvNeXt stage."""
        return tuple(int(c) for c in self.model.config.hidden_sizes or ())

    def tokens_from_stages(self, stages: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """V_b from the stage outputs: [B, N, scale_channels * len(feature_strides)]."""
        dtype = self.model.embeddings.patch_embeddings.weight.dtype
        tokens = []
        for proj, k in zip(self.scale_proj, self.stage_indices, strict=True):
            fmap = align_to_grid(stages[k], self._grid).to(dtype)  # [B, C_k, G, G]
            fmap = proj(fmap)  # [B, D, G, G]
            tokens.append(fmap.flatten(2).transpose(1, 2))  # [B, G*G, D]
        return torch.cat(tokens, dim=-1)  # [B, N, D * m]

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.tokens_from_stages(self.stage_maps(pixel_values))  # [B, N, D * m]
