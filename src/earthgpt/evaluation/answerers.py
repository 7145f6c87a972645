"""The model side of evaluation: requests, the Answerer protocol, and our model, dummy and oracle answerers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from earthgpt.data.conversation import Message
from earthgpt.data.records import ImageRef
from earthgpt.evaluation.tasks.spec import Sample
from earthgpt.geometry.prompts import RleMask, VisualPrompt
from earthgpt.inference.output import Generation

__all__ = [
    "Answerer",
    "DummyAnswerer",
    "ModelAnswerer",
    "OracleAnswerer",
    "Request",
    "whitespace_tokens",
]


@dataclass(frozen=True)
class Request:
    """One question about one image: what a predictor is asked."""

    id: str
    """Unique within its task; the key of the prediction in the predictions file."""
    image: ImageRef
    """The image (path relative to ``image_root`` unless absolute), its size, modality and tile window."""
    image_root: Path | None
    """The folder that ``image.path`` is relative to."""
    prompt: str
    """The user turn, exactly as the paper's instruction templates write it."""
    prompts: tuple[VisualPrompt, ...] = ()
    """EarthGPT-X: the visual prompts the ``<regionK>`` of ``prompt`` name (``prompts[K - 1]``), in image pixels."""


@runtime_checkable
class Answerer(Protocol):
    """Anything that answers requests: our model (:class:`ModelAnswerer` over ``inference.Predictor``), a peer's
    model behind an adapter, a dummy or an oracle."""

    def predict(self, requests: Sequence[Request]) -> list[Generation]:
        """One response per request, in the same order."""
        ...


def whitespace_tokens(text: str) -> list[tuple[int, int]]:
    """Character spans of the whitespace-separated pieces of ``text`` (a stand-in tokenisation)."""
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


class DummyAnswerer:
    """Answers every request with the same text (default: a garbage string no parser accepts).

    Used to test the harness without weights, in the spirit of lm-eval's dummy model; its scores are the floor.
    """

    def __init__(self, text: str = "#garbage# 42 ][") -> None:
        self.text = text
        self.calls: list[int] = []
        """Number of requests in each ``predict`` call (tests use it to check what was re-predicted)."""

    def predict(self, requests: Sequence[Request]) -> list[Generation]:
        self.calls.append(len(requests))
        return [Generation(self.text) for _ in requests]


class OracleAnswerer:
    """Answers from the ground truth, formatted exactly as the training answers are (``Sample.answer``), with the
    target masks of pixel-grounding samples as the generation's masks.

    Built from the samples of one or more tasks; a request is matched by (id, image path, prompt), so tasks whose
    ids coincide do not mix. Each whitespace piece of an answer gets log-probability 0.0 (certainty), so the
    default box scorer has confidences to read. With ``shuffle=True`` the i-th of n samples gets the answer of
    sample (i + n // 2) mod n, a deterministic derangement that mostly crosses tasks when several are given: a
    "shuffled oracle" that must score lower.
    """

    def __init__(self, samples: Iterable[Sample], shuffle: bool = False) -> None:
        items = [((s.id, s.image.path, s.prompt), (s.answer, s.masks)) for s in samples]
        if shuffle and len(items) > 1:
            n = len(items)
            items = [(items[i][0], items[(i + n // 2) % n][1]) for i in range(n)]
        self.answers: dict[tuple[str, str, str], tuple[str, tuple[RleMask, ...]]] = dict(items)
        self.calls: list[int] = []

    def predict(self, requests: Sequence[Request]) -> list[Generation]:
        self.calls.append(len(requests))
        out: list[Generation] = []
        for r in requests:
            key = (r.id, r.image.path, r.prompt)
            if key not in self.answers:
                raise KeyError(f"OracleAnswerer has no answer for request {r.id!r}: build it from the same samples")
            text, masks = self.answers[key]
            spans = whitespace_tokens(text)
            out.append(Generation(text, [0.0] * len(spans), spans, list(masks) if masks else None))
        return out


class _Generator(Protocol):
    """What :class:`ModelAnswerer` needs of ``earthgpt.inference.predictor.Predictor``."""

    def pixels(self, image: Any, root: str | Path | None = None) -> Any: ...

    def image(self, image: Any, root: str | Path | None = None) -> Any: ...

    def generate(self, pixels: Sequence[Any], dialogues: Sequence[Sequence[Message]]) -> list[Generation]: ...


class ModelAnswerer:
    """Our model behind the evaluation protocol: one single-turn dialogue per request, token log-probabilities kept.

    Requests with visual prompts (EarthGPT-X tasks) pass them as ``prompts=[request.prompts, ...]`` (one
    sequence per dialogue) to the predictor's ``generate``, with the full-resolution image the prompts are drawn on;
    requests without any are asked exactly as before, with the model input pixels."""

    def __init__(self, model: _Generator) -> None:
        self.model = model

    def predict(self, requests: Sequence[Request]) -> list[Generation]:
        # a request with prompts passes its full-resolution image: the prompts are in its pixels
        pixels = [
            self.model.image(r.image, r.image_root) if r.prompts else self.model.pixels(r.image, r.image_root)
            for r in requests
        ]
        dialogues = [[Message.user(r.prompt, r.image)] for r in requests]
        if any(r.prompts for r in requests):
            # the EarthGPT-X Predictor's per-dialogue ``prompts`` option (contract.md); absent from a plain Predictor
            prompts = [r.prompts for r in requests]
            return list(self.model.generate(pixels, dialogues, prompts=prompts))  # type: ignore[call-arg]
        return list(self.model.generate(pixels, dialogues))
