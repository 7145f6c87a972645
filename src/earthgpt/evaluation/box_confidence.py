"""Confidence scores for generated boxes (AP needs a ranking): the model's own token log-probabilities, a CLIP
score from a local checkpoint, and the documented fallback.

Every box gets its score from the first source that has one:

1. ``given``: a score written in the output itself (COCO ``"score"``, a DOTA result line's leading number);
2. the chosen scorer (default :class:`LogprobScorer`; or :class:`ClipScorer`);
3. ``rank`` fallback: ``1 / (1 + i)`` for the i-th box of an answer (earlier boxes ranked higher), used when the
   scorer has nothing for a box (no token log-probabilities in the prediction, a box outside the image).

The harness counts the boxes scored by each source and the report prints the counts.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from earthgpt.data.imagery import ImageReadError, load_image
from earthgpt.evaluation.tasks.spec import ParsedBox, Sample
from earthgpt.geometry import HBB
from earthgpt.geometry.order import obb_to_hbb
from earthgpt.inference.output import Generation

__all__ = ["RANK_FALLBACK", "BoxScorer", "ClipScorer", "LogprobScorer", "assign_scores", "rank_score"]

log = logging.getLogger(__name__)

RANK_FALLBACK = "rank"
GIVEN = "given"

# OpenAI CLIP's pixel statistics, used when the checkpoint has no preprocessor_config.json.
_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class BoxScorer(Protocol):
    """Scores the boxes of one answer; None for a box it cannot score."""

    name: str
    description: str

    def score(
        self, sample: Sample, response: Generation, boxes: Sequence[ParsedBox], image_root: Path | None
    ) -> list[float | None]: ...


def rank_score(index: int) -> float:
    """The fallback confidence of the ``index``-th box of an answer."""
    return 1.0 / (1.0 + index)


class LogprobScorer:
    """The mean log-probability of the generated tokens that overlap a box's text (its label and coordinates).

    Needs ``Generation.token_logprobs`` and ``token_spans``; no extra weights. Scores are comparable across images:
    they are the model's own confidence in writing that box.
    """

    name = "logprob"
    description = "mean log-probability of the tokens of each box's label and coordinates (the model's own)"

    def score(
        self, sample: Sample, response: Generation, boxes: Sequence[ParsedBox], image_root: Path | None
    ) -> list[float | None]:
        lps, spans = response.token_logprobs, response.token_spans
        if lps is None or spans is None or len(lps) != len(spans) or not spans:
            return [None] * len(boxes)
        lp = np.asarray(lps, dtype=np.float64)  # [T]
        starts = np.asarray([s for s, _ in spans], dtype=np.int64)  # [T]
        ends = np.asarray([e for _, e in spans], dtype=np.int64)  # [T]
        if np.any(np.diff(starts) < 0) or np.any(np.diff(ends) < 0):
            log.warning("token_spans are not in text order; boxes of this answer fall back to rank")
            return [None] * len(boxes)
        finite = np.isfinite(lp)
        csum = np.concatenate(([0.0], np.cumsum(np.where(finite, lp, 0.0))))  # [T + 1]
        ccount = np.concatenate(([0], np.cumsum(finite)))  # [T + 1]
        out: list[float | None] = []
        for b in boxes:  # tokens overlapping [start, end): end > start and start < end, a contiguous run
            lo = int(np.searchsorted(ends, b.span[0], side="right"))
            hi = int(np.searchsorted(starts, b.span[1], side="left"))
            n = int(ccount[hi] - ccount[lo]) if hi > lo else 0
            out.append(float((csum[hi] - csum[lo]) / n) if n else None)
        return out


class ClipScorer:
    """CLIP score: cosine similarity between a box's image crop and the text ``template.format(label=...)``.

    The paper ranks generated boxes this way with RemoteCLIP weights. ``checkpoint`` is a LOCAL directory in
    Hugging Face ``CLIPModel`` format (config.json, weights, tokenizer files, optionally preprocessor_config.json);
    nothing is downloaded. Crops are the box's enclosing rectangle, padded to a square and resized to the
    model's input size.
    """

    name = "clip"

    def __init__(
        self,
        checkpoint: str | Path,
        template: str = "a remote sensing image of a {label}",
        device: str = "cpu",
        batch_size: int = 32,
    ) -> None:
        import torch
        from transformers import AutoTokenizer, CLIPModel

        path = Path(checkpoint)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"CLIP checkpoint {path} has no config.json: pass a local directory saved with "
                "CLIPModel.save_pretrained (and its tokenizer), e.g. a converted RemoteCLIP"
            )
        self.torch = torch
        model = CLIPModel.from_pretrained(path, local_files_only=True)
        self.model = model.to(device).eval()  # type: ignore[arg-type]
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.template = template
        self.device = device
        self.batch_size = batch_size
        self.size = int(self.model.config.vision_config.image_size)
        self.mean, self.std = _pixel_stats(path)
        self.description = f"CLIP score (cosine of box crop and '{template}') from {path.name}"
        self._text_cache: dict[str, np.ndarray] = {}

    def _features(self, out: object) -> object:
        """Projected embeddings from either a tensor or a model output holding them."""
        return out if isinstance(out, self.torch.Tensor) else out.pooler_output  # type: ignore[attr-defined]

    def text_embedding(self, label: str) -> np.ndarray:
        """The unit-norm text embedding of the prompt for ``label``  # [D]"""
        if label not in self._text_cache:
            enc = self.tokenizer([self.template.format(label=label)], padding=True, return_tensors="pt")
            with self.torch.no_grad():
                f = self._features(self.model.get_text_features(**enc.to(self.device)))[0]  # type: ignore[index]
            v = f.float().cpu().numpy()
            self._text_cache[label] = v / max(float(np.linalg.norm(v)), 1e-12)
        return self._text_cache[label]

    def pixels(self, crop: np.ndarray) -> np.ndarray:
        """[h, w, 3] uint8 crop -> [3, S, S] normalised float32 model input."""
        h, w = crop.shape[:2]
        side = max(h, w)
        square = np.zeros((side, side, 3), dtype=np.uint8)
        square[(side - h) // 2 : (side - h) // 2 + h, (side - w) // 2 : (side - w) // 2 + w] = crop
        im = Image.fromarray(square).resize((self.size, self.size), Image.Resampling.BICUBIC)
        x = np.asarray(im, dtype=np.float32) / np.float32(255.0)  # [S, S, 3]
        mean, std = np.array(self.mean, dtype=np.float32), np.array(self.std, dtype=np.float32)
        return ((x - mean) / std).transpose(2, 0, 1).astype(np.float32)  # [3, S, S]

    def image_embeddings(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Unit-norm image embeddings of crops  # [N, D]"""
        out = []
        for i in range(0, len(crops), self.batch_size):
            batch = np.stack([self.pixels(c) for c in crops[i : i + self.batch_size]])  # [B, 3, S, S]
            with self.torch.no_grad():
                t = self.torch.from_numpy(batch).to(self.device)
                f = self._features(self.model.get_image_features(pixel_values=t))
            v = f.float().cpu().numpy()  # type: ignore[attr-defined]
            out.append(v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12))
        return np.concatenate(out) if out else np.zeros((0, 1), dtype=np.float32)

    def score(
        self, sample: Sample, response: Generation, boxes: Sequence[ParsedBox], image_root: Path | None
    ) -> list[float | None]:
        if not boxes:
            return []
        try:
            rgb = load_image(sample.image, image_root)  # [H, W, 3]
        except (ImageReadError, OSError) as e:
            log.warning("CLIP scorer: cannot read the image of %s (%s); boxes fall back to rank", sample.id, e)
            return [None] * len(boxes)
        crops: list[np.ndarray] = []
        keep: list[int] = []
        for i, b in enumerate(boxes):
            crop = _crop(rgb, b.box if isinstance(b.box, HBB) else obb_to_hbb(b.box))
            if crop is not None:
                crops.append(crop)
                keep.append(i)
        out: list[float | None] = [None] * len(boxes)
        if crops:
            feats = self.image_embeddings(crops)  # [N, D]
            for j, i in enumerate(keep):
                out[i] = float(feats[j] @ self.text_embedding(boxes[i].label))
        return out


def _crop(rgb: np.ndarray, box: HBB) -> np.ndarray | None:
    """The pixels of a box (clamped to the image), or None when nothing of it is inside."""
    h, w = rgb.shape[:2]
    x1, y1 = max(0, math.floor(box.x1)), max(0, math.floor(box.y1))
    x2, y2 = min(w, math.ceil(box.x2)), min(h, math.ceil(box.y2))
    if x2 <= x1 or y2 <= y1:
        return None
    return rgb[y1:y2, x1:x2]


def _pixel_stats(path: Path) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) from the checkpoint's preprocessor_config.json, else OpenAI CLIP's."""
    cfg = path / "preprocessor_config.json"
    if cfg.is_file():
        try:
            d = json.loads(cfg.read_text(encoding="utf-8"))
            return tuple(d["image_mean"]), tuple(d["image_std"])
        except (ValueError, KeyError, TypeError) as e:
            log.warning("%s: unreadable image_mean/image_std (%s); using OpenAI CLIP's", cfg, e)
    return _CLIP_MEAN, _CLIP_STD


def assign_scores(
    sample: Sample,
    response: Generation,
    boxes: Sequence[ParsedBox],
    scorer: BoxScorer | None,
    image_root: Path | None,
    counts: Counter[str],
) -> list[ParsedBox]:
    """The boxes with a confidence each (given > scorer > rank fallback); ``counts`` tallies the sources."""
    need = [i for i, b in enumerate(boxes) if b.score is None]
    scored: dict[int, float] = {}
    if scorer is not None and need:
        values = scorer.score(sample, response, [boxes[i] for i in need], image_root)
        scored = {i: v for i, v in zip(need, values, strict=True) if v is not None and math.isfinite(v)}
    out: list[ParsedBox] = []
    for i, b in enumerate(boxes):
        if b.score is not None:
            counts[GIVEN] += 1
            out.append(b)
        elif i in scored:
            counts[scorer.name if scorer is not None else RANK_FALLBACK] += 1
            out.append(ParsedBox(b.label, b.box, b.span, scored[i]))
        else:
            counts[RANK_FALLBACK] += 1
            out.append(ParsedBox(b.label, b.box, b.span, rank_score(i)))
    return out
