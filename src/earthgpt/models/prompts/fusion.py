"""The fusion block of EarthGPT-X: image tokens and prompt tokens mixed before the projector."""

from __future__ import annotations

import torch
from torch import nn


class PromptFusion(nn.Module):
    """Self-attention over the image tokens, an FFN over the prompt embeddings, cross-attention from the image
    tokens to the prompt tokens, self-attention again (pre-norm residual blocks), in ``hidden`` channels.

    The image features enter through a down projection and leave through an up projection initialised near zero
    (std 1e-3; exactly zero would leave every other part of the block without a gradient in the first step), added
    to the unchanged features: a freshly built block almost passes its input through, and the projector receives
    features of its usual width. ``forward(image [B, N, C], prompts [B, K*N, Cp], prompt_pad [B, K*N])`` ->
    [B, N, C]; ``prompt_pad`` is True at padding (samples of one batch hold different prompt counts).
    """

    def __init__(self, image_dim: int, prompt_dim: int, hidden: int, heads: int, ffn: int) -> None:
        super().__init__()
        self.down = nn.Linear(image_dim, hidden)
        self.prompt_in = nn.Linear(prompt_dim, hidden)
        self.norm_self1 = nn.LayerNorm(hidden)
        self.self_attn1 = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.norm_ffn = nn.LayerNorm(hidden)
        self.prompt_ffn = nn.Sequential(nn.Linear(hidden, ffn), nn.GELU(), nn.Linear(ffn, hidden))
        self.norm_cross_q = nn.LayerNorm(hidden)
        self.norm_cross_kv = nn.LayerNorm(hidden)
        self.cross_attn = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.norm_self2 = nn.LayerNorm(hidden)
        self.self_attn2 = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.up = nn.Linear(hidden, image_dim)
        nn.init.normal_(self.up.weight, std=1e-3)
        nn.init.zeros_(self.up.bias)

    def forward(self, image: torch.Tensor, prompts: torch.Tensor, prompt_pad: torch.Tensor) -> torch.Tensor:
        dtype = self.down.weight.dtype
        h = self.down(image.to(dtype))  # [B, N, H]
        p = self.prompt_in(prompts.to(dtype))  # [B, K*N, H]
        x = self.norm_self1(h)
        h = h + self.self_attn1(x, x, x, need_weights=False)[0]
        p = p + self.prompt_ffn(self.norm_ffn(p))
        kv = self.norm_cross_kv(p)
        h = h + self.cross_attn(self.norm_cross_q(h), kv, kv, key_padding_mask=prompt_pad, need_weights=False)[0]
        x = self.norm_self2(h)
        h = h + self.self_attn2(x, x, x, need_weights=False)[0]
        return image + self.up(h).to(image.dtype)  # [B, N, C]
