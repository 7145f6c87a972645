"""Time of our caption metrics vs pycocoevalcap on the same ~1,000 RSICD predictions; values must be equal.

Predictions are real RSICD captions (an image's own first caption, another image's caption, or a
model-style rewrite: capitalised, punctuation attached), references the image's other captions.
Both sides tokenise, then score BLEU-1..4, METEOR, ROUGE-L and CIDEr-D; each starts its own METEOR
process. The two sides run in turn ``--repeats`` times; per stage the medians with min-max of each side and of
their ratio round by round are printed. Asserts equal values, never asserts timings. Run from the repository
root: ``python bench/caption_metrics.py [--data-root ../shared/data] [--images 1000] [--repeats 3] [--no-meteor]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's code, not an install

from _timing import Spread, ratio
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.rouge.rouge import Rouge
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

from earthgpt.evaluation.metrics.caption import bleu, cider_d, rouge_l, tokenize_captions
from earthgpt.evaluation.metrics.coco_java import MeteorScorer


def load(data_root: Path, n: int) -> tuple[dict[str, str], dict[str, list[str]]]:
    caps: dict[str, list[str]] = defaultdict(list)
    for name in ("captions_val2017.json", "captions_test2017.json"):
        doc = json.loads((data_root / "rsicd_captions_jwdevx/data/processed" / name).read_text())
        for ann in doc["annotations"]:
            caps[str(ann["image_id"])].append(ann["caption"])
    rng = random.Random(0)
    ids = rng.sample(sorted(caps), n)
    preds = {}
    for k, i in enumerate(ids):
        c = caps[i][0] if k % 3 == 0 else caps[rng.choice(ids)][0]
        if k % 3 == 2:
            c = " ".join(c.split()).replace(" .", ".").replace(" ,", ",")
            c = c[:1].upper() + c[1:]
        preds[i] = c
    return preds, {i: caps[i][1:] for i in ids}


def ours(preds: dict[str, str], refs: dict[str, list[str]], meteor: bool) -> tuple[dict[str, float], dict[str, float]]:
    times, t0 = {}, time.perf_counter()
    ids = list(refs)
    hyps = tokenize_captions([preds[i] for i in ids])
    flat = tokenize_captions([c for i in ids for c in refs[i]])
    sizes = [len(refs[i]) for i in ids]
    r, start = [], 0
    for s in sizes:
        r.append(flat[start : start + s])
        start += s
    times["tokenize"] = time.perf_counter() - t0
    out = {}
    t = time.perf_counter()
    out.update(zip(("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4"), bleu(hyps, r), strict=True))
    times["bleu"] = time.perf_counter() - t
    t = time.perf_counter()
    out["ROUGE_L"] = sum(rouge_l(hyps, r)) / len(hyps)
    times["rouge"] = time.perf_counter() - t
    t = time.perf_counter()
    out["CIDEr"] = sum(cider_d(hyps, r)) / len(hyps)
    times["cider"] = time.perf_counter() - t
    if meteor:
        t = time.perf_counter()
        with MeteorScorer() as m:
            out["METEOR"] = m.score(hyps, r)[0]
        times["meteor"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - t0
    return out, times


def reference(
    preds: dict[str, str], refs: dict[str, list[str]], meteor: bool
) -> tuple[dict[str, float], dict[str, float]]:
    times, t0 = {}, time.perf_counter()
    tok = PTBTokenizer()
    gts = tok.tokenize({i: [{"caption": c} for c in refs[i]] for i in refs})
    res = tok.tokenize({i: [{"caption": preds[i]}] for i in refs})
    times["tokenize"] = time.perf_counter() - t0
    out = {}
    t = time.perf_counter()
    out.update(
        zip(("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4"), Bleu(4).compute_score(gts, res, verbose=0)[0], strict=True)
    )
    times["bleu"] = time.perf_counter() - t
    t = time.perf_counter()
    out["ROUGE_L"] = Rouge().compute_score(gts, res)[0]
    times["rouge"] = time.perf_counter() - t
    t = time.perf_counter()
    out["CIDEr"] = Cider().compute_score(gts, res)[0]
    times["cider"] = time.perf_counter() - t
    if meteor:
        t = time.perf_counter()
        out["METEOR"] = Meteor().compute_score(gts, res)[0]
        times["meteor"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - t0
    return out, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default_root = Path(os.environ.get("EARTHGPT_DATA", "../shared/data"))
    parser.add_argument(
        "--data-root", type=Path, default=default_root, help="default: $EARTHGPT_DATA or ../shared/data"
    )
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="rounds of both sides, in turn")
    parser.add_argument("--no-meteor", action="store_true", help="skip METEOR (its JVM start dominates)")
    args = parser.parse_args()
    preds, refs = load(args.data_root, args.images)
    t_mine: dict[str, list[float]] = defaultdict(list)
    t_ref: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.repeats):
        mine, times_mine = ours(preds, refs, not args.no_meteor)
        ref, times_ref = reference(preds, refs, not args.no_meteor)
        for stage in times_mine:
            t_mine[stage].append(times_mine[stage])
            t_ref[stage].append(times_ref[stage])
        for name, value in ref.items():
            assert abs(mine[name] - value) <= 1e-12 * max(1.0, abs(value)), name
    print(f"{len(preds)} predictions, {sum(map(len, refs.values()))} references, {args.repeats} rounds")
    print(f"{'stage':<10}{'ours (s)':>32}{'pycocoevalcap (s)':>32}{'pycocoevalcap / ours':>36}")
    for stage in t_mine:
        cells = (
            Spread.of(t_mine[stage]).format(),
            Spread.of(t_ref[stage]).format(),
            ratio(t_ref[stage], t_mine[stage]),
        )
        print(f"{stage:<10}{cells[0]:>32}{cells[1]:>32}{cells[2].format('.2f', 'x'):>36}")
    for name, value in ref.items():
        print(f"{name:<8} ours {mine[name]:.12f}  pycocoevalcap {value:.12f}")
    print("all values equal")


if __name__ == "__main__":
    main()
