"""The one object that loads a trained EarthGPT and answers questions about images (CLI, server, Python, eval)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from earthgpt.data.chat_template import ChatTemplate
from earthgpt.data.conversation import Message
from earthgpt.data.dataset import pad_sequences
from earthgpt.data.imagery import load_image, model_input
from earthgpt.data.location_tokens import decode_text
from earthgpt.data.records import ImageRef
from earthgpt.data.tokenizer import SEG_TOKEN, load_tokenizer
from earthgpt.geometry.prompts import VisualPrompt
from earthgpt.inference.options import AnswerOptions, Stop, first_stop
from earthgpt.inference.output import Generation
from earthgpt.inference.sessions import SessionStore
from earthgpt.inference.xrequest import XRequest, batch_visual, build_request, masks_on_image, tensor_request
from earthgpt.models import EarthGPT, load_pretrained
from earthgpt.models.generation import Sample, generate_samples, seg_token_id
from earthgpt.models.inputs import VisualInputs

log = logging.getLogger(__name__)


#: Marks where the visual tokens go in a chat turn; the pixels themselves are passed to ``generate`` separately.
INPUT_IMAGE = ImageRef(path="<input image>", width=0, height=0)


class PromptTooLongError(ValueError):
    """A prompt that, with the answer's token budget, does not fit the model's position embeddings."""


#: What ``Predictor.generate`` takes per dialogue: ready model-input pixels [3, S, S], or the RGB image [H, W, 3]
#: itself (needed with visual prompts or views, which refer to the image's own pixels).
ImageInput = torch.Tensor | np.ndarray


class Predictor:
    """Greedy (or sampled) answers from a model directory holding config.json, model.safetensors, tokenizer files.

    ``ask`` keeps up to ``max_sessions`` chat sessions (their KV caches) so that a follow-up question feeds only its
    new tokens (see ``SessionStore`` for how a turn finds its session again).
    """

    def __init__(
        self,
        model: EarthGPT,
        tokenizer: PreTrainedTokenizerBase,
        max_new_tokens: int = 256,
        batch_size: int = 8,
        max_length: int = 2048,
        max_sessions: int = 4,
    ) -> None:
        self.model = model.eval()
        self.tok = tokenizer
        self.template = ChatTemplate(tokenizer, model.num_image_tokens, max_length=max_length)
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.sessions = SessionStore(max_sessions)

    @classmethod
    def load(cls, model_dir: str | Path, **kwargs: int) -> Predictor:
        """A predictor over a model directory (config.json, model.safetensors, tokenizer files)."""
        return cls(load_pretrained(model_dir), load_tokenizer(model_dir), **kwargs)

    @property
    def has_x(self) -> bool:
        """Whether the model is an EarthGPT-X (prompt encoder, views, mask decoder)."""
        return getattr(self.model.config, "x", None) is not None

    def encode(self, dialogue: Sequence[Message], max_new_tokens: int | None = None) -> list[int]:
        """The prompt tokens of a dialogue; PromptTooLongError if it and the answer cannot fit the model's positions.

        Decision: refuse rather than truncate (a cut question, or a cut-off image, silently changes the task).
        """
        budget = self.max_new_tokens if max_new_tokens is None else max_new_tokens
        ids = self.template.encode_prompt(dialogue)
        self._check_length(len(ids), budget)
        return ids

    def _check_length(self, prompt: int, budget: int) -> None:
        positions = self.model.config.llm.max_position_embeddings
        if prompt + budget > positions:
            raise PromptTooLongError(
                f"the prompt is {prompt} tokens and the answer may take {budget} (--max-new-tokens): "
                f"more than the model's {positions} positions; shorten the question(s) to at most "
                f"{max(positions - budget, 0)} prompt tokens or lower --max-new-tokens"
            )

    def pixels(self, image: np.ndarray | ImageRef | str | Path, root: str | Path | None = None) -> torch.Tensor:
        """[3, S, S] model input from an RGB array, an image reference or a file path."""
        return torch.from_numpy(model_input(self._rgb(image, root), self.model.image_size))

    def image(self, image: np.ndarray | ImageRef | str | Path, root: str | Path | None = None) -> np.ndarray:
        """[H, W, 3] uint8 at full resolution: what ``generate`` takes with visual prompts or views (they are in its
        pixels)."""
        return self._rgb(image, root, full=True)

    def _rgb(
        self, image: np.ndarray | ImageRef | str | Path, root: str | Path | None = None, *, full: bool = False
    ) -> np.ndarray:
        """[H, W, 3] uint8: decimated for the model input, or at ``full`` resolution (prompts are in its pixels)."""
        if isinstance(image, np.ndarray):
            return image
        ref = image if isinstance(image, ImageRef) else ImageRef(path=str(image), width=0, height=0)
        return load_image(ref, root, max_side=None if full else self.model.image_size)

    def options(
        self,
        max_new_tokens: int | None = None,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: Stop | Sequence[Stop] | None = None,
        seed: int | None = None,
    ) -> AnswerOptions:
        """Checked per-call options (ValueError naming the option); ``max_new_tokens`` defaults to the predictor's."""
        budget = self.max_new_tokens if max_new_tokens is None else max_new_tokens
        return AnswerOptions.of(budget, stop, temperature=temperature, top_p=top_p, seed=seed)

    @torch.no_grad()
    def generate(
        self,
        pixels: Sequence[ImageInput],
        dialogues: Sequence[Sequence[Message]],
        *,
        max_new_tokens: int | None = None,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: Stop | Sequence[Stop] | None = None,
        seed: int | None = None,
        prompts: Sequence[Sequence[VisualPrompt]] | None = None,
        views: str | Sequence[str] | None = None,
    ) -> list[Generation]:
        """Answers for many (image, dialogue) pairs, in batches of ``batch_size``; each dialogue ends with the user's
        question.

        ``pixels[i]`` is the model input [3, S, S] (``Predictor.pixels``) or the RGB image [H, W, 3] itself.
        Options: see ``AnswerOptions`` (temperature 0 = greedy). EarthGPT-X: ``prompts[i]`` are the visual prompts of
        dialogue i (prompt K is ``<regionK>`` in its text) in the pixels of image i, which must then be given as
        RGB; ``views`` the view plan ("", "global", "grid:K", "region:K"), one for all or one per dialogue. A model
        without an EarthGPT-X config refuses prompts and views with a ValueError.
        """
        if len(pixels) != len(dialogues):
            raise ValueError(f"{len(pixels)} images for {len(dialogues)} dialogues; give one image per dialogue")
        opts = self.options(max_new_tokens, temperature, top_p, stop, seed)
        per_prompts = _per_dialogue(prompts, len(dialogues), (), "prompts")
        per_views = _per_dialogue(
            [views] * len(dialogues) if isinstance(views, str) else views, len(dialogues), "", "views"
        )
        if any(per_prompts) or any(per_views):
            self.require_x("visual prompts and views")
        if self.has_x:  # every answer may hold <seg> tokens: their masks need the X path
            return self._generate_x(pixels, dialogues, opts, per_prompts, per_views)
        out: list[Generation] = []
        for start in range(0, len(dialogues), self.batch_size):
            chunk = range(start, min(start + self.batch_size, len(dialogues)))
            ids = [self.encode(dialogues[i], opts.max_new_tokens) for i in chunk]
            px = torch.stack([self._model_pixels(pixels[i]) for i in chunk])
            out += self._run(px, ids, opts)
        return out

    def _model_pixels(self, image: ImageInput) -> torch.Tensor:
        return image if isinstance(image, torch.Tensor) else self.pixels(image)

    def _run(
        self, px: torch.Tensor, prompts: list[list[int]], opts: AnswerOptions, visual: VisualInputs | None = None
    ) -> list[Generation]:
        ids, mask = pad_sequences(prompts, int(self.tok.pad_token_id), left=True)
        samples = generate_samples(self.model, px, ids, mask, opts.settings(self.tok), visual)
        return [self.to_generation(s, len(p), opts) for s, p in zip(samples, prompts, strict=True)]

    def _generate_x(
        self,
        pixels: Sequence[ImageInput],
        dialogues: Sequence[Sequence[Message]],
        opts: AnswerOptions,
        prompts: Sequence[Sequence[VisualPrompt]],
        views: Sequence[str],
    ) -> list[Generation]:
        """The EarthGPT-X path: views, prompt maps and region placeholders in, a mask per generated ``<seg>`` out."""
        out: list[Generation] = []
        for start in range(0, len(dialogues), self.batch_size):
            chunk = range(start, min(start + self.batch_size, len(dialogues)))
            requests = [self._x_request(pixels[i], dialogues[i], prompts[i], views[i], i, opts) for i in chunk]
            px, visual = batch_visual(requests)
            ids, mask = pad_sequences([r.input_ids for r in requests], int(self.tok.pad_token_id), left=True)
            samples = generate_samples(self.model, px, ids, mask, opts.settings(self.tok), visual)
            for sample, request in zip(samples, requests, strict=True):
                gen = self.to_generation(sample, len(request.input_ids), opts)
                logits = self.model.decode_masks(sample.seg_hidden.to(self.model.dtype), request.pixels)  # [M, S, S]
                out.append(replace(gen, masks=masks_on_image(logits, request)))
        return out

    def _x_request(
        self,
        image: ImageInput,
        dialogue: Sequence[Message],
        prompts: Sequence[VisualPrompt],
        views: str,
        index: int,
        opts: AnswerOptions,
    ) -> XRequest:
        if isinstance(image, torch.Tensor):
            if prompts or views:
                raise ValueError(
                    f"dialogue {index}: visual prompts and views refer to the image's own pixels; pass the RGB image "
                    "[H, W, 3] itself, not the model input tensor"
                )
            request = tensor_request(self.template, image, dialogue)  # masks come in the model input's pixels
        else:
            request = build_request(self.template, image, dialogue, prompts, views, self.model.image_size)
        self._check_length(len(request.input_ids), opts.max_new_tokens)
        return request

    def require_x(self, what: str) -> None:
        """ValueError unless the model has an EarthGPT-X config (prompt encoder, view embedding, mask decoder)."""
        if not self.has_x:
            raise ValueError(
                f"{what} need an EarthGPT-X model, but this model has no prompt encoder / mask decoder (its config "
                "has no 'x' part); ask without --point/--box/--scribble/--zoom, or use an EarthGPT-X model directory"
            )

    def text(self, tokens: Sequence[int]) -> str:
        """Decoded answer tokens; special tokens dropped except ``<seg>``, which stays where its mask belongs."""
        seg = seg_token_id(self.model.config)
        if seg is None or seg not in tokens:
            return decode_text(self.tok, tokens)
        parts: list[str] = []
        piece: list[int] = []
        for t in tokens:
            if t == seg:
                parts.append(decode_text(self.tok, piece))
                piece = []
            else:
                piece.append(t)
        return SEG_TOKEN.join([*parts, decode_text(self.tok, piece)])

    def to_generation(self, sample: Sample, prompt_tokens: int, opts: AnswerOptions) -> Generation:
        """Text, per-token log-probs and spans of a sample; a stop string cuts the text (and the tokens) before it."""
        eos = self.tok.eos_token_id
        pairs = [(t, lp) for t, lp in zip(sample.tokens, sample.logprobs, strict=True) if t != eos]
        keep = [t for t, _ in pairs]
        raw = self.text(keep)
        lead = len(raw) - len(raw.lstrip())
        spans, prev = [], 0
        for k in range(1, len(keep) + 1):
            end = len(self.text(keep[:k]))
            spans.append((max(prev - lead, 0), max(end - lead, 0)))
            prev = end
        text, lps = raw.strip(), [lp for _, lp in pairs]
        cut = first_stop(text, opts.stop_strings)
        if cut is not None:
            kept = [i for i, (a, _) in enumerate(spans) if a < cut]
            spans = [(a, min(b, cut)) for a, b in spans[: len(kept)]]
            text, lps = text[:cut], lps[: len(kept)]
        return Generation(
            text=text,
            token_logprobs=lps,
            token_spans=spans,
            finish_reason="stop" if sample.stopped else "length",
            prompt_tokens=prompt_tokens,
        )

    @torch.no_grad()
    def ask(
        self,
        image: np.ndarray | ImageRef | str | Path,
        question: str,
        history: Sequence[Message] = (),
        *,
        prompts: Sequence[VisualPrompt] = (),
        views: str = "",
        **options: Any,
    ) -> tuple[str, list[Message]]:
        """One chat turn: the answer and the updated history (the image goes with the first question only).

        ``options`` as for ``generate``. A plain turn continues the kept session of this image and history when
        there is one (its KV cache: only the new tokens are fed); turns with EarthGPT-X prompts or views encode the
        whole dialogue.
        """
        gen = self.ask_generation(image, question, history, prompts=prompts, views=views, **options)
        first = not history
        dialogue = [*history, Message.user(question, INPUT_IMAGE if first else None)]
        return gen.text, [*dialogue, Message.assistant(gen.text)]

    @torch.no_grad()
    def ask_generation(
        self,
        image: np.ndarray | ImageRef | str | Path,
        question: str,
        history: Sequence[Message] = (),
        *,
        prompts: Sequence[VisualPrompt] = (),
        views: str = "",
        **options: Any,
    ) -> Generation:
        """``ask``'s answer as a Generation (log-probs, spans, masks of an EarthGPT-X answer)."""
        turn = Message.user(question, INPUT_IMAGE if not history else None)
        dialogue = [*history, turn]
        if prompts or views or self.has_x:
            rgb = self._rgb(image, full=True)
            return self.generate([rgb], [dialogue], prompts=[prompts], views=[views], **options)[0]
        opts = self.options(**options)
        px = self.pixels(image)
        ids = self.encode(dialogue, opts.max_new_tokens)
        session = self.sessions.take(self.model, px, ids, self.template.image_id)
        sample = session.send(ids[len(session.transcript) :], **vars(opts.settings(self.tok)))
        self.sessions.keep(session, px)
        return self.to_generation(sample, len(ids), opts)


def _per_dialogue(values: Sequence[Any] | None, n: int, empty: Any, name: str) -> list[Any]:
    """One value per dialogue (``empty`` for all when None); ValueError naming the option if the count differs."""
    if values is None:
        return [empty] * n
    if len(values) != n:
        raise ValueError(f"{name}: {len(values)} entries for {n} dialogues; give one per dialogue")
    return list(values)
