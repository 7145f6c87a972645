"""Uncompressed COCO RLE counts written by hand (column-major runs, 0s first): the reference the mask tests use."""

from __future__ import annotations

import numpy as np


def coco_counts(mask: np.ndarray) -> list[int]:
    """Run lengths of ``mask`` [H, W] in column-major order, starting with a (possibly empty) run of 0s."""
    counts, value, run = [], 0, 0
    for v in mask.ravel(order="F"):
        if v == value:
            run += 1
        else:
            counts.append(run)
            value, run = v, 1
    return [*counts, run]
