"""Box representation on the same budget: decimal text vs quantised location tokens (docs/boxes.md).

A tiny model from scratch, same seed, same steps, same BPE (``location`` only adds the 1001 ``<loc_NNN>`` tokens):

* memorise: the 8 HIT-UAV HBB frames of tests/test_detection_path.py, AP@0.5 on those frames after each of
  ``--memorise-steps`` (each a separate run whose schedule ends at that step);
* held-out: ``--train-frames`` HIT-UAV train frames for ``--steps`` steps, then tokens per detection answer and
  AP@0.5 on ``--val-frames`` HIT-UAV val frames.

Prints one table; never asserts. Run from the repository root:
``OMP_NUM_THREADS=1 nice -n 10 python bench/box_tokens.py [--part tokens|memorise|heldout|all]``; ``tokens``
(c) counts the tokens of every HIT-UAV detection answer, with no training.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's code, not an install

import torch
from transformers import PreTrainedTokenizerBase

from earthgpt.data.chat_template import ChatTemplate
from earthgpt.data.conversation import Conversation
from earthgpt.data.instructions.convert import InstructionOptions, to_conversations
from earthgpt.data.records import DetectionRecord
from earthgpt.data.sources import get_source
from earthgpt.evaluation.metrics.detection import detection_scores
from earthgpt.geometry import LabeledBox
from earthgpt.inference.chat import answer_boxes
from earthgpt.inference.predictor import Predictor
from earthgpt.pipeline import fit, new_model
from earthgpt.training import recipe

MODES = ("text", "location")


def frames(root: Path, split: str, n: int, lo: int = 1, hi: int = 8) -> list[DetectionRecord]:
    """The first ``n`` HBB frames of a split with ``lo``..``hi`` objects (the memorise test takes 2..8)."""
    source = get_source("hit_uav")(root, split, kind="hbb")
    out: list[DetectionRecord] = []
    for item in source.items():
        out += [r for r in source.load(item) if isinstance(r, DetectionRecord) and lo <= len(r.objects) <= hi]
        if len(out) >= n:
            break
    return out[:n]


def conversations_of(records: list[DetectionRecord]) -> list[Conversation]:
    return [c for r in records for c in to_conversations(r, InstructionOptions(referring=False))]


def answer_tokens(tok: PreTrainedTokenizerBase, model_tokens: int, convs: list[Conversation]) -> float:
    """Mean tokens of an assistant answer (with its ``</s>``) under the tokenizer's box representation."""
    template = ChatTemplate(tok, model_tokens)
    counts = [
        len(template._plain(" " + m.text, "answer")) + 1 for c in convs for m in c.messages if m.role == "assistant"
    ]
    return statistics.mean(counts)


def ap(
    predictor: Predictor, records: list[DetectionRecord], convs: list[Conversation], root: Path
) -> tuple[float, int]:
    """AP@0.5 of the model's answers to the first question of each conversation, and how many answers ended."""
    images = [predictor.pixels(r.image, root) for r in records]
    answers = predictor.generate(images, [c.messages[:1] for c in convs])
    preds = [
        [
            LabeledBox(b.label, b.box, 1.0 / (1 + i))
            for i, b in enumerate(answer_boxes(a.text, r.image.width, r.image.height))
        ]
        for a, r in zip(answers, records, strict=True)
    ]
    scores = detection_scores(preds, [list(r.objects) for r in records], iou_threshold=0.5)
    return float(scores.map), sum(a.finish_reason == "stop" for a in answers)


def train(mode: str, convs: list[Conversation], root: Path, steps: int, seed: int, lr: float):  # type: ignore[no-untyped-def]
    model, tok = new_model(convs, vocab_size=256, seed=seed, box_tokens=mode)
    with tempfile.TemporaryDirectory() as out:
        config = recipe(
            "scratch", out, max_steps=steps, batch_size=8, lr=lr, seed=seed, log_every=1, progress_bar=False
        )
        result = fit(model, tok, convs, root, config)
    return model, tok, result


def token_counts(root: Path) -> None:
    """Tokens per detection answer over every HIT-UAV HBB frame of each split (no training)."""
    train_convs = conversations_of(frames(root, "train", 10**6, 1, 10**6))
    print("\n(c) tokens per HBB detection answer (with </s>), all HIT-UAV frames")
    print(
        f"{'split':<6} {'mode':<9} {'frames':>6} {'objects':>7} {'mean':>6} {'median':>6} {'max':>5} {'per object':>10}"
    )
    for split in ("train", "val"):
        records = frames(root, split, 10**6, 1, 10**6)
        convs = conversations_of(records)
        objects = sum(len(r.objects) for r in records)
        for mode in MODES:
            model, tok = new_model(train_convs, vocab_size=256, seed=0, box_tokens=mode)
            template = ChatTemplate(tok, model.num_image_tokens)
            n = [
                len(template._plain(" " + m.text, "answer")) + 1
                for c in convs
                for m in c.messages
                if m.role == "assistant"
            ]
            print(
                f"{split:<6} {mode:<9} {len(records):>6} {objects:>7} {statistics.mean(n):>6.1f} "
                f"{statistics.median(n):>6.0f} {max(n):>5} {sum(n) / objects:>10.1f}",
                flush=True,
            )


def memorise(root: Path, steps_list: list[int], seed: int, lr: float) -> None:
    records = frames(root, "train", 8, 2, 8)
    convs = conversations_of(records)
    print(f"\n(a) memorise {len(records)} HIT-UAV HBB frames, batch 8, lr {lr}, seed {seed}")
    print(
        f"{'mode':<9} {'steps':>5} {'loss first->last':>18} {'AP@0.5':>7} {'ended':>6} {'tok/answer':>10} {'time s':>7}"
    )
    for steps in steps_list:
        for mode in MODES:
            t0 = time.perf_counter()
            model, tok, result = train(mode, convs, root, steps, seed, lr)
            predictor = Predictor(model, tok, max_new_tokens=320)
            score, ended = ap(predictor, records, convs, root)
            n = answer_tokens(tok, model.num_image_tokens, convs)
            loss = f"{result.losses[0]:.3f}->{result.losses[-1]:.4f}"
            print(
                f"{mode:<9} {steps:>5} {loss:>18} {score:>7.3f} {f'{ended}/{len(records)}':>6} {n:>10.1f} {time.perf_counter() - t0:>7.0f}",
                flush=True,
            )


def heldout(root: Path, n_train: int, n_val: int, steps: int, seed: int, lr: float) -> None:
    train_records = frames(root, "train", n_train)
    val_records = frames(root, "val", n_val)
    convs, val_convs = conversations_of(train_records), conversations_of(val_records)
    print(
        f"\n(b) {len(train_records)} HIT-UAV train frames, {steps} steps of batch 8, lr {lr}, seed {seed}; "
        f"AP@0.5 on {len(val_records)} val frames"
    )
    print(
        f"{'mode':<9} {'loss first->last':>18} {'tok/answer':>10} {'val AP@0.5':>10} {'val ended':>9} "
        f"{'train AP@0.5':>12} {'time s':>7}"
    )
    for mode in MODES:
        t0 = time.perf_counter()
        model, tok, result = train(mode, convs, root, steps, seed, lr)
        predictor = Predictor(model, tok, max_new_tokens=320)
        val_ap, ended = ap(predictor, val_records, val_convs, root)
        seen = train_records[:n_val]
        train_ap, _ = ap(predictor, seen, conversations_of(seen), root)
        n = answer_tokens(tok, model.num_image_tokens, convs)
        loss = f"{result.losses[0]:.3f}->{result.losses[-1]:.4f}"
        print(
            f"{mode:<9} {loss:>18} {n:>10.1f} {val_ap:>10.3f} {f'{ended}/{len(val_records)}':>9} {train_ap:>12.3f} {time.perf_counter() - t0:>7.0f}",
            flush=True,
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data", help="the shared data root (holds hit_uav/)")
    p.add_argument("--part", choices=("tokens", "memorise", "heldout", "all"), default="all")
    p.add_argument("--memorise-steps", default="25,50,100", help="comma-separated step counts for (a)")
    p.add_argument("--steps", type=int, default=100, help="training steps for (b)")
    p.add_argument("--train-frames", type=int, default=600)
    p.add_argument("--val-frames", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(1)
    root = Path(args.data) / "hit_uav"
    if args.part in ("tokens", "all"):
        token_counts(root)
    if args.part in ("memorise", "all"):
        memorise(root, [int(s) for s in args.memorise_steps.split(",")], args.seed, args.lr)
    if args.part in ("heldout", "all"):
        heldout(root, args.train_frames, args.val_frames, args.steps, args.seed, args.lr)


if __name__ == "__main__":
    main()
