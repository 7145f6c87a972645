"""Pixel grounding: gIoU, cIoU, Pr@0.5..0.9 and mIoU of predicted masks (arrays, COCO RLE or polygons).

Every mask becomes COCO run lengths (column-major, alternating 0 and 1 runs, starting with 0s), and
IoU is computed on the runs without painting a bitmap: intersection = the ones of A covered by the
ones of B, found by binary search, so a pair costs O(runs log runs), not O(H W). On the same RLEs
the IoU equals ``pycocotools.mask.iou`` (the tests and ``bench/mask_metrics.py`` check it).

Accepted forms (``mask_runs``): a 2-D array (non-zero = object); an RLE dict ``{"size": [h, w],
"counts": ...}`` with compressed (``str``/``bytes``, COCO's 6-bit text) or uncompressed (list of
ints) counts; a list of polygons ``[[x1, y1, x2, y2, ...], ...]`` in pixels, rasterised by
``pycocotools.mask.frPyObjects`` (COCO's pixel rule for polygons; needs the ``eval`` extra) and needing
the image size, which the target's size supplies.

- gIoU: mean per-object IoU. cIoU: total intersection / total union over all objects.
- Pr@t: fraction of objects with IoU >= t, t in 0.5, 0.6, ..., 0.9.
- mIoU: the semantic-segmentation mean: per class, total intersection / total union, averaged over
  classes. Without ``classes`` (one class) it equals cIoU.

Rules: an empty target with an empty prediction has IoU 1 (LISA's and GRES's no-target rule;
pycocotools says 0) and adds nothing to the cIoU sums; ``num_empty_targets`` reports how many there
were. A prediction that did not parse (``None``) is an empty mask and is counted in
``num_unparsed``. A prediction whose size differs from its target's is an error naming the sample:
resizing would guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from earthgpt.geometry.masks import decode_rle_counts

__all__ = ["MASK_PR_THRESHOLDS", "MaskScores", "Runs", "mask_iou", "mask_runs", "mask_scores"]

MASK_PR_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)

MaskLike = np.ndarray | dict[str, Any] | Sequence[Sequence[float]]


@dataclass(frozen=True)
class Runs:
    """A binary mask as the column-major [start, end) pixel intervals of its ones."""

    size: tuple[int, int]  # (height, width)
    starts: np.ndarray  # [R] int64, increasing
    ends: np.ndarray  # [R] int64
    covered: np.ndarray  # [R + 1] ones before interval r (prefix sums of lengths)

    @property
    def area(self) -> int:
        return int(self.covered[-1])

    @classmethod
    def from_counts(cls, counts: np.ndarray, size: tuple[int, int], name: str) -> Runs:
        """Runs from COCO counts (0s first); the counts must sum to height * width."""
        counts = np.asarray(counts, dtype=np.int64)
        if counts.ndim != 1 or (counts < 0).any() or (counts > size[0] * size[1]).any():
            raise ValueError(f"{name}: RLE counts must be a flat list of run lengths in 0..height*width")
        if int(counts.sum()) != size[0] * size[1]:
            raise ValueError(
                f"{name}: RLE counts sum to {int(counts.sum())}, not height*width = {size[0]}*{size[1]}; "
                "the counts or the size is wrong"
            )
        bounds = np.concatenate([[0], np.cumsum(counts)])  # [C + 1]
        starts, ends = bounds[1:-1:2], bounds[2::2]  # the odd runs are the ones
        keep = ends > starts
        starts, ends = starts[keep], ends[keep]
        return cls(size, starts, ends, np.concatenate([[0], np.cumsum(ends - starts)]))

    def ones_before(self, x: np.ndarray) -> np.ndarray:
        """Number of one-pixels at positions < x, for each x (column-major positions)."""
        r = np.searchsorted(self.starts, x, side="right") - 1  # last interval starting before x
        inside = np.zeros(len(x), dtype=np.int64)
        ok = r >= 0
        rr = r[ok]
        inside[ok] = np.minimum(x[ok] - self.starts[rr], self.ends[rr] - self.starts[rr])
        return self.covered[np.maximum(r, 0)] * ok + inside


def _array_counts(mask: np.ndarray) -> np.ndarray:
    """COCO counts of a 2-D array, column-major, 0-runs first."""
    flat = np.asarray(mask).ravel(order="F") != 0  # [H * W]
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds)
    return np.concatenate([[0], counts]) if flat.size and flat[0] else counts


def _polygon_counts(polygons: Sequence[Sequence[float]], size: tuple[int, int], name: str) -> np.ndarray:
    """COCO counts of the union of polygons, rasterised by pycocotools (COCO's own pixel rule)."""
    try:
        from pycocotools import mask as coco_mask
    except ImportError as err:
        raise ImportError(f"{name}: polygons are rasterised by pycocotools: pip install 'earthgpt[eval]'") from err
    polys = [list(map(float, p)) for p in polygons]
    for k, p in enumerate(polys):
        if len(p) < 6 or len(p) % 2:
            raise ValueError(f"{name}: polygon {k} has {len(p)} coordinates; it needs x, y pairs of >= 3 points")
    rle = coco_mask.merge(coco_mask.frPyObjects(polys, size[0], size[1]))
    return decode_rle_counts(rle["counts"], name)


def _rle_size(size: Any, name: str) -> tuple[int, int]:
    """An RLE's [height, width], checked."""
    if (
        not isinstance(size, Sequence | np.ndarray)
        or len(size) != 2
        or not all(isinstance(v, int | np.integer) and v >= 0 for v in size)
    ):
        raise ValueError(f"{name}: RLE 'size' must be [height, width] as two non-negative integers, got {size!r}")
    return int(size[0]), int(size[1])


def mask_runs(mask: MaskLike, size: tuple[int, int] | None = None, name: str = "mask") -> Runs:
    """Any accepted mask form -> Runs; ``size`` (height, width) is required for polygons, checked otherwise."""
    if isinstance(mask, np.ndarray):
        if mask.ndim != 2:
            raise ValueError(f"{name}: a mask array must be 2-D [H, W], got shape {mask.shape}")
        hw = (int(mask.shape[0]), int(mask.shape[1]))
        runs = Runs.from_counts(_array_counts(mask), hw, name)
    elif isinstance(mask, dict):
        if "size" not in mask or "counts" not in mask:
            raise ValueError(f"{name}: an RLE needs 'size' [h, w] and 'counts'; got keys {sorted(mask)}")
        hw = _rle_size(mask["size"], name)
        counts = mask["counts"]
        if isinstance(counts, str | bytes):
            raw = decode_rle_counts(counts, name)
        elif isinstance(counts, Sequence | np.ndarray) and all(isinstance(c, int | np.integer) for c in counts):
            raw = np.asarray(counts, dtype=np.int64)
        else:
            raise ValueError(f"{name}: RLE counts must be COCO text (compressed) or a list of ints (uncompressed)")
        runs = Runs.from_counts(raw, hw, name)
    else:
        if size is None:
            raise ValueError(f"{name}: polygons need the image size (height, width); pass size=")
        runs = Runs.from_counts(_polygon_counts(mask, size, name), size, name)
    if size is not None and runs.size != tuple(size):
        raise ValueError(
            f"{name}: mask size {runs.size} (h, w) differs from its target's {tuple(size)}; "
            "predict at the image's size, masks are not resized"
        )
    return runs


def intersection(a: Runs, b: Runs) -> int:
    """Pixels in both masks: the ones of b inside each interval of a."""
    if a.area == 0 or b.area == 0:
        return 0
    return int((b.ones_before(a.ends) - b.ones_before(a.starts)).sum())


def mask_iou(a: MaskLike, b: MaskLike, size: tuple[int, int] | None = None) -> float:
    """IoU of two masks of the same size; two empty masks have IoU 1 (see the module docstring)."""
    ra = mask_runs(a, size, "first mask")
    rb = mask_runs(b, ra.size, "second mask")
    inter = intersection(ra, rb)
    union = ra.area + rb.area - inter
    return inter / union if union else 1.0


@dataclass(frozen=True)
class MaskScores:
    """gIoU, cIoU, mIoU, Pr@thresholds, per-object IoU / intersection / union and the counts behind them."""

    giou: float
    ciou: float
    miou: float
    precision_at: dict[float, float]
    ious: np.ndarray  # [N]
    intersections: np.ndarray  # [N] pixels
    unions: np.ndarray  # [N] pixels
    num_samples: int
    num_unparsed: int
    num_empty_targets: int


def _pair(pred: MaskLike | None, target: MaskLike, i: int) -> tuple[int, int, int]:
    """Intersection, union and target area of sample i (a size mismatch is an error naming it)."""
    if not isinstance(target, np.ndarray | dict):
        raise ValueError(f"target {i}: polygons carry no image size; give targets as arrays or RLE dicts")
    gt = mask_runs(target, None, f"target {i}")
    if pred is None:
        return 0, gt.area, gt.area
    pr = mask_runs(pred, gt.size, f"prediction {i}")
    inter = intersection(pr, gt)
    return inter, pr.area + gt.area - inter, gt.area


def mask_scores(
    predictions: Sequence[MaskLike | None],
    targets: Sequence[MaskLike],
    classes: Sequence[str] | None = None,
    thresholds: Sequence[float] = MASK_PR_THRESHOLDS,
) -> MaskScores:
    """Scores of one predicted mask per target object (None = did not parse); ``classes`` name each target's class."""
    if len(predictions) != len(targets):
        raise ValueError(f"{len(predictions)} predictions but {len(targets)} targets: one mask per object")
    if not targets:
        raise ValueError("no objects to score")
    if classes is not None and len(classes) != len(targets):
        raise ValueError(f"{len(classes)} classes for {len(targets)} targets: one class per target")
    n = len(targets)
    inter, union = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)  # [N], [N]
    empty = 0
    for i, (pred, gt) in enumerate(zip(predictions, targets, strict=True)):
        inter[i], union[i], gt_area = _pair(pred, gt, i)
        empty += gt_area == 0
    ious = np.where(union > 0, inter / np.maximum(union, 1), 1.0)  # both empty = 1
    groups = np.asarray(classes) if classes is not None else np.zeros(n)
    per_class = [_ratio(inter[groups == c].sum(), union[groups == c].sum()) for c in np.unique(groups)]
    return MaskScores(
        giou=float(ious.mean()),
        ciou=_ratio(inter.sum(), union.sum()),
        miou=float(np.mean(per_class)),
        precision_at={t: float(np.mean(ious >= t)) for t in thresholds},
        ious=ious,
        intersections=inter,
        unions=union,
        num_samples=n,
        num_unparsed=sum(p is None for p in predictions),
        num_empty_targets=empty,
    )


def _ratio(inter: int, union: int) -> float:
    """Total intersection / total union; 1 when the union is empty (every mask empty)."""
    return float(inter / union) if union else 1.0
