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

    def encode_with_stages(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """The tokens of ``forward`` and the CNN stage maps they came from (the region encoder and the mask decoder
        read those maps too, so ConvNeXt runs once): [B, N, Ca + Cb] and stage k [B, C_k, h_k, h_k]."""
        stage_maps = getattr(self.cnn, "stage_maps", None)
        tokens_from_stages = getattr(self.cnn, "tokens_from_stages", None)
        if stage_maps is None or tokens_from_stages is None:
            raise TypeError(f"{type(self.cnn).__name__} exposes no stage maps; EarthGPT-X needs a MultiScaleCNN")
        v_a = self.vit(pixel_values)  # [B, N, Ca]
        stages = stage_maps(pixel_values)
        v_b = tokens_from_stages(stages)  # [B, N, Cb]
        return torch.cat([v_a, v_b.to(v_a.dtype)], dim=-1), stages
