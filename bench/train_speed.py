"""Samples/s and counted-FLOP MFU of the training loop on real data against a bare step of the same model.

    python bench/train_speed.py [--data ../shared/data] [--batch-size 16] [--rounds 5] [--steps 2]

The corpus is the quickstart build (RSSCN7 scenes + HIT-UAV infrared boxes, built into a temporary folder from
``--data``, or ``--build DIR``), the model the tiny EarthGPT of ``earthgpt train --stage scratch`` with its recipe,
the dataset and collator those of ``pipeline.fit``. Two sides, on the same batches in the same order:

(a) loop: the real ``training.train`` (BatchStream over the ConversationDataset, accelerate, clipping, AdamW, the
    schedule, logging); a round is ``--steps`` of its optimizer steps, timed between its step callbacks.
(b) bare: a copy of the same model, its own AdamW and schedule, forward + backward + clip + step on the same
    batches collated beforehand (no data path, no loop).

Rounds run loop, bare, then a fp32 matmul peak (``_flops.matmul_peak``, same threads), in turn; the first round
is warm-up. MFU = counted FLOPs of the round's batches (FlopCounterMode, forward + backward) / round time / that
round's peak. Printed: medians with min-max of samples/s, MFU and the loop/bare throughput ratio round by round,
the padding fraction, and whether both sides' losses agree (they must: same math). Every image is decoded once
while the bare batches are collated, so the loop runs in its steady state (the image cache hit, epoch 2 on).
Never asserts timings. ``--profile`` adds the loop's top operators (torch.profiler) after the timing.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's code, not an install

import torch
from _flops import counted_step_flops, matmul_peak
from _timing import Spread, ratio

from earthgpt.data.chat_template import ChatTemplate
from earthgpt.data.corpus import build, load_config
from earthgpt.data.dataset import Collator, ConversationDataset
from earthgpt.pipeline import corpus, new_model
from earthgpt.training import TrainConfig, Trainer, train
from earthgpt.training.loop import build_optimizer, set_train_mode
from earthgpt.training.recipes import recipe
from earthgpt.training.sampler import BatchStream
from earthgpt.training.schedule import WarmupCosineSchedule
from earthgpt.training.stages import apply_stage

QUICKSTART = Path(__file__).resolve().parents[1] / "src" / "earthgpt" / "configs" / "quickstart.yaml"


class BareStep:
    """Forward + backward + clip + AdamW step of a model copy, with the loop's optimizer groups and schedule."""

    def __init__(self, model: torch.nn.Module, config: TrainConfig) -> None:
        self.model = model
        self.config = config
        self.optimizer, _ = build_optimizer(model, config)
        self.schedule = WarmupCosineSchedule(config.lr, config.min_lr, config.warmup_steps, config.max_steps)
        set_train_mode(model, frozen_eval=config.frozen_modules_eval)
        bf16 = config.mixed_precision == "bf16"
        self.autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)

    def __call__(self, batch: dict[str, torch.Tensor]) -> float:
        self.schedule.apply(self.optimizer)
        with self.autocast:
            loss = self.model(**batch).loss
        loss.backward()
        if self.config.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.schedule.advance()
        return float(loss.detach())


class Rounds:
    """The step callback of the loop side: at the end of every round it times the round, then runs the bare side
    and the peak on the same batches, so the three alternate and the loop's clock skips them."""

    def __init__(self, bare: BareStep, batches: list[dict[str, torch.Tensor]], steps: int, peak_size: int) -> None:
        self.bare, self.batches, self.steps, self.peak_size = bare, batches, steps, peak_size
        self.seconds: dict[str, list[float]] = {"loop": [], "bare": []}
        self.peaks: list[float] = []
        self.losses: dict[str, list[float]] = {"loop": [], "bare": []}
        self.resumed = time.perf_counter()
        self.done = 0

    def __call__(self, _trainer: Trainer, stats: dict[str, float]) -> None:
        self.losses["loop"].append(stats["loss"])
        self.done += 1
        if self.done % self.steps:
            return
        self.seconds["loop"].append(time.perf_counter() - self.resumed)
        began = time.perf_counter()
        for batch in self.batches[self.done - self.steps : self.done]:
            self.losses["bare"].append(self.bare(batch))
        self.seconds["bare"].append(time.perf_counter() - began)
        self.peaks.append(matmul_peak(self.peak_size))
        self.resumed = time.perf_counter()


def quickstart_build(data: Path, out: Path) -> Path:
    """The quickstart corpus built from ``data`` into ``out``."""
    build(load_config(QUICKSTART, data_root=data.resolve(), out_dir=out), progress=False)
    return out


def profile_loop(model: torch.nn.Module, dataset: Any, collator: Any, config: TrainConfig, rows: int) -> None:
    """The loop's top operators by self CPU time over ``config.max_steps`` steps."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        train(model, dataset, collator, config)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows, max_name_column_width=48))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("EARTHGPT_DATA", "../shared/data")))
    parser.add_argument("--build", type=Path, help="a finished build directory instead of the quickstart build")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds after one warm-up round")
    parser.add_argument("--steps", type=int, default=2, help="optimizer steps per round and side")
    parser.add_argument("--max-length", type=int, default=640, help="token budget per conversation (the demo's)")
    parser.add_argument("--length-window", type=int, default=16, help="TrainConfig.length_window (0: off)")
    parser.add_argument("--mixed-precision", choices=("no", "bf16"), default="no")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--matmul-size", type=int, default=2048)
    parser.add_argument("--profile", type=int, default=0, metavar="ROWS", help="print the loop's top operators")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    tmp = Path(tempfile.mkdtemp(prefix="train-speed-"))
    build_dir = args.build or quickstart_build(args.data, tmp / "data")
    conversations, root = corpus(build_dir)
    model, tok = new_model(conversations)
    apply_stage(model, "scratch")
    template = ChatTemplate(tok, model.num_image_tokens, max_length=args.max_length)
    dataset = ConversationDataset(conversations, template, model.image_size, root)
    collator = Collator(int(tok.pad_token_id))
    total = (args.rounds + 1) * args.steps
    window = {} if args.length_window is None else {"length_window": args.length_window}
    config = recipe(
        "scratch", str(tmp / "run"), max_steps=total, batch_size=args.batch_size, progress_bar=False,
        mixed_precision=args.mixed_precision, **window,
    )  # fmt: skip
    lengths = dataset.lengths() if config.length_window > 1 else None
    stream = BatchStream(
        dataset, collator, batch_size=config.batch_size, seed=config.seed, shuffle=config.shuffle, rank=0,
        world_size=1, lengths=lengths, length_window=config.length_window,
    )  # fmt: skip
    batches = list(itertools.islice(stream, total))  # decodes every image these batches hold
    bare = BareStep(copy.deepcopy(model), config)
    rounds = Rounds(bare, batches, args.steps, args.matmul_size)
    rounds.resumed = time.perf_counter()
    train(model, dataset, collator, config, on_step=rounds)
    report(args, config, batches, rounds)
    if args.profile:
        profile_loop(model, dataset, collator, config.replace(out_dir=str(tmp / "profile")), args.profile)


def report(
    args: argparse.Namespace, config: TrainConfig, batches: list[dict[str, torch.Tensor]], rounds: Rounds
) -> None:
    """Print the table (the warm-up round dropped)."""
    n = args.steps
    flops_of: dict[tuple[int, ...], int] = {}
    flops = []
    for batch in batches:
        shape = tuple(batch["input_ids"].shape)
        if shape not in flops_of:
            flops_of[shape] = counted_step_flops(rounds.bare.model, batch)
        flops.append(flops_of[shape])
    round_flops = [sum(flops[k * n : (k + 1) * n]) for k in range(1, args.rounds + 1)]
    samples = n * args.batch_size
    peaks = rounds.peaks[1:]
    real = sum(int(b["attention_mask"].sum()) for b in batches)
    padded = sum(b["attention_mask"].numel() for b in batches)
    diff = max(abs(a - b) for a, b in zip(rounds.losses["loop"], rounds.losses["bare"], strict=True))
    rows = [
        ("threads", f"{torch.get_num_threads()} (cpu count {os.cpu_count()})"),
        ("batch, steps per round, rounds", f"{args.batch_size}, {n}, {args.rounds} (+1 warm-up)"),
        ("mixed precision, length window", f"{config.mixed_precision}, {config.length_window}"),
        (
            "padding (of batch tokens)",
            f"{1 - real / padded:.1%} ({padded / len(batches) / args.batch_size:.0f} per row)",
        ),
        ("fp32 matmul peak", Spread.of([p / 1e9 for p in peaks]).format(".1f", " GFLOP/s")),
        ("counted GFLOP per step", f"{sum(round_flops) / (n * args.rounds) / 1e9:.1f}"),
    ]
    for side in ("loop", "bare"):
        seconds = rounds.seconds[side][1:]
        rows.append((f"{side} samples/s", Spread.of([samples / s for s in seconds]).format(".2f")))
        mfu = [f / s / p * 100 for f, s, p in zip(round_flops, seconds, peaks, strict=True)]
        rows.append((f"{side} MFU (counted, fp32 peak)", Spread.of(mfu).format(".1f", "%")))
    rows.append(("loop / bare throughput", ratio(rounds.seconds["bare"][1:], rounds.seconds["loop"][1:]).format()))
    rows.append(("max |loss loop - loss bare|", f"{diff:.2e} over {len(rounds.losses['loop'])} steps"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
