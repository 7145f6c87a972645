"""The model side of evaluation: requests, responses, the Predictor protocol, and dummy and oracle predictors."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from earthgpt.data.records import ImageRef
from earthgpt.evaluation.tasks.spec import Sample

__all__ = [
    "DummyPredictor",
    "OraclePredictor",
    "Predictor",
    "Request",
    "Response",
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


@dataclass(frozen=True)
class Response:
    """What a predictor answered, with optional per-token log-probabilities for box confidences."""

    text: str
    token_logprobs: list[float] | None = None
    """Log-probability of each generated token, in generation order."""
    token_spans: list[tuple[int, int]] | None = None
    """Character span [start, end) of each generated token in ``text`` (same length as ``token_logprobs``)."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"text": self.text}
        if self.token_logprobs is not None and self.token_spans is not None:
            d["token_logprobs"] = [float(v) for v in self.token_logprobs]
            d["token_spans"] = [[int(a), int(b)] for a, b in self.token_spans]
        return d

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Response:
        """A response from a predictions-file line; a non-string text becomes '' and bad token data is dropped."""
        text = d.get("text")
        logprobs, spans = d.get("token_logprobs"), d.get("token_spans")
        lp: list[float] | None = None
        sp: list[tuple[int, int]] | None = None
        if isinstance(logprobs, list) and isinstance(spans, list) and len(logprobs) == len(spans):
            try:
                lp = [float(v) for v in logprobs]
                sp = [(int(a), int(b)) for a, b in spans]
            except (TypeError, ValueError, OverflowError):  # OverflowError: int() of an infinite span
                lp, sp = None, None
        return Response(text=text if isinstance(text, str) else "", token_logprobs=lp, token_spans=sp)


@runtime_checkable
class Predictor(Protocol):
    """Anything that answers requests: our model, a peer's model behind an adapter, a dummy or an oracle."""

    def predict(self, requests: Sequence[Request]) -> list[Response]:
        """One response per request, in the same order."""
        ...


def whitespace_tokens(text: str) -> list[tuple[int, int]]:
    """Character spans of the whitespace-separated pieces of ``text`` (a stand-in tokenisation)."""
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


class DummyPredictor:
    """Answers every request with the same text (default: a garbage string no parser accepts).

    Used to test the harness without weights, in the spirit of lm-eval's dummy model; its scores are the floor.
    """

    def __init__(self, text: str = "#garbage# 42 ][") -> None:
        self.text = text
        self.calls: list[int] = []
        """Number of requests in each ``predict`` call (tests use it to check what was re-predicted)."""

    def predict(self, requests: Sequence[Request]) -> list[Response]:
        self.calls.append(len(requests))
        return [Response(self.text) for _ in requests]


class OraclePredictor:
    """Answers from the ground truth, formatted exactly as the training answers are (``Sample.answer``).

    Built from the samples of one or more tasks; a request is matched by (id, image path, prompt), so tasks whose
    ids coincide do not mix. Each whitespace piece of an answer gets log-probability 0.0 (certainty), so the
    default box scorer has confidences to read. With ``shuffle=True`` the i-th of n samples gets the answer of
    sample (i + n // 2) mod n, a deterministic derangement that mostly crosses tasks when several are given: a
    "shuffled oracle" that must score lower.
    """

    def __init__(self, samples: Iterable[Sample], shuffle: bool = False) -> None:
        items = [((s.id, s.image.path, s.prompt), s.answer) for s in samples]
        if shuffle and len(items) > 1:
            n = len(items)
            items = [(items[i][0], items[(i + n // 2) % n][1]) for i in range(n)]
        self.answers: dict[tuple[str, str, str], str] = dict(items)
        self.calls: list[int] = []

    def predict(self, requests: Sequence[Request]) -> list[Response]:
        self.calls.append(len(requests))
        out: list[Response] = []
        for r in requests:
            key = (r.id, r.image.path, r.prompt)
            if key not in self.answers:
                raise KeyError(f"OraclePredictor has no answer for request {r.id!r}: build it from the same samples")
            text = self.answers[key]
            spans = whitespace_tokens(text)
            out.append(Response(text, [0.0] * len(spans), spans))
        return out
