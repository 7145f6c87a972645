"""Model FLOPs utilisation of the training loop on this machine: achieved FLOP/s over a measured matmul peak.

    python bench/mfu.py [--batch-size 2] [--steps 6] [--matmul-size 2048]

1. Peak: the best of several large fp32 matmuls (2 * n^3 FLOPs each) on the same threads the training uses.
2. Step FLOPs, two ways: the usual ``6 * params * tokens`` approximation (params = every parameter of the model,
   tokens = the LLM sequence tokens of the global batch; it ignores attention's sequence-squared term, counts
   frozen parameters as if they were trained, and treats the vision encoders' patches as if they were the LLM's
   tokens), and a count by torch's FlopCounterMode of the matmuls/convolutions in one forward + backward.
3. Achieved: step FLOPs / median wall time of the loop's optimizer steps (first step excluded as warm-up).
MFU = achieved / peak. The model is the tiny EarthGPT in stage 1 on synthetic image-caption batches.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from earthgpt.training import TrainConfig, Trainer, train
from earthgpt.training.distributed import SyntheticImageText, build_tiny_model, collate_image_text


def matmul_peak(size: int, repeats: int = 5) -> float:
    """Best fp32 FLOP/s of ``size`` x ``size`` matmuls."""
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    torch.mm(a, b)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - began)
    return 2 * size**3 / best


def counted_step_flops(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> int:
    """Matmul/convolution FLOPs of one forward + backward, counted by torch."""
    counter = FlopCounterMode(display=False)
    with counter:
        model(**batch).loss.backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--matmul-size", type=int, default=2048)
    args = parser.parse_args()

    threads = torch.get_num_threads()
    peak = matmul_peak(args.matmul_size)
    model = build_tiny_model(seed=0, stage=1)
    data = SyntheticImageText(
        args.batch_size * (args.steps + 1), model.config.image_size, model.config.num_image_tokens
    )
    batch = collate_image_text([data[i] for i in range(args.batch_size)])
    tokens = batch["input_ids"].numel()
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    approx = 6 * params * tokens
    counted = counted_step_flops(model, batch)

    stamps: list[float] = []

    def stamp(_trainer: Trainer, _stats: dict[str, Any]) -> None:
        stamps.append(time.perf_counter())

    config = TrainConfig(
        out_dir=tempfile.mkdtemp(prefix="mfu-"),
        max_steps=args.steps,
        batch_size=args.batch_size,
        lr=1e-4,
        progress_bar=False,
        save_every=0,
    )
    stamps.append(time.perf_counter())
    train(model, data, collate_image_text, config, on_step=stamp)
    step_times = [b - a for a, b in itertools.pairwise(stamps)][1:]  # the first includes set-up
    step_time = statistics.median(step_times)

    rows = [
        ("threads", f"{threads}"),
        (f"matmul peak (fp32, n={args.matmul_size})", f"{peak / 1e9:.2f} GFLOP/s"),
        ("model parameters (trainable)", f"{params:,} ({trainable:,})"),
        ("tokens per step (batch x seq)", f"{tokens} ({args.batch_size} x {tokens // args.batch_size})"),
        ("step FLOPs, 6*N*T approximation", f"{approx / 1e9:.2f} GFLOP"),
        ("step FLOPs, counted (FlopCounterMode)", f"{counted / 1e9:.2f} GFLOP"),
        ("median step time", f"{step_time * 1e3:.0f} ms over {len(step_times)} steps"),
        ("achieved (6NT / time)", f"{approx / step_time / 1e9:.2f} GFLOP/s"),
        ("achieved (counted / time)", f"{counted / step_time / 1e9:.2f} GFLOP/s"),
        ("MFU (6NT)", f"{approx / step_time / peak:.1%}"),
        ("MFU (counted)", f"{counted / step_time / peak:.1%}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
