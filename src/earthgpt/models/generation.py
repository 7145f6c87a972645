"""Batched generation with a KV cache (greedy / temperature + top-p sampling, EOS, stop rules), multi-turn chat.

Each sample's result carries the model's log-probability of every generated token and the last-layer hidden state at
every generated ``<seg>`` token (EarthGPT-X's mask decoder input), both taken while decoding: no second forward.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from transformers import LlamaForCausalLM
from transformers.cache_utils import DynamicCache

from earthgpt.models.config import EarthGPTConfig
from earthgpt.models.inputs import VisualInputs


class Generative(Protocol):
    """What generation needs of a model (EarthGPT has it): the LLM, the config, input embedding, image encoding."""

    config: EarthGPTConfig
    llm: LlamaForCausalLM

    @property
    def device(self) -> torch.device: ...

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

    Returned tokens exclude the EOS token and a matched stop sequence (both end the sample). ``stop_when`` is a
    predicate on a sample's raw tokens so far (e.g. "the decoded text holds a stop string"); it ends the sample and
    its tokens are kept (the caller cuts the text). With ``do_sample`` the logits are divided by ``temperature`` and
    restricted to the smallest set whose probability reaches ``top_p``; ``seed`` makes sampling reproducible: every
    row draws from its own generator seeded with it (the global RNG is untouched), so a row's answer does not depend
    on the other rows of its batch.
    """

    max_new_tokens: int = 64
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    eos_token_id: int | None = None
    stop_sequences: tuple[tuple[int, ...], ...] = field(default_factory=tuple)
    seed: int | None = None
    stop_when: Callable[[list[int]], bool] | None = None

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
    logits: torch.Tensor, settings: GenerationSettings, generators: Sequence[torch.Generator] | None = None
) -> torch.Tensor:
    """Next token per row: argmax, or a sample from the tempered, top-p-filtered distribution. [B, V] -> [B].

    ``generators``: one per row (seeded sampling), or None for the global RNG.
    """
    if not settings.do_sample:
        return logits.argmax(dim=-1)
    filtered = top_p_filter(logits / settings.temperature, settings.top_p)
    probs = filtered.softmax(dim=-1)  # [B, V]
    if generators is None:
        return torch.multinomial(probs, num_samples=1).squeeze(-1)
    return torch.cat([torch.multinomial(p[None], 1, generator=g)[0] for p, g in zip(probs, generators, strict=True)])


def _ended(tokens: list[int], settings: GenerationSettings) -> bool:
    if settings.eos_token_id is not None and tokens[-1] == settings.eos_token_id:
        return True
    if any(len(tokens) >= len(s) and tuple(tokens[-len(s) :]) == s for s in settings.stop_sequences):
        return True
    return settings.stop_when is not None and settings.stop_when(tokens)


def strip_terminator(tokens: list[int], settings: GenerationSettings) -> list[int]:
    """Drop a final EOS or matched stop sequence from a sample's raw tokens (a ``stop_when`` match is kept)."""
    if tokens and settings.eos_token_id is not None and tokens[-1] == settings.eos_token_id:
        return tokens[:-1]
    for s in settings.stop_sequences:
        if len(tokens) >= len(s) and tuple(tokens[-len(s) :]) == s:
            return tokens[: -len(s)]
    return tokens


@dataclass(frozen=True)
class Sample:
    """What generation gave one sample.

    ``tokens``: the new tokens, the terminating EOS / stop sequence excluded. ``logprobs``: the model's
    log-probability of each of them (log-softmax of the raw logits, i.e. at temperature 1 and without top-p: the
    model's own belief, whatever rule picked the token), taken while decoding. ``seg_hidden`` [n_seg, D]: the
    last-layer (final-norm) hidden state at each generated ``<seg>`` token, in order, i.e. the state computed when
    ``<seg>`` is the input token, as in a teacher-forced pass over the answer; [0, D] without a seg token id.
    ``stopped``: the sample ended on EOS or a stop rule (False: it reached ``max_new_tokens``).
    """

    tokens: list[int]
    logprobs: list[float]
    seg_hidden: torch.Tensor
    stopped: bool
    terminator: list[int] = field(default_factory=list)
    """The stripped EOS or stop sequence: ``tokens + terminator`` is what the model produced."""


def seg_token_id(config: EarthGPTConfig) -> int | None:
    """The ``<seg>`` id of an EarthGPT-X config, None for a plain EarthGPT (or an X config without one)."""
    x = getattr(config, "x", None)
    seg = getattr(x, "seg_token_id", None) if x is not None else None
    return int(seg) if seg is not None else None


class _Rows:
    """Per-sample accumulators of one decode call: raw tokens (terminator included), log-probs, seg states."""

    def __init__(self, batch: int, width: int, seg_id: int | None) -> None:
        self.raw: list[list[int]] = [[] for _ in range(batch)]
        self.logprobs: list[list[float]] = [[] for _ in range(batch)]
        self.seg: list[list[torch.Tensor]] = [[] for _ in range(batch)]
        self.done = [False] * batch
        self.width = width
        self.seg_id = seg_id

    def add(self, tokens: torch.Tensor, logprobs: torch.Tensor, settings: GenerationSettings) -> torch.Tensor:
        """Append the chosen tokens [B] and their log-probs [B] to the rows still running; [B] bool: who took one."""
        added = torch.tensor([not d for d in self.done])
        for b in added.nonzero().flatten().tolist():
            self.raw[b].append(int(tokens[b]))
            self.logprobs[b].append(float(logprobs[b]))
            self.done[b] = _ended(self.raw[b], settings)
        return added

    def new_seg(self, tokens: torch.Tensor, added: torch.Tensor) -> torch.Tensor:
        """[B] bool: rows that just took a ``<seg>`` (its state comes when it is fed)."""
        return added & (tokens == self.seg_id) if self.seg_id is not None else torch.zeros_like(added)

    def keep_seg(self, is_seg: torch.Tensor, hidden: torch.Tensor) -> None:
        """Keep the hidden states [B, D] of the rows ``is_seg`` [B] that were just fed a ``<seg>``."""
        for b in is_seg.nonzero().flatten().tolist():
            self.seg[b].append(hidden[b].float().cpu())

    def samples(self, settings: GenerationSettings) -> list[Sample]:
        out = []
        for raw, lps, seg, done in zip(self.raw, self.logprobs, self.seg, self.done, strict=True):
            tokens = strip_terminator(raw, settings)
            states = torch.stack(seg) if seg else torch.zeros(0, self.width)
            out.append(Sample(tokens, lps[: len(tokens)], states, done, raw[len(tokens) :]))
        return out


def _forward(
    llm: LlamaForCausalLM,
    embeds: torch.Tensor,
    attention_mask: torch.Tensor,
    position_ids: torch.Tensor,
    cache: DynamicCache,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One cached LLM step: (final-norm hidden state [B, D], next-token logits [B, V]) at the last position."""
    out = llm.model(
        inputs_embeds=embeds,
        attention_mask=attention_mask,
        position_ids=position_ids,
        cache=cache,
        use_cache=True,
    )
    hidden = out.last_hidden_state[:, -1]  # [B, D]
    return hidden, llm.lm_head(hidden)  # [B, V]


def _generators(settings: GenerationSettings, batch: int) -> list[torch.Generator] | None:
    """One private generator per row, all seeded with ``seed``: a row's sample does not depend on its batch."""
    if settings.seed is None:
        return None
    return [torch.Generator().manual_seed(settings.seed) for _ in range(batch)]


@torch.no_grad()
def decode(
    model: Generative,
    embeds: torch.Tensor,
    attention_mask: torch.Tensor,
    position_ids: torch.Tensor,
    cache: DynamicCache,
    settings: GenerationSettings,
) -> list[Sample]:
    """Feed ``embeds`` [B, T, D] after what ``cache`` holds, then generate; one Sample per row.

    ``attention_mask`` [B, cached + T] covers the cache and the new tokens; ``position_ids`` [B, T] the new ones.
    Every generated token but the last is fed to the cache (the last too when it is a ``<seg>``, for its state).
    """
    batch = embeds.shape[0]
    rows = _Rows(batch, embeds.shape[-1], seg_token_id(model.config))
    if settings.max_new_tokens == 0:
        return rows.samples(settings)
    generators = _generators(settings, batch)
    llm = model.llm
    _, logits = _forward(llm, embeds, attention_mask, position_ids, cache)
    next_pos = position_ids[:, -1:] + 1  # [B, 1]
    for step in range(settings.max_new_tokens):
        logits = logits.float().cpu()  # [B, V]
        tokens = choose_tokens(logits, settings, generators)  # [B]
        logprobs = logits.log_softmax(dim=-1).gather(-1, tokens[:, None]).squeeze(-1)  # [B]
        added = rows.add(tokens, logprobs, settings)
        is_seg = rows.new_seg(tokens, added)
        last = all(rows.done) or step == settings.max_new_tokens - 1
        if last and not bool(is_seg.any()):
            break
        fed = tokens.masked_fill(~added, model.config.pad_token_id).to(embeds.device)  # [B]
        attention_mask = torch.cat([attention_mask, attention_mask.new_ones(batch, 1)], dim=1)
        step_embeds = llm.get_input_embeddings()(fed[:, None])  # [B, 1, D]
        hidden, logits = _forward(llm, step_embeds, attention_mask, next_pos, cache)
        rows.keep_seg(is_seg, hidden)
        next_pos = next_pos + 1
        if last:
            break
    return rows.samples(settings)


def _visual_kwargs(visual: VisualInputs | None, device: torch.device) -> dict[str, Any]:
    """``visual=`` for ``embed_inputs`` only when there is one, so a plain model's signature is enough."""
    return {} if visual is None else {"visual": visual.to(device)}


def generate_samples(
    model: Generative,
    pixel_values: torch.Tensor | None,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    settings: GenerationSettings,
    visual: VisualInputs | None = None,
) -> list[Sample]:
    """Batched generation from LEFT-padded prompts [B, T]: one Sample per row (tokens, log-probs, seg states).

    ``visual`` (EarthGPT-X views and prompts) goes to ``model.embed_inputs``; None keeps the plain path.
    """
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    if bool((attention_mask[:, -1] == 0).any()):
        raise ValueError("prompts must be LEFT-padded for generation: the last position of every row must be real")
    device = model.device
    input_ids = input_ids.to(device)
    attention_mask = attention_mask.to(device)
    embeds = model.embed_inputs(input_ids, pixel_values, **_visual_kwargs(visual, device))  # [B, T, D]
    cache = DynamicCache(config=model.llm.config)
    return decode(model, embeds, attention_mask, positions_from_mask(attention_mask), cache, settings)


def generate(
    model: Generative,
    pixel_values: torch.Tensor | None,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    settings: GenerationSettings,
    visual: VisualInputs | None = None,
) -> list[list[int]]:
    """Batched generation from LEFT-padded prompts [B, T]; new tokens per sample without prompt or terminator."""
    return [s.tokens for s in generate_samples(model, pixel_values, input_ids, attention_mask, settings, visual)]


class ChatSession:
    """A multi-turn conversation about one image that keeps its KV cache between turns.

    The image is encoded in the turn that holds its placeholders (the first); each ``send`` feeds only the tokens not
    yet in the cache (the previous answer's last token and the new turn) and generates. ``transcript`` is the full
    token sequence so far (prompts, answers and their terminators): generating from it from scratch gives the same
    answer as the cached session. ``visual`` (EarthGPT-X views and prompts) goes with the image's turn.
    """

    def __init__(
        self, model: Generative, pixel_values: torch.Tensor | None = None, visual: VisualInputs | None = None
    ) -> None:
        if pixel_values is not None and pixel_values.dim() == 3:
            pixel_values = pixel_values.unsqueeze(0)  # [1, 3, S, S]
        if pixel_values is not None and pixel_values.shape[0] != 1 and visual is None:
            raise ValueError(f"a ChatSession holds one image; got pixel_values of shape {tuple(pixel_values.shape)}")
        self.model = model
        self.pixel_values = pixel_values  # [V, 3, S, S]: one image (V views with ``visual.num_views``)
        self.visual = visual
        self.transcript: list[int] = []
        self._cache = DynamicCache(config=model.llm.config)
        self._image_used = False

    @property
    def cached(self) -> int:
        """Tokens of ``transcript`` already in the KV cache."""
        return self._cache.get_seq_length()

    @torch.no_grad()
    def send(self, input_ids: Sequence[int], **settings: Any) -> Sample:
        """Append a turn (its full template tokens) and answer it; ``settings`` as GenerationSettings."""
        settings.setdefault("eos_token_id", self.model.config.eos_token_id)
        if settings["eos_token_id"] is None:
            settings["eos_token_id"] = self.model.config.eos_token_id
        cfg = GenerationSettings(**settings)
        cached = self.cached
        pending = self.transcript[cached:] + list(input_ids)
        device = self.model.device
        ids = torch.tensor([pending], device=device)  # [1, T]
        embeds = self._embed(ids)  # [1, T, D]
        total = cached + len(pending)
        mask = torch.ones(1, total, dtype=torch.long, device=device)
        positions = torch.arange(cached, total, device=device)[None]  # [1, T]
        sample = decode(self.model, embeds, mask, positions, self._cache, cfg)[0]
        self.transcript = self.transcript + list(input_ids) + sample.tokens + sample.terminator
        return sample

    def _embed(self, ids: torch.Tensor) -> torch.Tensor:
        placeholders = int((ids == self.model.config.image_token_id).sum())
        if placeholders == 0:
            return self.model.embed_inputs(ids)
        if self._image_used or self.pixel_values is None:
            raise ValueError(
                "this turn holds image placeholders but the session's image is already placed (or none was given); "
                "a ChatSession covers one image, placed in its first turn"
            )
        self._image_used = True
        return self.model.embed_inputs(ids, self.pixel_values, **_visual_kwargs(self.visual, self.model.device))
