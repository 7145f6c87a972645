"""Predict and shift: a batch of tiles through the model, each answer's boxes moved back to scene pixels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from earthgpt.data.imagery import Window
from earthgpt.geometry import HBB, OBB, BoxKind, LabeledBox, denormalize, parse_boxes
from earthgpt.geometry.prompts import RleMask


class NoMaskDecoderError(ValueError):
    """A mask task asked of a model directory without the EarthGPT-X mask decoder."""


@dataclass(frozen=True)
class Answer:
    """One tile's answer: the text and, where the model gives them, each token's log-probability and span, and one
    mask per ``<seg>`` in the tile's own pixels (EarthGPT-X)."""

    text: str
    token_logprobs: tuple[float, ...] = ()
    token_spans: tuple[tuple[int, int], ...] = ()
    masks: tuple[RleMask, ...] = ()


class TileModel(Protocol):
    """What a scene run needs of a model: its input side (the default tile) and batched answers."""

    @property
    def side(self) -> int: ...

    def answer(self, tiles: Sequence[np.ndarray], question: str) -> list[Answer]: ...


class PredictorTiles:
    """The adapter from :class:`earthgpt.inference.predictor.Predictor` to :class:`TileModel`: the only code of the
    scene package that calls the Predictor (its public ``load``, ``pixels`` and ``generate``).

    With ``masks`` (``--task segment``) the tiles go to ``generate`` as RGB, as ``earthgpt chat --masks`` sends its
    image, so each ``<seg>``'s mask comes back in the tile's own pixels; a model without the mask decoder is refused
    (NoMaskDecoderError naming the directory) as soon as it is loaded."""

    def __init__(
        self, model_dir: str | Path, batch_size: int = 8, max_new_tokens: int = 256, masks: bool = False
    ) -> None:
        from earthgpt.inference.predictor import Predictor

        self.predictor = Predictor.load(model_dir, batch_size=batch_size, max_new_tokens=max_new_tokens)
        self.masks = masks
        if masks and not self.predictor.has_x:
            raise NoMaskDecoderError(
                f"{model_dir}: --task segment needs a model with the EarthGPT-X mask decoder (<seg> -> mask), but "
                "its config has no 'x' part; use a model trained with the x stage, or one made by "
                "`earthgpt model init --x`"
            )

    @property
    def side(self) -> int:
        return int(self.predictor.model.image_size)

    def answer(self, tiles: Sequence[np.ndarray], question: str) -> list[Answer]:
        from earthgpt.data.conversation import Message
        from earthgpt.inference.predictor import INPUT_IMAGE

        p = self.predictor
        images = list(tiles) if self.masks else [p.pixels(t) for t in tiles]
        gens = p.generate(images, [[Message.user(question, INPUT_IMAGE)]] * len(tiles))
        return [
            Answer(g.text, tuple(g.token_logprobs or ()), tuple(g.token_spans or ()), tuple(g.masks or ()))
            for g in gens
        ]


def box_scores(answer: Answer, spans: Sequence[tuple[int, int]]) -> list[float]:
    """Confidence of each box: exp of the mean log-probability of the tokens overlapping its text span; boxes
    without token log-probabilities get 1 / (1 + rank), the order the model wrote them in. Linear in the tokens
    plus log per box (token spans are in text order)."""
    lps, tok = answer.token_logprobs, answer.token_spans
    if len(lps) != len(tok) or not tok:
        return [1.0 / (1.0 + rank) for rank in range(len(spans))]
    lp = np.asarray(lps, dtype=np.float64)  # [T]
    finite = np.isfinite(lp)
    csum = np.concatenate(([0.0], np.cumsum(np.where(finite, lp, 0.0))))  # [T + 1]
    count = np.concatenate(([0], np.cumsum(finite)))  # [T + 1]
    starts = np.asarray([s for s, _ in tok])  # [T]
    ends = np.maximum.accumulate(np.asarray([e for _, e in tok]))  # [T]
    out: list[float] = []
    for rank, (start, end) in enumerate(spans):
        lo = int(np.searchsorted(ends, start, side="right"))
        hi = int(np.searchsorted(starts, end, side="left"))
        n = int(count[hi] - count[lo]) if hi > lo else 0
        out.append(math.exp((csum[hi] - csum[lo]) / n) if n else 1.0 / (1.0 + rank))
    return out


def shift(box: HBB | OBB, dx: float, dy: float) -> HBB | OBB:
    """The box moved by (dx, dy) pixels."""
    if isinstance(box, HBB):
        return HBB(box.x1 + dx, box.y1 + dy, box.x2 + dx, box.y2 + dy)
    p = box.points
    return OBB(tuple(v + (dy if i % 2 else dx) for i, v in enumerate(p)))  # type: ignore[arg-type]


def scene_boxes(answer: Answer, window: Window, kind: BoxKind) -> list[LabeledBox]:
    """The boxes of one tile's answer in scene pixels: parsed (``kind`` only), denormalised in the tile's padded
    square frame, shifted by the window's origin, scored."""
    parsed = parse_boxes(answer.text, kind=kind)
    x, y, w, h = window
    scores = box_scores(answer, parsed.spans)
    return [
        LabeledBox(b.label or "object", shift(denormalize(b.box, w, h), x, y), s)
        for b, s in zip(parsed.boxes, scores, strict=True)
    ]
