"""The shipped tiny recipe against one change at a time, step-counted, scored on the held-out dev splits.

Each variant is ``configs/train/tiny.yaml`` with the overrides of ``VARIANTS``, trained from scratch with the same
seed for ``--steps`` steps (its own schedule ends there) on one build, then asked the held-out scene and VQA tasks
(``TASKS``, up to ``--limit`` items each, greedy). One JSON file per variant in ``--out``; ``--table`` prints the
Markdown table of every finished variant (docs/shipped-model.md quotes it). Never asserts.

Run from the repository root, one variant per process (two fit on two cores):
``OMP_NUM_THREADS=1 python bench/recipe.py --build runs/data/tiny --out runs/recipe --variant shipped``, then
``python bench/recipe.py --out runs/recipe --table``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's code, not an install

import torch

from earthgpt.evaluation.answerers import ModelAnswerer
from earthgpt.evaluation.harness import evaluate
from earthgpt.inference.predictor import Predictor
from earthgpt.pipeline import load_train_run, train_from_build

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "configs" / "train" / "tiny.yaml"
VARIANTS: dict[str, dict[str, Any]] = {
    "shipped": {},
    "no_augment": {"augment": []},
    "corpus_shares": {"task_weights": {}},  # every conversation equally likely: the corpus's own task mix
    "scene_heavy": {
        "task_weights": {
            "scene": 0.60,
            "vqa": 0.14,
            "caption": 0.01,
            "detection_hbb": 0.07,
            "detection_obb": 0.02,
            "referring_hbb": 0.03,
            "referring_obb": 0.01,
            "region_classification": 0.04,
            "region_description": 0.01,
            "region_relation": 0.01,
            "pixel_grounding": 0.04,
            "zoom": 0.02,
        }
    },
    "px128": {"image_size": 128},
    "px224": {"image_size": 224},
    "text_boxes": {"box_tokens": "text"},
}
"""Variant name -> the TrainRun/TrainConfig fields it changes in the shipped recipe."""
TASKS = ("rsscn7", "aid", "rsvqa_lr_dev", "rsvqa_hr_dev")
"""Held-out scene and VQA tasks (the recipe trains on none of their items)."""
COLUMNS = (
    ("rsscn7", "top1"),
    ("aid", "top1"),
    ("rsvqa_lr_dev", "OA"),
    ("rsvqa_hr_dev", "OA"),
)


def run_variant(
    name: str, build: Path, out: Path, steps: int, limit: int, data_root: Path, init: Path | None, lr: float | None
) -> dict[str, Any]:
    """Train one variant (resuming its own checkpoints) and score it; the record is written to ``out/name.json``.
    ``init``: continue that model (every variant from the same weights) instead of starting from random ones."""
    work = out / name
    start_from = {"init": str(init)} if init is not None else {}
    run = load_train_run(
        RECIPE,
        build=str(build),
        out=str(work / "model"),
        max_steps=steps,
        save_every=max(steps // 4, 1),
        warmup_steps=min(30, steps // 10),
        resume=True,
        **start_from,
        **({"lr": lr} if lr is not None else {}),
        **VARIANTS[name],
    )
    start = time.perf_counter()
    result = train_from_build(run)
    train_s = time.perf_counter() - start
    predictor = Predictor.load(work / "model", max_new_tokens=64)
    start = time.perf_counter()
    metrics = evaluate(
        ModelAnswerer(predictor), list(TASKS), data_root, work / "eval", limit=limit, plots=False, meteor=False
    )
    record = {
        "variant": name,
        "overrides": VARIANTS[name],
        "steps": steps,
        "init": str(init) if init is not None else None,
        "lr": run.train_config().lr,
        "batch_size": run.train_config().batch_size,
        "seed": run.train_config().seed,
        "threads": torch.get_num_threads(),
        "train_seconds": round(train_s, 1),
        "eval_seconds": round(time.perf_counter() - start, 1),
        "loss_first": result.losses[0] if result.losses else None,
        "loss_last": result.losses[-1] if result.losses else None,
        "tasks": {t: metrics["tasks"][t] for t in TASKS if t in metrics.get("tasks", {})},
    }
    (out / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return record


def _metric(task: dict[str, Any], key: str) -> float | None:
    value = task.get("metrics", {}).get(key)
    return float(value) if isinstance(value, (int, float)) else None


def _describe(overrides: dict[str, Any]) -> str:
    """A short cell for a variant's change: shares as ``scene .60, vqa .14, ...``, other fields as key=value."""
    if not overrides:
        return "the shipped recipe"
    parts = []
    for key, value in overrides.items():
        if key == "task_weights":
            shares = ", ".join(f"{t} {w:.2f}" for t, w in sorted(value.items(), key=lambda kv: -kv[1])[:3])
            parts.append(f"task_weights: {shares}, ..." if value else "task_weights: the corpus's own mix")
        else:
            parts.append(f"{key}={json.dumps(value)}")
    return "; ".join(parts)


def table(out: Path) -> str:
    """Markdown rows of every finished variant, in ``VARIANTS`` order."""
    header = "| variant | change | steps | " + " | ".join(f"{t} {m}" for t, m in COLUMNS) + " | train s |"
    lines = [header, "|" + "---|" * (len(COLUMNS) + 4)]
    for name in VARIANTS:
        path = out / f"{name}.json"
        if not path.is_file():
            continue
        rec = json.loads(path.read_text(encoding="utf-8"))
        cells = []
        for task, key in COLUMNS:
            value = _metric(rec["tasks"].get(task, {}), key)
            n = rec["tasks"].get(task, {}).get("counts", {}).get("samples")
            cells.append("-" if value is None else f"{value:.1f}% (n={n})")  # the metrics are percentages
        change = _describe(rec["overrides"])
        lines.append(
            f"| {name} | {change} | {rec['steps']} | " + " | ".join(cells) + f" | {rec['train_seconds']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, help="a build of configs/data/tiny.yaml")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS), default=[])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--init", type=Path, help="continue this model directory (e.g. models/earthgpt-tiny)")
    parser.add_argument("--lr", type=float, help="peak learning rate (default: the recipe's)")
    parser.add_argument("--limit", type=int, default=300, help="items per held-out task")
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("EARTHGPT_DATA", ROOT.parent / "shared" / "data"))
    )
    parser.add_argument("--table", action="store_true", help="print the table of the finished variants")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.variant:
        if args.build is None:
            parser.error("--variant needs --build")
        rec = run_variant(name, args.build, args.out, args.steps, args.limit, args.data, args.init, args.lr)
        print(json.dumps({k: rec[k] for k in ("variant", "train_seconds", "loss_last")}))
    if args.table or not args.variant:
        print(table(args.out))


if __name__ == "__main__":
    main()
