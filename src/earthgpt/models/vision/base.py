"""The vision-encoder interface every branch and the hybrid satisfy, and per-branch pixel normalisation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import torch
from torch import nn


class VisionEncoder(nn.Module, ABC):
    """An image encoder producing a fixed number of visual tokens.

    Input: ``pixel_values`` [B, 3, S, S], float in [0, 1] (each encoder normalises with its own statistics).
    Output: [B, num_tokens, embed_dim].
    """

    @property
    @abstractmethod
    def embed_dim(self) -> int:
        """Channels per output token."""

    @property
    @abstractmethod
    def num_tokens(self) -> int:
        """Tokens per image (grid_size ** 2)."""

    @property
    @abstractmethod
    def image_size(self) -> int:
        """Side S of the square input image."""

    @property
    def grid_size(self) -> int:
        """Side of the token grid."""
        return round(self.num_tokens**0.5)

    @abstractmethod
    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor: ...

    def check_input(self, pixel_values: torch.Tensor) -> None:
        """Raise a ValueError naming the expected shape when ``pixel_values`` is not [B, 3, S, S]."""
        s = self.image_size
        if pixel_values.dim() != 4 or tuple(pixel_values.shape[1:]) != (3, s, s):
            raise ValueError(
                f"pixel_values has shape {tuple(pixel_values.shape)}; expected [B, 3, {s}, {s}] "
                "(square-pad and resize images to the model's image_size first)"
            )


class BackboneEncoder(VisionEncoder):
    """A pretrained Hugging Face backbone (``model``) read out from its hidden states onto a square token grid.

    Pixels are normalised with the backbone's own statistics and cast to its weight dtype; autograd tracks the
    backbone only when one of its parameters is trainable (a frozen branch costs no activation memory).
    """

    def __init__(
        self, model: nn.Module, image_size: int, grid: int, mean: Sequence[float], std: Sequence[float]
    ) -> None:
        super().__init__()
        self.model = model
        self.normalizer = PixelNormalizer(mean, std)
        self._image_size = image_size
        self._grid = grid

    @property
    def num_tokens(self) -> int:
        return self._grid**2

    @property
    def image_size(self) -> int:
        return self._image_size

    def hidden_states(self, pixel_values: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        """The backbone's ``hidden_states`` for ``pixel_values`` [B, 3, S, S] normalised and cast to ``dtype``."""
        self.check_input(pixel_values)
        x = self.normalizer(pixel_values).to(dtype)  # [B, 3, S, S]
        with torch.set_grad_enabled(needs_grad(self.model)):
            out = self.model(pixel_values=x, output_hidden_states=True)
        return tuple(out.hidden_states)


class PixelNormalizer(nn.Module):
    """(x - mean) / std per channel, with the statistics kept as non-persistent buffers."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.mean_values = tuple(float(m) for m in mean)
        self.std_values = tuple(float(s) for s in std)
        self.reset_buffers()

    def reset_buffers(self, device: torch.device | str | None = None) -> None:
        """(Re)create the statistics, e.g. after building on the meta device and loading real weights."""
        mean = torch.tensor(self.mean_values, device=device).view(1, 3, 1, 1)
        std = torch.tensor(self.std_values, device=device).view(1, 3, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        mean = self.mean.to(pixel_values.dtype)
        std = self.std.to(pixel_values.dtype)
        return (pixel_values - mean) / std  # [B, 3, S, S]


def needs_grad(module: nn.Module) -> bool:
    """True when autograd must track ``module``: grad mode is on and one of its parameters is trainable."""
    return torch.is_grad_enabled() and any(p.requires_grad for p in module.parameters())
