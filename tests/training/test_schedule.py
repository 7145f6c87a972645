"""Warmup + cosine schedule: hand-computed values and equality with the transformers schedules."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import get_cosine_schedule_with_warmup, get_cosine_with_min_lr_schedule_with_warmup

from earthgpt.training.schedule import WarmupCosineSchedule, warmup_cosine_lr


def test_hand_computed_points() -> None:
    kw = {"peak": 2e-5, "minimum": 0.0, "warmup_steps": 4, "total_steps": 14}
    assert warmup_cosine_lr(0, **kw) == pytest.approx(0.5e-5)
    assert warmup_cosine_lr(3, **kw) == pytest.approx(2e-5)
    assert warmup_cosine_lr(4, **kw) == pytest.approx(2e-5)  # first decay step: peak
    assert warmup_cosine_lr(9, **kw) == pytest.approx(1e-5)  # halfway through the 10 decay steps
    assert warmup_cosine_lr(14, **kw) == pytest.approx(0.0, abs=1e-20)  # the curve's end


def test_min_lr_floor() -> None:
    kw = {"peak": 1.0, "minimum": 0.1, "warmup_steps": 0, "total_steps": 4}
    assert warmup_cosine_lr(2, **kw) == pytest.approx(0.1 + 0.9 * 0.5)
    assert warmup_cosine_lr(100, **kw) == pytest.approx(0.1)


def _reference_lrs(factory: object, steps: int, **kwargs: object) -> list[float]:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=2e-5)
    scheduler = factory(optimizer, **kwargs)  # type: ignore[operator]
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def test_matches_transformers_cosine() -> None:
    """Decay equals transformers' cosine; warmup is shifted by one so step 0 is not wasted at lr 0."""
    warmup, total = 3, 20
    ref = _reference_lrs(get_cosine_schedule_with_warmup, total + 1, num_warmup_steps=warmup, num_training_steps=total)
    ours = [warmup_cosine_lr(s, peak=2e-5, minimum=0.0, warmup_steps=warmup, total_steps=total) for s in range(total)]
    for step in range(warmup, total):
        assert ours[step] == pytest.approx(ref[step], rel=1e-12, abs=1e-20)
    for step in range(warmup):
        assert ours[step] == pytest.approx(ref[step + 1], rel=1e-12)


def test_matches_transformers_min_lr() -> None:
    warmup, total = 2, 12
    ref = _reference_lrs(
        get_cosine_with_min_lr_schedule_with_warmup,
        total,
        num_warmup_steps=warmup,
        num_training_steps=total,
        min_lr=2e-6,
    )
    for step in range(warmup, total):
        ours = warmup_cosine_lr(step, peak=2e-5, minimum=2e-6, warmup_steps=warmup, total_steps=total)
        assert ours == pytest.approx(ref[step], rel=1e-12)


def test_schedule_object_applies_and_restores() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = WarmupCosineSchedule(peak=1.0, minimum=0.0, warmup_steps=0, total_steps=4)
    seen = []
    for _ in range(3):
        seen.append(schedule.apply(optimizer))
        assert optimizer.param_groups[0]["lr"] == seen[-1]
        schedule.advance()
    restored = WarmupCosineSchedule(peak=1.0, minimum=0.0, warmup_steps=0, total_steps=4)
    restored.load_state_dict(schedule.state_dict())
    assert restored.lr() == pytest.approx(0.5 * (1 + math.cos(math.pi * 3 / 4)))
    assert seen[1] == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
