"""Timing for the benches: the sides of a comparison run in turn (A B A B ...), medians and min-max of each side and
of their ratio pair by pair, so a figure holds when the machine's speed drifts between runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """Median, minimum and maximum of repeated measurements."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))

    def format(self, fmt: str = ".3f", unit: str = "") -> str:
        return f"{self.median:{fmt}}{unit} (min {self.low:{fmt}}, max {self.high:{fmt}})"


def interleaved(sides: dict[str, Callable[[], object]], repeats: int = 5, warmup: int = 1) -> dict[str, list[float]]:
    """Seconds of each side over ``repeats`` rounds; every round runs every side once, in the given order."""
    for _ in range(warmup):
        for run in sides.values():
            run()
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, run in sides.items():
            began = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - began)
    return seconds


def ratio(numerator: list[float], denominator: list[float]) -> Spread:
    """``numerator[i] / denominator[i]`` round by round (the same round ran both sides back to back)."""
    return Spread.of([a / b for a, b in zip(numerator, denominator, strict=True)])
