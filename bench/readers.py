"""Time scaling of the readers of model output on hostile text: every reader must stay linear.

For each box format (and the codec behind ``earthgpt``), adversarial texts of about 50 KB and 1 MB are read:
repeated unclosed openers (``<box>`` * n: the old lazy regex took 1.6 s at 50 KB and > 40 s at 1 MB), digit
runs ending in a letter (backtracking number patterns), deep brackets, many valid boxes. Each case is timed
``--repeats`` times, sizes interleaved; the script prints the median with min-max and the 1 MB / 50 KB ratio of
the medians (linear is about 20x; quadratic would be about 400x). Never asserts timings.
Run from the repository root: ``python bench/readers.py [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's code, not an install

from earthgpt.data.records import ImageRef
from earthgpt.evaluation.tasks.boxtext import read_boxes
from earthgpt.geometry.codec import parse_boxes

IMAGE = ImageRef("x.png", width=800, height=800)
CATS = ("car", "person", "storage tank")
SIZES = {"50KB": 50_000, "1MB": 1_000_000}


def _fill(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


CASES: dict[str, tuple[str, Callable[[int], str]]] = {
    "falcon <box>*n": ("falcon", lambda n: _fill("<box>", n)),
    "falcon valid boxes": ("falcon", lambda n: _fill("car <box><10><20><300><400></box> ", n)),
    "geochat {* n": ("geochat", lambda n: _fill("{<1", n)),
    "coco [digits x]": ("coco", lambda n: "[" + "1" * (n - 10) + "x 1 2 3]"),
    "coco [ * n": ("coco", lambda n: _fill("[", n)),
    "coco free-text boxes": ("coco", lambda n: _fill("car [10, 20, 30, 40] ", n)),
    "dota digits x": ("dota", lambda n: "1" * (n - 1) + "x"),
    "dota lines": ("dota", lambda n: _fill("10 10 30 10 30 30 10 30 car\n", n)),
    "earthgpt [ * n": ("earthgpt", lambda n: _fill("[", n)),
    "earthgpt boxes": ("earthgpt", lambda n: _fill("car [0.100,0.200,0.300,0.400]; ", n)),
    "earthgpt label run": ("earthgpt", lambda n: _fill("a;", n) + "[0.1,0.2,0.3,0.4]"),
}


def _time_one(fmt: str, text: str) -> float:
    t0 = time.perf_counter()
    if fmt == "earthgpt":
        parse_boxes(text)
    read_boxes(text, fmt, "obb", IMAGE, CATS)  # type: ignore[arg-type]
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"{'case':<24} {'50KB median (min-max) s':>28} {'1MB median (min-max) s':>28} {'ratio':>7}")
    for name, (fmt, make) in CASES.items():
        texts = {k: make(n) for k, n in SIZES.items()}
        times: dict[str, list[float]] = {k: [] for k in SIZES}
        for _ in range(args.repeats):
            for k in SIZES:  # interleaved: a burst of load hits both sizes alike
                times[k].append(_time_one(fmt, texts[k]))
        cells = [f"{statistics.median(v):.4f} ({min(v):.4f}-{max(v):.4f})" for v in times.values()]
        ratio = statistics.median(times["1MB"]) / max(statistics.median(times["50KB"]), 1e-9)
        print(f"{name:<24} {cells[0]:>28} {cells[1]:>28} {ratio:>6.1f}x")


if __name__ == "__main__":
    main()
