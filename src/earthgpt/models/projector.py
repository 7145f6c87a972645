"""The learnable projection of Eq. 7: hybrid visual tokens to the LLM width."""

from __future__ import annotations

import torch
from torch import nn

from earthgpt.models.config import ProjectorKind


class Projector(nn.Module):
    """V_p = Projection(Concat(V_a, V_b)): [B, N, C_in] -> [B, N, D_llm].

    ``linear`` is the single learnable projection layer of the paper; ``mlp2x_gelu`` (Linear-GELU-Linear, as in
    LLaVA-1.5) is offered as an option.
    """

    def __init__(self, in_dim: int, out_dim: int, kind: ProjectorKind = "linear") -> None:
        super().__init__()
        self.kind = kind
        if kind == "linear":
            self.layers = nn.Sequential(nn.Linear(in_dim, out_dim))
        elif kind == "mlp2x_gelu":
            self.layers = nn.Sequential(nn.Linear(in_dim, out_dim), nn.GELU(), nn.Linear(out_dim, out_dim))
        else:
            raise ValueError(f"projector kind {kind!r} is unknown; use 'linear' or 'mlp2x_gelu'")

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)  # [B, N, D]
