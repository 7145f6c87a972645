"""Time of our mask metrics vs pycocotools.mask on the same 1,000 pairs of 800x800 masks; values must be equal.

Targets are ellipses of ship-to-field sizes (radii 4..300 px) at random places and angles; each
prediction is its target moved, resized and turned a little, so IoUs spread over (0, 1). Both sides
start from the same compressed COCO RLEs: ours is ``mask_scores`` (gIoU, cIoU, Pr@t, mIoU); pycocotools
is ``mask.iou`` per pair plus ``mask.area(mask.merge(..., intersect=True))`` for the cIoU sums.
A second, smaller comparison starts from uint8 arrays (each side encodes them first).
The sides run in turn (``bench/_timing.py``); prints medians, spreads and the ratio, asserts equal
values, never asserts timings. Run from the repository root: ``python bench/mask_metrics.py [--masks 1000] [--array-masks 200]``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's code, not an install

import numpy as np
from _timing import Spread, interleaved, ratio
from pycocotools import mask as coco_mask

from earthgpt.evaluation.metrics.masks import mask_scores

SIZE = 800


def ellipse(rng: np.random.Generator, cx: float, cy: float, rx: float, ry: float, angle: float) -> np.ndarray:
    """A filled rotated ellipse as a [SIZE, SIZE] uint8 mask."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    c, s = np.cos(angle), np.sin(angle)
    u, v = (xx - cx) * c + (yy - cy) * s, -(xx - cx) * s + (yy - cy) * c
    return ((u / rx) ** 2 + (v / ry) ** 2 <= 1.0).astype(np.uint8)


def pairs(n: int, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    preds, targets = [], []
    for _ in range(n):
        rx = float(np.exp(rng.uniform(np.log(4), np.log(300))))
        ry = rx * rng.uniform(0.2, 1.0)
        cx, cy, a = rng.uniform(0, SIZE), rng.uniform(0, SIZE), rng.uniform(0, np.pi)
        targets.append(ellipse(rng, cx, cy, rx, ry, a))
        d = rng.normal(0, 0.15 * rx, 2)
        k = rng.uniform(0.8, 1.25)
        preds.append(ellipse(rng, cx + d[0], cy + d[1], rx * k, ry * k, a + rng.normal(0, 0.2)))
    return preds, targets


def rle(m: np.ndarray) -> dict:
    return coco_mask.encode(np.asfortranarray(m))


def reference(preds: list[dict], targets: list[dict]) -> tuple[float, float]:
    """gIoU and cIoU from pycocotools, pair by pair."""
    ious = [coco_mask.iou([p], [g], [0])[0, 0] for p, g in zip(preds, targets, strict=True)]
    inter = sum(
        int(coco_mask.area(coco_mask.merge([p, g], intersect=True))) for p, g in zip(preds, targets, strict=True)
    )
    union = sum(int(coco_mask.area(coco_mask.merge([p, g]))) for p, g in zip(preds, targets, strict=True))
    return float(np.mean(ious)), inter / union


def compare(name: str, ours: Callable[[], object], theirs: Callable[[], object], repeats: int) -> None:
    seconds = interleaved({"ours": ours, "pycocotools": theirs}, repeats=repeats)
    print(f"{name}: ours {Spread.of(seconds['ours']).format(unit=' s')}")
    print(f"{name}: pycocotools {Spread.of(seconds['pycocotools']).format(unit=' s')}")
    print(f"{name}: ours / pycocotools {ratio(seconds['ours'], seconds['pycocotools']).format('.2f', 'x')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--masks", type=int, default=1000)
    parser.add_argument(
        "--array-masks", type=int, default=200, help="pairs for the array comparison (RAM: 1.3 MB each)"
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    preds, targets = pairs(args.masks)
    p_rle, t_rle = [rle(m) for m in preds], [rle(m) for m in targets]
    ours = mask_scores(p_rle, t_rle)
    giou, ciou = reference(p_rle, t_rle)
    ref_ious = np.array([coco_mask.iou([p], [g], [0])[0, 0] for p, g in zip(p_rle, t_rle, strict=True)])
    np.testing.assert_array_equal(ours.ious, ref_ious)
    assert ours.giou == giou and abs(ours.ciou - ciou) < 1e-12, (ours.giou, giou, ours.ciou, ciou)
    print(f"{args.masks} pairs of {SIZE}x{SIZE} masks: gIoU {ours.giou:.6f} cIoU {ours.ciou:.6f} (both sides equal)")
    print(f"Pr@0.5 {ours.precision_at[0.5]:.3f}  Pr@0.9 {ours.precision_at[0.9]:.3f}")
    compare("compressed RLE", lambda: mask_scores(p_rle, t_rle), lambda: reference(p_rle, t_rle), args.repeats)
    k = min(args.array_masks, args.masks)
    pa, ta = preds[:k], targets[:k]
    np.testing.assert_array_equal(mask_scores(pa, ta).ious, ref_ious[:k])
    compare(
        f"{k} uint8 arrays",
        lambda: mask_scores(pa, ta),
        lambda: reference([rle(m) for m in pa], [rle(m) for m in ta]),
        args.repeats,
    )


if __name__ == "__main__":
    main()
