"""A plain CNN scene classifier on the tiny EarthGPT's scene images and CPU budget: the yardstick of its card.

    python bench/cnn_baseline.py [--minutes 5] [--threads 2] [--steps N] [--batch-size 32] [--seed 0]

A small HF ``ConvNextForImageClassification`` (random init; depths 2-2-6-2, widths 48-384: about 5M parameters) is
trained from scratch on the train splits of AID and RSSCN7 as the project's source readers split them (the scenes
the tiny model trains on, configs/data/tiny.yaml), read and resized by the project's image loading to the tiny
model's 160 px input. One head covers both label sets; a test image is scored over its own dataset's categories
only (as the tiny model is asked to choose from them). Training stops after ``--minutes`` of wall time or
``--steps`` optimizer steps, whichever comes first; images are decoded once, before the clock starts. Then top-1 on
the RSSCN7 and AID test splits. Prints one JSON line: steps, samples seen, minutes, threads, top-1 per test split.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's code, not an install

import numpy as np
import torch
from transformers import ConvNextConfig, ConvNextForImageClassification

from earthgpt.data.imagery import load_image
from earthgpt.data.imagery.view import model_input
from earthgpt.data.records import SceneRecord
from earthgpt.data.sources import get_source

IMAGE_SIZE = 160
"""The tiny EarthGPT's input side (models/builders.py ``tiny_config``)."""
SCENE_SOURCES = {"rsscn7": "rsscn7", "aid": "aid_150px/AID"}
"""Source -> its folder under the data root, as configs/data/tiny.yaml reads them."""


@dataclass
class Split:
    """Decoded images [N, 3, S, S] uint8, their label indices, and the dataset's label indices (its choices)."""

    images: torch.Tensor
    labels: torch.Tensor
    choices: torch.Tensor


def read_split(data_root: Path, source: str, split: str, classes: dict[str, int]) -> tuple[list[np.ndarray], list[str]]:
    """Every readable scene of a source split, decoded to [3, S, S] uint8, with its label."""
    reader = get_source(source)(data_root / SCENE_SOURCES[source], split)
    images, labels = [], []
    for record in reader:
        if not isinstance(record, SceneRecord):
            continue  # a Skip: unreadable or unlabelled
        pixels = model_input(load_image(record.image, reader.root, max_side=IMAGE_SIZE), IMAGE_SIZE)
        images.append(np.round(pixels * 255).astype(np.uint8))
        labels.append(record.label)
        for name in record.categories:
            classes.setdefault(name, len(classes))
    return images, labels


def load(data_root: Path) -> tuple[Split, dict[str, Split], int]:
    """The joint train set, the test split of each source, and the number of classes."""
    classes: dict[str, int] = {}
    train_images: list[np.ndarray] = []
    train_labels: list[str] = []
    tests: dict[str, tuple[list[np.ndarray], list[str]]] = {}
    choices: dict[str, set[str]] = {}
    for source in SCENE_SOURCES:
        images, labels = read_split(data_root, source, "train", classes)
        train_images += images
        train_labels += labels
        tests[source] = read_split(data_root, source, "test", classes)
        choices[source] = set(labels) | set(tests[source][1])

    def split(images: list[np.ndarray], labels: list[str], names: set[str]) -> Split:
        return Split(
            torch.from_numpy(np.stack(images)),
            torch.tensor([classes[n] for n in labels]),
            torch.tensor(sorted(classes[n] for n in names)),
        )

    train = split(train_images, train_labels, set(classes))
    return train, {s: split(*tests[s], choices[s]) for s in SCENE_SOURCES}, len(classes)


def to_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 [B, 3, S, S] -> float32 centred around 0 (a fixed scaling: the net is trained from scratch)."""
    return (images.float() / 255.0 - 0.5) / 0.25


def build(num_labels: int, seed: int) -> ConvNextForImageClassification:
    torch.manual_seed(seed)
    config = ConvNextConfig(
        depths=[2, 2, 6, 2], hidden_sizes=[48, 96, 192, 384], num_labels=num_labels, image_size=IMAGE_SIZE
    )
    return ConvNextForImageClassification(config)


def train(
    model: ConvNextForImageClassification,
    data: Split,
    minutes: float,
    max_steps: int | None,
    batch_size: int,
    lr: float,
    seed: int,
) -> tuple[int, int, float]:
    """AdamW with a horizontal-flip augmentation until the time or step budget ends: (steps, samples, minutes)."""
    gen = torch.Generator().manual_seed(seed)
    optim = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    model.train()
    steps = seen = 0
    order = torch.randperm(len(data.labels), generator=gen)
    cursor = 0
    start = time.perf_counter()
    while (max_steps is None or steps < max_steps) and time.perf_counter() - start < minutes * 60:
        if cursor + batch_size > len(order):
            order, cursor = torch.randperm(len(data.labels), generator=gen), 0
        idx = order[cursor : cursor + batch_size]
        cursor += batch_size
        x = to_input(data.images[idx])
        flip = torch.rand(len(idx), generator=gen) < 0.5
        x[flip] = x[flip].flip(-1)
        loss = model(pixel_values=x, labels=data.labels[idx]).loss
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        steps, seen = steps + 1, seen + len(idx)
    return steps, seen, (time.perf_counter() - start) / 60


@torch.no_grad()
def top1(model: ConvNextForImageClassification, data: Split, batch_size: int = 64) -> float:
    """Percent of test images whose best class among their dataset's categories is the truth."""
    model.eval()
    right = 0
    for i in range(0, len(data.labels), batch_size):
        logits = model(pixel_values=to_input(data.images[i : i + batch_size])).logits[:, data.choices]
        right += int((data.choices[logits.argmax(-1)] == data.labels[i : i + batch_size]).sum())
    return 100.0 * right / max(len(data.labels), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="data root (../shared/data layout)")
    parser.add_argument("--minutes", type=float, default=5.0, help="training wall time (images decoded before)")
    parser.add_argument("--steps", type=int, default=None, help="stop after this many optimizer steps")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train_set, tests, num_labels = load(args.data)
    model = build(num_labels, args.seed)
    steps, seen, minutes = train(model, train_set, args.minutes, args.steps, args.batch_size, args.lr, args.seed)
    result = {
        "steps": steps,
        "samples_seen": seen,
        "minutes": round(minutes, 3),
        "threads": args.threads,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_images": len(train_set.labels),
        "test_images": {name: len(split.labels) for name, split in tests.items()},
        "top1_rsscn7": round(top1(model, tests["rsscn7"]), 2),
        "top1_aid": round(top1(model, tests["aid"]), 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
