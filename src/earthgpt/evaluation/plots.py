"""Report figures (matplotlib, Agg backend): confusion matrix, precision-recall curves, predictions drawn on images."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Polygon as PolygonPatch
from PIL import Image

from earthgpt.data.imagery import ImageReadError, load_image
from earthgpt.evaluation.tasks.spec import Parsed, Sample
from earthgpt.geometry import HBB, box_corners

matplotlib.rcParams["text.parse_math"] = False  # answers and labels are plain text: "$$$$" is not TeX

__all__ = ["plot_confusion", "plot_examples", "plot_pr_curves"]

log = logging.getLogger(__name__)

GT_COLOUR = "#2ca02c"
PRED_COLOUR = "#d62728"


def plot_confusion(labels: Sequence[str], matrix: Sequence[Sequence[int]], path: Path, title: str) -> Path:
    """A row-normalised confusion matrix (rows: truth, columns: prediction; the last column may be 'unparsed')."""
    m = np.asarray(matrix, dtype=np.float64)  # [C, C']
    rows = m.sum(axis=1, keepdims=True)
    norm = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    n = max(len(labels), 1)
    size = min(3 + 0.35 * n, 18)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(norm, cmap="Blues", vmin=0.0, vmax=1.0)
    cols = list(labels) + ["(unparsed)"] * (m.shape[1] - len(labels))
    ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    if n <= 15:
        for (i, j), v in np.ndenumerate(m):
            if v:
                ax.text(j, i, str(int(v)), ha="center", va="center", fontsize=6)
    return _save(fig, path)


def plot_pr_curves(curves: Mapping[str, Mapping[str, Sequence[float]]], path: Path, title: str) -> Path:
    """Precision against recall per class (``curves[label] = {"recall": [...], "precision": [...]}``)."""
    fig, ax = plt.subplots(figsize=(5, 4))
    drawn = 0
    for label, c in sorted(curves.items()):
        r, p = list(c.get("recall", [])), list(c.get("precision", []))
        if r and p:
            ax.plot(r, p, label=label, linewidth=1.2)
            drawn += 1
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(title, fontsize=9)
    if drawn:
        ax.legend(fontsize=6, loc="lower left")
    else:
        ax.text(0.5, 0.5, "no predictions", ha="center", va="center")
    return _save(fig, path)


def _draw_box(ax: Any, box: Any, colour: str, label: str = "") -> None:
    corners = box_corners(box)  # [4, 2]
    if not np.isfinite(corners).all():
        return
    ax.add_patch(PolygonPatch(corners, closed=True, fill=False, edgecolor=colour, linewidth=1.0))
    if label:
        ax.text(corners[0, 0], corners[0, 1], label, color=colour, fontsize=5, va="bottom")


def _caption(sample: Sample, text: str, parsed: Parsed | None) -> str:
    """The title of one example panel: the prompt's gist, the truth and the answer."""
    shown = text if len(text) <= 60 else text[:57] + "..."
    truth = sample.answer if len(sample.answer) <= 60 else sample.answer[:57] + "..."
    status = "" if parsed is None or parsed.status == "ok" else f" [{parsed.status}]"
    return f"{sample.id}\ntruth: {truth}\nanswer: {shown}{status}"


def plot_examples(
    samples: Sequence[Sample],
    texts: Mapping[str, str],
    parsed: Mapping[str, Parsed],
    image_root: Path,
    path: Path,
    title: str,
) -> Path | None:
    """Up to four samples with ground-truth (green) and predicted (red) boxes and the answers as captions."""
    fig, axes = plt.subplots(1, len(samples), figsize=(3.2 * len(samples), 4.0), squeeze=False)
    drawn = 0
    for ax, sample in zip(axes[0], samples, strict=True):
        ax.axis("off")
        try:
            _show(ax, load_image(sample.image, image_root))
        except (ImageReadError, OSError) as e:
            log.warning("figure %s: cannot read %s (%s)", path.name, sample.image.path, e)
            continue
        drawn += 1
        for obj in sample.objects:
            _draw_box(ax, obj.box, GT_COLOUR)
        if sample.box is not None:
            _draw_box(ax, sample.box, GT_COLOUR)
        p = parsed.get(sample.id)
        if p is not None and isinstance(p.value, HBB):
            _draw_box(ax, p.value, PRED_COLOUR)
        elif p is not None and isinstance(p.value, tuple):
            labelled = len(p.value) <= 12  # more labels than that only clutter the panel
            for b in p.value:
                _draw_box(ax, b.box, PRED_COLOUR, b.label if labelled else "")
        ax.set_title(_caption(sample, texts.get(sample.id, ""), p), fontsize=6, loc="left")
    fig.suptitle(title, fontsize=9)
    if drawn == 0:
        plt.close(fig)
        return None
    return _save(fig, path)


def _show(ax: Any, rgb: np.ndarray, side: int = 320) -> None:
    """Show an image downsampled to at most ``side`` pixels, in its own pixel coordinates (boxes stay exact)."""
    h, w = rgb.shape[:2]
    im = Image.fromarray(rgb)
    im.thumbnail((side, side), Image.Resampling.BILINEAR)
    ax.imshow(np.asarray(im), extent=(0, w, h, 0), interpolation="nearest")


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
