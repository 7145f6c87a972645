"""Model FLOPs utilisation of the training loop on this machine: achieved FLOP/s over a measured matmul peak.

    python bench/mfu.py [--batch-size 2] [--rounds 5] [--steps 2] [--matmul-size 2048]

1. Peak: the best of a few large fp32 matmuls (2 * n^3 FLOPs each) on the same threads the training uses,
   measured again in every round (``_flops.matmul_peak``).
2. Step FLOPs, two ways: the usual ``6 * params * tokens`` approximation (params = every parameter of the model,
   tokens = the LLM sequence tokens of the global batch; it ignores attention's sequence-squared term, counts
   frozen parameters as if they were trained, and treats the vision encoders' patches as if they were the LLM's
   tokens), and a count by torch's FlopCounterMode of the matmuls/convolutions in one forward + backward.
3. Rounds alternate ``--steps`` optimizer steps of the loop and one peak measurement; the first round is warm-up.
   MFU of a round = step FLOPs / mean step time of the round / the round's peak; medians with min-max are printed.
The model is the tiny EarthGPT in stage 1 on synthetic image-caption batches (equal lengths, no data path): for
the real loop on real data see bench/train_speed.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's code, not an install

import torch
from _flops import counted_step_flops, matmul_peak
from _timing import Spread

from earthgpt.training import TrainConfig, Trainer, train
from earthgpt.training.distributed import SyntheticImageText, build_tiny_model, collate_image_text


class PeakRounds:
    """Step callback: every ``steps`` optimizer steps, the round's loop time, then a peak off the loop's clock."""

    def __init__(self, steps: int, matmul_size: int) -> None:
        self.steps, self.matmul_size = steps, matmul_size
        self.step_seconds: list[float] = []
        self.peaks: list[float] = []
        self.done = 0
        self.resumed = time.perf_counter()

    def __call__(self, _trainer: Trainer, _stats: dict[str, Any]) -> None:
        self.done += 1
        if self.done % self.steps:
            return
        self.step_seconds.append((time.perf_counter() - self.resumed) / self.steps)
        self.peaks.append(matmul_peak(self.matmul_size))
        self.resumed = time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds after one warm-up round")
    parser.add_argument("--steps", type=int, default=2, help="optimizer steps per round")
    parser.add_argument("--matmul-size", type=int, default=2048)
    args = parser.parse_args()

    model = build_tiny_model(seed=0, stage=1)
    total = (args.rounds + 1) * args.steps
    data = SyntheticImageText(args.batch_size * total, model.config.image_size, model.config.num_image_tokens)
    batch = collate_image_text([data[i] for i in range(args.batch_size)])
    tokens = batch["input_ids"].numel()
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    approx = 6 * params * tokens
    counted = counted_step_flops(model, batch)

    config = TrainConfig(
        out_dir=tempfile.mkdtemp(prefix="mfu-"),
        max_steps=total,
        batch_size=args.batch_size,
        lr=1e-4,
        progress_bar=False,
        save_every=0,
    )
    rounds = PeakRounds(args.steps, args.matmul_size)
    rounds.resumed = time.perf_counter()
    train(model, data, collate_image_text, config, on_step=rounds)
    seconds, peaks = rounds.step_seconds[1:], rounds.peaks[1:]  # the first round includes set-up

    def mfu(flops: int) -> Spread:
        return Spread.of([flops / s / p * 100 for s, p in zip(seconds, peaks, strict=True)])

    rows = [
        ("threads", f"{torch.get_num_threads()}"),
        (f"matmul peak (fp32, n={args.matmul_size})", Spread.of([p / 1e9 for p in peaks]).format(".2f", " GFLOP/s")),
        ("model parameters (trainable)", f"{params:,} ({trainable:,})"),
        ("tokens per step (batch x seq)", f"{tokens} ({args.batch_size} x {tokens // args.batch_size})"),
        ("step FLOPs, 6*N*T approximation", f"{approx / 1e9:.2f} GFLOP"),
        ("step FLOPs, counted (FlopCounterMode)", f"{counted / 1e9:.2f} GFLOP"),
        ("step time", Spread.of([s * 1e3 for s in seconds]).format(".0f", " ms") + f", {args.rounds} rounds"),
        ("MFU (6NT)", mfu(approx).format(".1f", "%")),
        ("MFU (counted)", mfu(counted).format(".1f", "%")),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
