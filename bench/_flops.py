"""FLOPs for the benches: a measured fp32 matmul peak on this process's threads, and torch's count of a step."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode


def matmul_peak(size: int = 2048, repeats: int = 3) -> float:
    """Best fp32 FLOP/s of ``repeats`` ``size`` x ``size`` matmuls (2 * size^3 FLOPs each), after one warm-up."""
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - began)
    return 2 * size**3 / best


def counted_step_flops(model: torch.nn.Module, batch: Mapping[str, Any]) -> int:
    """Matmul/convolution/attention FLOPs of one forward + backward of ``model(**batch).loss``, counted by torch
    (FlopCounterMode); the gradients are dropped afterwards, the weights are not touched."""
    counter = FlopCounterMode(display=False)
    with counter:
        model(**batch).loss.backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())
