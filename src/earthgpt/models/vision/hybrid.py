"""The hybrid encoder: ViT and CNN tokens concatenated channel-wise (the Concat of Eq. 7)."""

from __future__ import annotations

import torch

from earthgpt.models.vision.base import VisionEncoder


class HybridEncoder(VisionEncoder):
    """Concat(V_a, V_b) along channels; both branches must see the same image and give the same token grid."""

    def __init__(self, vit: VisionEncoder, cnn: VisionEncoder) -> None:
        super().__init__()
        if vit.num_tokens != cnn.num_tokens or vit.image_size != cnn.image_size:
            raise ValueError(
                f"branches disagree: ViT gives {vit.num_tokens} tokens at {vit.image_size}px, CNN gives "
                f"{cnn.num_tokens} tokens at {cnn.image_size}px; build the CNN branch with the ViT grid"
            )
        self.vit = vit
        self.cnn = cnn

    @property
    def embed_dim(self) -> int:
        return self.vit.embed_dim + self.cnn.embed_dim

    @property
    def num_tokens(self) -> int:
        return self.vit.num_tokens

    @property
    def image_size(self) -> int:
        return self.vit.image_size

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        v_a = self.vit(pixel_values)  # [B, N, Ca]
        v_b = self.cnn(pixel_values)  # [B, N, Cb]
        return torch.cat([v_a, v_b.to(v_a.dtype)], dim=-1)  # [B, N, Ca + Cb]
