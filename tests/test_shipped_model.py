"""The shipped model (``default_model_dir()``: $EARTHGPT_MODEL, else the committed models/earthgpt-tiny) loads, scores
above chance on a held-out dev split and ends a detection answer with </s> before the token limit.

It never skips for want of a model: the model is committed, and its absence fails naming the fix. The split is
RSSCN7 test through the eval harness (32 images, 7 classes: chance 100/7 %). "Above chance" is the count of right
answers that a model guessing uniformly at random reaches with probability at most 1e-3 (binomial tail): for 32
images that is 12 right (37.5%), so a pass is not luck and a useful model (the card's figures) passes with margin.
"""

from __future__ import annotations

from math import comb
from pathlib import Path

from earthgpt.demo import ANSWER_TOKENS, DETECT_TASK, held_out_sample
from earthgpt.evaluation.answerers import ModelAnswerer
from earthgpt.evaluation.harness import evaluate
from earthgpt.inference.chat import read_input_image
from earthgpt.inference.predictor import Predictor
from earthgpt.models.shipped import default_model_dir

CHANCE = 1 / 7  # RSSCN7's 7 classes
LUCK = 1e-3  # the probability of passing by guessing


def right_answers_beyond_luck(n: int, p: float = CHANCE, luck: float = LUCK) -> int:
    """The least k with P(Binomial(n, p) >= k) <= luck."""
    tail = 1.0
    for k in range(n + 1):
        if tail <= luck:
            return k
        tail -= comb(n, k) * p**k * (1 - p) ** (n - k)  # tail is now P(X >= k + 1)
    return n + 1


def test_the_bound_is_the_binomial_tail() -> None:
    assert right_answers_beyond_luck(32) == 12  # P(X >= 12) = 0.00099, P(X >= 11) = 0.0036
    assert right_answers_beyond_luck(7, p=0.5, luck=1 / 128) == 7  # 7 coin flips: all 7 has probability 1/128


def test_shipped_model_scores_above_chance_on_rsscn7_test(data_root: Path, tmp_path: Path) -> None:
    model = default_model_dir()  # FileNotFoundError naming $EARTHGPT_MODEL, models/earthgpt-tiny and the fixes
    summary = evaluate(ModelAnswerer(Predictor.load(model, max_new_tokens=16)), "rsscn7", data_root, tmp_path)
    task = summary["tasks"]["rsscn7"]
    n = task["counts"]["samples"]
    assert n == 32
    need = right_answers_beyond_luck(n)
    assert task["metrics"]["top1"] >= 100 * need / n, f"{model}: top-1 {task['metrics']['top1']:.1f}% on {n} images"


def test_shipped_model_ends_a_detection_answer_before_the_token_limit(data_root: Path) -> None:
    predictor = Predictor.load(default_model_dir(), max_new_tokens=ANSWER_TOKENS)
    sample, image = held_out_sample(DETECT_TASK, data_root)
    gen = predictor.ask_generation(read_input_image(image), sample.prompt)
    assert gen.finish_reason == "stop", f"cut at {ANSWER_TOKENS} tokens: {gen.text[:200]}"
