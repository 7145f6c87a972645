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


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = min(len(a), len(b))
    differ = [i for i in range(n) if a[i] != b[i]]
    return differ[0] if differ else n


class SessionStore:
    """At most ``capacity`` ChatSessions, least recently used dropped first.

    Decision: a session is found again by its image and the tokens its cache holds, not by the history's messages.
    A new turn takes the session of the same image whose transcript shares the longest prefix with the new turn's
    full prompt ids (at least through the image's placeholders), rewinds it to that prefix and feeds only the rest.
    So the answer equals re-encoding the whole history by construction: where the history was edited, or an
    answer's text re-encodes to other tokens than were generated, only the tokens from that point on are fed
    again; the image and everything before it stay cached. A session follows one line of dialogue: two different
    follow-ups of the same history share it in turn (each rewinds it). Each session holds a KV cache (at paper size
    about 0.5 MB per token), hence the small default bound.
    """

    def __init__(self, capacity: int = 4) -> None:
        if capacity < 0:
            raise ValueError(f"max_sessions={capacity} must be >= 0 (0 keeps none)")
        self.capacity = capacity
        self._sessions: OrderedDict[int, tuple[str, ChatSession]] = OrderedDict()
        self.hits = 0
        """Turns that continued a kept session (for tests and logs)."""
        self.reused = 0
        """Prompt tokens those turns did not feed again (for tests and logs)."""

    def __len__(self) -> int:
        return len(self._sessions)

    def take(self, model: Generative, pixels: torch.Tensor, ids: Sequence[int], image_token_id: int) -> ChatSession:
        """The kept session sharing the longest prefix with ``ids`` (through the last image placeholder), removed
        from the store and rewound to that prefix; else a new session over ``pixels``."""
        key = image_key(pixels)
        image_end = max((i + 1 for i, t in enumerate(ids) if t == image_token_id), default=0)
        best, best_len = None, -1
        for sid, (k, session) in self._sessions.items():
            shared = min(common_prefix(session.transcript, ids), len(ids) - 1)  # at least one token to feed
            if k == key and shared >= image_end and shared > best_len:
                best, best_len = sid, shared
        if best is None:
            return ChatSession(model, pixels)
        _, session = self._sessions.pop(best)
        session.rewind(best_len)
        self.hits += 1
        self.reused += best_len
        return session

    def keep(self, session: ChatSession, pixels: torch.Tensor) -> None:
        """Store ``session``, dropping the least recently used beyond capacity."""
        if self.capacity == 0:
            return
        self._sessions[id(session)] = (image_key(pixels), session)
        while len(self._sessions) > self.capacity:
            self._sessions.popitem(last=False)

    def clear(self) -> None:
        self._sessions.clear()
