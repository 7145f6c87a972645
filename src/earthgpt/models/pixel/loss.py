"""The mask losses of the pixel perception module (LISA): per-mask BCE and Dice, averaged over masks."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def mask_bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over masks of the per-pixel binary cross-entropy: logits, targets [M, S, S] -> scalar."""
    per_mask = F.binary_cross_entropy_with_logits(logits.float(), targets.float(), reduction="none")
    return per_mask.flatten(1).mean(dim=1).mean()


def mask_dice(logits: torch.Tensor, targets: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Mean over masks of 1 - (2 |p t| + eps) / (|p| + |t| + eps) with p = sigmoid(logits): [M, S, S] -> scalar.

    ``eps`` = 1 as in LISA: an empty target and an empty prediction give a loss of 0.
    """
    p = logits.float().sigmoid().flatten(1)  # [M, S*S]
    t = targets.float().flatten(1)  # [M, S*S]
    dice = (2 * (p * t).sum(dim=1) + eps) / (p.sum(dim=1) + t.sum(dim=1) + eps)  # [M]
    return (1 - dice).mean()
