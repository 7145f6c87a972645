"""The ``<seg>`` projector and the mask decoder (HF SAM's two-way decoder over the hybrid encoder's CNN maps)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from transformers import SamMaskDecoderConfig, SamModel, SamVisionConfig
from transformers.models.sam.modeling_sam import SamMaskDecoder, SamPositionalEmbedding

from earthgpt.models.config import XConfig


class SegProjector(nn.Module):
    """LISA's ``text_hidden_fcs``: the LLM's last hidden state at a ``<seg>`` -> one SAM prompt embedding.

    [M, D] -> [M, C_sam] (Linear, ReLU, Linear).
    """

    def __init__(self, llm_dim: int, sam_dim: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(llm_dim, llm_dim), nn.ReLU(), nn.Linear(llm_dim, sam_dim))

    def forward(self, seg_hidden: torch.Tensor) -> torch.Tensor:
        return self.layers(seg_hidden.to(next(self.parameters()).dtype))  # type: ignore[no-any-return]  # [M, C]


def sam_decoder_config(x: XConfig) -> SamMaskDecoderConfig:
    """The HF SAM mask-decoder config of an XConfig (SAM ViT-B/L/H all share 256 / 2 / 8 / 2048 / 256)."""
    config = SamMaskDecoderConfig(
        hidden_size=x.sam_hidden_size,
        num_hidden_layers=x.sam_layers,
        num_attention_heads=x.sam_heads,
        mlp_dim=x.sam_mlp_dim,
        iou_head_hidden_dim=x.sam_iou_hidden,
        num_multimask_outputs=x.sam_multimask_outputs,
    )
    config._attn_implementation = "sdpa"
    return config


class MaskDecoder(nn.Module):
    """Mask logits [M, S, S] from SAM prompt embeddings [M, C] and the CNN stage maps of each mask's image.

    The image embedding: every selected CNN stage map is projected (1x1) to SAM's width C, resampled to the
    stride-``mask_stride`` grid and summed (an FPN without the top-down path), then layer-normed
    ([B, C, S/4, S/4] at stride 4). SAM's decoder upsamples 4x, so at stride 4 its logits are already S x S.
    ``positional`` (SAM's random Fourier features, ``num_pos_feats`` = C / 2) and ``no_mask_embed`` (the dense
    prompt SAM uses when no mask is given) keep SAM's names so a SAM checkpoint loads into them.
    """

    def __init__(self, x: XConfig, stage_channels: Sequence[int], image_size: int) -> None:
        super().__init__()
        width = x.sam_hidden_size
        self.grid = image_size // x.mask_stride
        self.image_size = image_size
        self.neck = nn.ModuleList(nn.Conv2d(int(c), width, kernel_size=1) for c in stage_channels)
        self.neck_norm = nn.GroupNorm(1, width)
        vision = SamVisionConfig(num_pos_feats=width // 2)
        vision.scale = 1.0  # type: ignore[assignment]  # SAM's Fourier-feature scale
        self.positional = SamPositionalEmbedding(vision)
        self.no_mask_embed = nn.Embedding(1, width)
        self.decoder = SamMaskDecoder(sam_decoder_config(x))

    def image_embeddings(self, stages: Sequence[torch.Tensor]) -> torch.Tensor:
        """CNN stage maps (stage k [B, C_k, h_k, h_k]) -> [B, C, G, G] with G = S / mask_stride."""
        dtype = self.no_mask_embed.weight.dtype
        total = 0
        for proj, stage in zip(self.neck, stages, strict=True):
            fmap = proj(stage.to(dtype))  # [B, C, h_k, h_k]
            if fmap.shape[-1] != self.grid:
                fmap = F.interpolate(fmap, size=(self.grid, self.grid), mode="bilinear", align_corners=False)
            total = total + fmap
        return self.neck_norm(total)  # type: ignore[arg-type,no-any-return]  # [B, C, G, G]

    def grid_positions(self) -> torch.Tensor:
        """SAM's image-wide positional embedding on the G x G grid: [1, C, G, G]."""
        g = self.grid
        weight = self.positional.positional_embedding
        ones = torch.ones((g, g), device=weight.device, dtype=weight.dtype)
        y = (ones.cumsum(dim=0) - 0.5) / g
        x = (ones.cumsum(dim=1) - 0.5) / g
        return self.positional(torch.stack([x, y], dim=-1)).permute(2, 0, 1).unsqueeze(0)  # [1, C, G, G]

    def forward(self, prompts: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        """``prompts`` [M, C] (one ``<seg>`` each), ``embeddings`` [M, C, G, G] (each mask's image) -> [M, S, S]."""
        m, c, g, _ = embeddings.shape
        dense = self.no_mask_embed.weight.reshape(1, c, 1, 1).expand(m, c, g, g)
        masks, _ = self.decoder(
            image_embeddings=embeddings,
            image_positional_embeddings=self.grid_positions().expand(m, -1, -1, -1),
            sparse_prompt_embeddings=prompts.reshape(m, 1, 1, c),
            dense_prompt_embeddings=dense,
            multimask_output=False,
        )  # [M, 1, 1, 4G, 4G]
        logits = masks[:, 0, 0]  # [M, 4G, 4G]
        if logits.shape[-1] != self.image_size:
            size = (self.image_size, self.image_size)
            logits = F.interpolate(logits.unsqueeze(1), size=size, mode="bilinear", align_corners=False)[:, 0]
        return logits  # [M, S, S]

    def load_sam(self, directory: str | Path) -> None:
        """Copy a local HF ``SamModel`` checkpoint's mask decoder, positional features and no-mask embedding in.

        Raises ValueError naming the directory when its decoder dims differ from this one's.
        """
        path = Path(directory)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path}: not an HF SamModel directory (no config.json)")
        sam = SamModel.from_pretrained(path, local_files_only=True)
        theirs = sam.mask_decoder.config
        ours = self.decoder.config
        keys = ("hidden_size", "num_hidden_layers", "num_attention_heads", "mlp_dim", "iou_head_hidden_dim")
        if any(getattr(theirs, k) != getattr(ours, k) for k in keys):
            got = {k: getattr(theirs, k) for k in keys}
            want = {k: getattr(ours, k) for k in keys}
            raise ValueError(f"{path}: SAM mask decoder {got} does not match the model's x config {want}")
        with torch.no_grad():
            self.decoder.load_state_dict(sam.mask_decoder.state_dict())
            self.positional.positional_embedding.copy_(sam.shared_image_embedding.positional_embedding)
            self.no_mask_embed.load_state_dict(sam.prompt_encoder.no_mask_embed.state_dict())
