"""The chat sessions a Predictor keeps between turns: KV caches found again by the tokens they hold (bounded LRU)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

import torch

from earthgpt.models.generation import ChatSession, Generative


def image_key(pixels: torch.Tensor) -> str:
    """A digest of the model-input pixels [3, S, S] (or [V, 3, S, S]): same image, same key."""
    data = pixels.detach().to("cpu", torch.float32).contiguous().numpy().tobytes()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class SessionStore:
    """At most ``capacity`` ChatSessions, least recently used dropped first.

    Decision: a session is found again by its image and its ``transcript`` (the tokens its cache holds), not by the
    history's messages. A new turn reuses the session whose transcript is the longest prefix of the new turn's full
    prompt ids; what remains is all that is fed. So the cached answer equals re-encoding the whole history by
    construction: if the history was edited, or an answer's text does not re-encode to the generated tokens, no
    session matches and the dialogue is encoded afresh. A session follows one line of dialogue: asking two different
    follow-ups of the same history reuses it for the first only (the second starts afresh). Each session holds a KV
    cache (at paper size about 0.5 MB per token), hence the small default bound.
    """

    def __init__(self, capacity: int = 4) -> None:
        if capacity < 0:
            raise ValueError(f"max_sessions={capacity} must be >= 0 (0 keeps none)")
        self.capacity = capacity
        self._sessions: OrderedDict[tuple[str, tuple[int, ...]], ChatSession] = OrderedDict()
        self.hits = 0
        """Turns that continued a kept session (for tests and logs)."""

    def __len__(self) -> int:
        return len(self._sessions)

    def take(self, model: Generative, pixels: torch.Tensor, ids: Sequence[int]) -> ChatSession:
        """The kept session whose transcript is the longest prefix of ``ids`` (removed from the store), or a new
        session over ``pixels``."""
        key = image_key(pixels)
        best: tuple[str, tuple[int, ...]] | None = None
        for k in self._sessions:
            held = k[1]
            longer = best is None or len(held) > len(best[1])
            if k[0] == key and longer and len(held) < len(ids) and tuple(ids[: len(held)]) == held:
                best = k
        if best is None:
            return ChatSession(model, pixels)
        self.hits += 1
        return self._sessions.pop(best)

    def keep(self, session: ChatSession, pixels: torch.Tensor) -> None:
        """Store ``session`` under its current transcript, dropping the least recently used beyond capacity."""
        if self.capacity == 0:
            return
        self._sessions[(image_key(pixels), tuple(session.transcript))] = session
        while len(self._sessions) > self.capacity:
            self._sessions.popitem(last=False)

    def clear(self) -> None:
        self._sessions.clear()
