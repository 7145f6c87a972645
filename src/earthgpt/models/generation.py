"""Batched generation with a KV cache (greedy / temperature + top-p sampling, EOS, stop sequences), multi-turn chat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch
from transformers import LlamaForCausalLM
from transformers.cache_utils import DynamicCache

from earthgpt.models.config import EarthGPTConfig


class Generative(Protocol):
    """What generation needs of a model (EarthGPT has it): the LLM, the config, input embedding, image encoding."""

    config: EarthGPTConfig
    llm: LlamaForCausalLM

    @property
    def device(self) -> torch.device: ...

    def encode_images(self, pixel_values: torch.Tensor) -> torch.Tensor: ...

    def embed_inputs(
        self,
        input_ids: torch.Tensor,
        pixel_values: torch.Tensor | None = None,
        image_features: torch.Tensor | None = None,
    ) -> torch.Tensor: ...


def positions_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position ids that skip padding: the k-th real token of a row gets position k (works for left padding)."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)  # [B, T]


@dataclass(frozen=True)
class GenerationSettings:
    """How to pick tokens and when to stop.

    Returned tokens exclude the EOS token and a matched stop sequence (both end the sample). With ``do_sample`` the
    logits are divided by ``temperature`` and restricted to the smallest set whose probability reaches ``top_p``;
    ``seed`` makes sampling reproducible (a private generator, the global RNG is untouched).
    """

    max_new_tokens: int = 64
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    eos_token_id: int | None = None
    stop_sequences: tuple[tuple[int, ...], ...] = field(default_factory=tuple)
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_new_tokens < 0:
            raise ValueError(f"max_new_tokens={self.max_new_tokens} must be >= 0")
        if self.do_sample and self.temperature <= 0:
            raise ValueError(f"temperature={self.temperature} must be > 0 when sampling; use do_sample=False")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p={self.top_p} must lie in (0, 1]")
        if any(len(s) == 0 for s in self.stop_sequences):
            raise ValueError("stop_sequences must not contain an empty sequence")


def top_p_filter(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of highest-probability tokens whose mass reaches ``top_p``; others get -inf. [B, V]."""
    if top_p >= 1.0:
        return logits
    sorted_logits, order = logits.sort(dim=-1, descending=True)
    probs = sorted_logits.softmax(dim=-1)
    mass_before = probs.cumsum(dim=-1) - probs  # probability of the strictly better tokens
    drop_sorted = mass_before >= top_p  # the top token always stays (mass_before = 0)
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def choose_tokens(
    logits: torch.Tensor, settings: GenerationSettings, generator: torch.Generator | None
) -> torch.Tensor:
    """Next token per row: argmax, or a sample from the tempered, top-p-filtered distribution. [B, V] -> [B]."""
    if not settings.do_sample:
        return logits.argmax(dim=-1)
    filtered = top_p_filter(logits / settings.temperature, settings.top_p)
    probs = filtered.softmax(dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)


def _ended(tokens: list[int], settings: GenerationSettings) -> bool:
    if settings.eos_token_id is not None and tokens[-1] == settings.eos_token_id:
        return True
    return any(len(tokens) >= len(s) and tuple(tokens[-len(s) :]) == s for s in settings.stop_sequences)


def strip_terminator(tokens: list[int], settings: GenerationSettings) -> list[int]:
    """Drop a final EOS or matched stop sequence from a sample's raw tokens."""
    if tokens and settings.eos_token_id is not None and tokens[-1] == settings.eos_token_id:
        return tokens[:-1]
    for s in settings.stop_sequences:
        if len(tokens) >= len(s) and tuple(tokens[-len(s) :]) == s:
            return tokens[: -len(s)]
    return tokens


@torch.no_grad()
def decode(
    model: Generative,
    embeds: torch.Tensor,
    attention_mask: torch.Tensor,
    position_ids: torch.Tensor,
    cache: DynamicCache,
    settings: GenerationSettings,
) -> list[list[int]]:
    """Feed ``embeds`` [B, T, D] after what ``cache`` holds, then generate; returns raw tokens per sample.

    ``attention_mask`` [B, cached + T] covers the cache and the new tokens; ``position_ids`` [B, T] the new ones.
    Raw tokens include the terminating EOS / stop sequence. Every generated token but the last is fed to the cache.
    """
    batch = embeds.shape[0]
    raw: list[list[int]] = [[] for _ in range(batch)]
    if settings.max_new_tokens == 0:
        return raw
    generator = torch.Generator().manual_seed(settings.seed) if settings.seed is not None else None
    llm = model.llm
    out = llm(
        inputs_embeds=embeds,
        attention_mask=attention_mask,
        position_ids=position_ids,
        past_key_values=cache,
        use_cache=True,
        logits_to_keep=1,
    )
    next_pos = position_ids[:, -1:] + 1  # [B, 1]
    done = [False] * batch
    for step in range(settings.max_new_tokens):
        tokens = choose_tokens(out.logits[:, -1, :].float().cpu(), settings, generator)  # [B]
        for b in range(batch):
            if not done[b]:
                raw[b].append(int(tokens[b]))
                done[b] = _ended(raw[b], settings)
        if all(done) or step == settings.max_new_tokens - 1:
            break
        tokens = tokens.masked_fill(torch.tensor(done), model.config.pad_token_id).to(embeds.device)
        attention_mask = torch.cat([attention_mask, attention_mask.new_ones(batch, 1)], dim=1)
        step_embeds = llm.get_input_embeddings()(tokens[:, None])  # [B, 1, D]
        out = llm(
            inputs_embeds=step_embeds,
            attention_mask=attention_mask,
            position_ids=next_pos,
            past_key_values=cache,
            use_cache=True,
        )
        next_pos = next_pos + 1
    return raw


def generate(
    model: Generative,
    pixel_values: torch.Tensor | None,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    settings: GenerationSettings,
) -> list[list[int]]:
    """Batched generation from LEFT-padded prompts [B, T]; new tokens per sample without prompt or terminator."""
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    if bool((attention_mask[:, -1] == 0).any()):
        raise ValueError("prompts must be LEFT-padded for generation: the last position of every row must be real")
    device = model.device
    input_ids = input_ids.to(device)
    attention_mask = attention_mask.to(device)
    embeds = model.embed_inputs(input_ids, pixel_values)  # [B, T, D]
    cache = DynamicCache(config=model.llm.config)
    raw = decode(model, embeds, attention_mask, positions_from_mask(attention_mask), cache, settings)
    return [strip_terminator(r, settings) for r in raw]


class ChatSession:
    """A multi-turn conversation about one image that keeps its KV cache between turns.

    The image is encoded once; each ``send`` feeds only the tokens not yet in the cache (the previous answer's last
    token and the new turn) and generates. ``transcript`` is the full token sequence so far (prompts, answers and
    their terminators): generating from it from scratch gives the same answer as the cached session.
    """

    def __init__(self, model: Generative, pixel_values: torch.Tensor | None = None) -> None:
        if pixel_values is not None and pixel_values.dim() == 3:
            pixel_values = pixel_values.unsqueeze(0)  # [1, 3, S, S]
        if pixel_values is not None and pixel_values.shape[0] != 1:
            raise ValueError(f"a ChatSession holds one image; got pixel_values of shape {tuple(pixel_values.shape)}")
        self.model = model
        self.pixel_values = pixel_values
        self.transcript: list[int] = []
        self._cache = DynamicCache(config=model.llm.config)
        self._cached = 0
        self._image_used = False

    @torch.no_grad()
    def send(self, input_ids: Sequence[int], **settings: object) -> list[int]:
        """Append a turn (its full template tokens) and return the answer; ``settings`` as GenerationSettings."""
        cfg = GenerationSettings(**settings)  # type: ignore[arg-type]
        if cfg.eos_token_id is None:
            cfg = GenerationSettings(**{**settings, "eos_token_id": self.model.config.eos_token_id})  # type: ignore[arg-type]
        pending = self.transcript[self._cached :] + list(input_ids)
        device = self.model.device
        ids = torch.tensor([pending], device=device)  # [1, T]
        features = self._image_features(ids)
        embeds = self.model.embed_inputs(ids, image_features=features)  # [1, T, D]
        total = self._cached + len(pending)
        mask = torch.ones(1, total, dtype=torch.long, device=device)
        positions = torch.arange(self._cached, total, device=device)[None]  # [1, T]
        raw = decode(self.model, embeds, mask, positions, self._cache, cfg)[0]
        self.transcript = self.transcript + list(input_ids) + raw
        if raw:  # everything fed except the last generated token (max_new_tokens=0 feeds nothing)
            self._cached = total + len(raw) - 1
        return strip_terminator(raw, cfg)

    def _image_features(self, ids: torch.Tensor) -> torch.Tensor | None:
        placeholders = int((ids == self.model.config.image_token_id).sum())
        if placeholders == 0:
            return None
        if self._image_used or self.pixel_values is None:
            raise ValueError(
                "this turn holds image placeholders but the session's image is already placed (or none was given); "
                "a ChatSession covers one image, placed in its first turn"
            )
        self._image_used = True
        return self.model.encode_images(self.pixel_values)  # [1, N, D]
