"""Learning-rate schedule: linear warmup to the peak, then a cosine down to the minimum (paper: 2e-5 -> 0)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


def warmup_cosine_lr(step: int, *, peak: float, minimum: float, warmup_steps: int, total_steps: int) -> float:
    """The learning rate of optimizer step ``step`` (0-based) of a ``total_steps``-step run.

    Warmup: step ``s < warmup_steps`` uses ``peak * (s + 1) / warmup_steps`` (the first step is never 0).
    Decay: ``minimum + (peak - minimum) * (1 + cos(pi * p)) / 2`` with ``p = (s - warmup) / (total - warmup)``,
    so the first decay step uses ``peak`` and the curve would reach ``minimum`` one step after the last.
    """
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    decay_steps = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    return minimum + (peak - minimum) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass
class WarmupCosineSchedule:
    """Sets the learning rate of every parameter group before each optimizer step; its state is the step count."""

    peak: float
    minimum: float
    warmup_steps: int
    total_steps: int
    step_count: int = 0

    def lr(self, step: int | None = None) -> float:
        """The learning rate at ``step`` (default: the next step)."""
        return warmup_cosine_lr(
            self.step_count if step is None else step,
            peak=self.peak,
            minimum=self.minimum,
            warmup_steps=self.warmup_steps,
            total_steps=self.total_steps,
        )

    def apply(self, optimizer: torch.optim.Optimizer) -> float:
        """Write the next step's learning rate into ``optimizer`` and return it."""
        value = self.lr()
        for group in optimizer.param_groups:
            group["lr"] = value
        return value

    def advance(self) -> None:
        """Count one optimizer step."""
        self.step_count += 1

    def state_dict(self) -> dict[str, float | int]:
        """Everything needed to continue the schedule."""
        return {
            "peak": self.peak,
            "minimum": self.minimum,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
            "step_count": self.step_count,
        }

    def load_state_dict(self, state: dict[str, float | int]) -> None:
        """Continue from a saved state; only the step count is restored (the shape comes from the config)."""
        self.step_count = int(state["step_count"])
