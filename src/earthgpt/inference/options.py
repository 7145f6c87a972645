"""Per-call generation options of the Predictor (the server's request fields map onto them) and text stop rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from earthgpt.data.location_tokens import decode_text
from earthgpt.models.generation import GenerationSettings

#: A stop rule as a caller gives it: a string matched in the answer text, or a sequence of token ids.
Stop = str | Sequence[int]


@dataclass(frozen=True)
class AnswerOptions:
    """How one call answers: the OpenAI-style knobs, checked once here.

    ``temperature`` 0 is greedy (deterministic); above 0 it samples from the tempered distribution restricted to the
    ``top_p`` nucleus. ``stop``: strings end the answer where they appear in its text (the text is cut before them,
    as OpenAI does) and token-id sequences end it when generated (they are not part of the answer). ``seed`` makes
    sampling reproducible; every sample of a batch draws from its own generator seeded with it, so an answer does
    not depend on what else was batched with it.
    """

    max_new_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[Stop, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_new_tokens < 0:
            raise ValueError(f"max_new_tokens={self.max_new_tokens} must be >= 0")
        if not self.temperature >= 0:  # also refuses NaN
            raise ValueError(f"temperature={self.temperature} must be >= 0 (0 = greedy)")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p={self.top_p} must lie in (0, 1]")
        for s in self.stop:
            if len(s) == 0:
                raise ValueError("stop: an empty stop string or token sequence would end every answer at once")
            if not isinstance(s, str) and not all(isinstance(t, int) and t >= 0 for t in s):
                raise ValueError(f"stop: {s!r} must be a string or a sequence of token ids (ints >= 0)")

    @staticmethod
    def of(
        max_new_tokens: int, stop: Stop | Sequence[Stop] | None = None, **knobs: float | int | None
    ) -> AnswerOptions:
        """Options from loose call arguments: ``stop`` may be one string, one id sequence or a list of them."""
        return AnswerOptions(max_new_tokens=max_new_tokens, stop=normalise_stops(stop), **knobs)  # type: ignore[arg-type]

    @property
    def stop_strings(self) -> tuple[str, ...]:
        return tuple(s for s in self.stop if isinstance(s, str))

    def settings(self, tokenizer: PreTrainedTokenizerBase) -> GenerationSettings:
        """The GenerationSettings these options mean for ``tokenizer`` (its EOS ends every answer)."""
        strings = self.stop_strings
        return GenerationSettings(
            max_new_tokens=self.max_new_tokens,
            do_sample=self.temperature > 0,
            temperature=self.temperature if self.temperature > 0 else 1.0,
            top_p=self.top_p,
            eos_token_id=int(tokenizer.eos_token_id),
            stop_sequences=tuple(tuple(int(t) for t in s) for s in self.stop if not isinstance(s, str)),
            seed=self.seed,
            stop_when=text_stop(tokenizer, strings) if strings else None,
        )


def normalise_stops(stop: Stop | Sequence[Stop] | None) -> tuple[Stop, ...]:
    """One string, one token-id sequence, or a list of strings / id sequences -> a tuple of stop rules."""
    if stop is None:
        return ()
    if isinstance(stop, str):
        return (stop,)
    items = list(stop)
    if items and all(isinstance(t, int) for t in items):
        return (tuple(items),)  # type: ignore[arg-type]
    return tuple(s if isinstance(s, str) else tuple(s) for s in items)  # type: ignore[arg-type]


def text_stop(tokenizer: PreTrainedTokenizerBase, strings: Sequence[str]) -> Callable[[list[int]], bool]:
    """A predicate on the raw tokens so far: does their decoded text hold one of ``strings``?"""

    def holds(tokens: list[int]) -> bool:
        text = decode_text(tokenizer, tokens)
        return any(s in text for s in strings)

    return holds


def first_stop(text: str, strings: Sequence[str]) -> int | None:
    """Where the earliest of ``strings`` starts in ``text`` (None if none occurs)."""
    found = [i for i in (text.find(s) for s in strings) if i >= 0]
    return min(found) if found else None
