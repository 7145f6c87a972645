"""What a model generated: the answer text with each token's log-probability and span (inference and evaluation)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from earthgpt.geometry.prompts import RleMask

__all__ = ["Generation"]


@dataclass(frozen=True)
class Generation:
    """A generated answer: its text and, when the model gives them, each generated token's log-probability and
    character span in ``text`` (a peer's predictions file may have none)."""

    text: str
    token_logprobs: list[float] | None = None
    """Log-probability of each generated token, in generation order."""
    token_spans: list[tuple[int, int]] | None = None
    """Character span [start, end) of each generated token in ``text`` (same length as ``token_logprobs``)."""
    masks: list[RleMask] | None = None
    """One mask per ``<seg>`` of the answer, in order, in the pixels of the input image (EarthGPT-X)."""
    finish_reason: str | None = None
    """Why the answer ended: ``"stop"`` (EOS or a stop rule) or ``"length"`` (the token limit); None if unknown."""
    prompt_tokens: int | None = None
    """Tokens of the prompt the answer was generated from (usage accounting); None if unknown."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"text": self.text}
        if self.token_logprobs is not None and self.token_spans is not None:
            d["token_logprobs"] = [float(v) for v in self.token_logprobs]
            d["token_spans"] = [[int(a), int(b)] for a, b in self.token_spans]
        if self.masks is not None:
            d["masks"] = [m.to_dict() for m in self.masks]
        return d

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Generation:
        """A generation from a predictions-file line; a non-string text becomes '' and bad token data is dropped."""
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
        masks: list[RleMask] | None = None
        if isinstance(d.get("masks"), list):
            try:
                masks = [RleMask.from_dict(m) for m in d["masks"]]
            except (KeyError, TypeError, ValueError, AttributeError):
                masks = None
        return Generation(text=text if isinstance(text, str) else "", token_logprobs=lp, token_spans=sp, masks=masks)
