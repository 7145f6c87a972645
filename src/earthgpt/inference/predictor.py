"""The one object that loads a trained EarthGPT and answers questions about images (CLI, server, Python, eval)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from earthgpt.data.chat_template import ChatTemplate
from earthgpt.data.conversation import Message
from earthgpt.data.dataset import pad_sequences
from earthgpt.data.imagery import load_image, model_input
from earthgpt.data.records import ImageRef
from earthgpt.data.tokenizer import load_tokenizer
from earthgpt.inference.output import Generation
from earthgpt.models import EarthGPT, load_pretrained

log = logging.getLogger(__name__)


#: Marks where the visual tokens go in a chat turn; the pixels themselves are passed to ``generate`` separately.
INPUT_IMAGE = ImageRef(path="<input image>", width=0, height=0)


class PromptTooLongError(ValueError):
    """A prompt that, with the answer's token budget, does not fit the model's position embeddings."""


class Predictor:
    """Greedy (or sampled) answers from a model directory holding config.json, model.safetensors, tokenizer files."""

    def __init__(
        self,
        model: EarthGPT,
        tokenizer: PreTrainedTokenizerBase,
        max_new_tokens: int = 256,
        batch_size: int = 8,
        max_length: int = 2048,
    ) -> None:
        self.model = model.eval()
        self.tok = tokenizer
        self.template = ChatTemplate(tokenizer, model.num_image_tokens, max_length=max_length)
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size

    @classmethod
    def load(cls, model_dir: str | Path, **kwargs: int) -> Predictor:
        """A predictor over a model directory (config.json, model.safetensors, tokenizer files)."""
        return cls(load_pretrained(model_dir), load_tokenizer(model_dir), **kwargs)

    def encode(self, dialogue: Sequence[Message]) -> list[int]:
        """The prompt tokens of a dialogue; PromptTooLongError if it and the answer cannot fit the model's positions.

        Decision: refuse rather than truncate (a cut question, or a cut-off image, silently changes the task).
        """
        ids = self.template.encode_prompt(dialogue)
        positions = self.model.config.llm.max_position_embeddings
        if len(ids) + self.max_new_tokens > positions:
            raise PromptTooLongError(
                f"the prompt is {len(ids)} tokens and the answer may take {self.max_new_tokens} (--max-new-tokens): "
                f"more than the model's {positions} positions; shorten the question(s) to at most "
                f"{max(positions - self.max_new_tokens, 0)} prompt tokens or lower --max-new-tokens"
            )
        return ids

    def pixels(self, image: np.ndarray | ImageRef | str | Path, root: str | Path | None = None) -> torch.Tensor:
        """[3, S, S] model input from an RGB array, an image reference or a file path."""
        if isinstance(image, np.ndarray):
            rgb = image
        else:
            ref = image if isinstance(image, ImageRef) else ImageRef(path=str(image), width=0, height=0)
            rgb = load_image(ref, root, max_side=self.model.image_size)
        return torch.from_numpy(model_input(rgb, self.model.image_size))

    @torch.no_grad()
    def generate(self, pixels: Sequence[torch.Tensor], dialogues: Sequence[Sequence[Message]]) -> list[Generation]:
        """Answers for many (image, dialogue) pairs; each dialogue ends with the user's question."""
        out: list[Generation] = []
        for start in range(0, len(dialogues), self.batch_size):
            chunk = range(start, min(start + self.batch_size, len(dialogues)))
            prompts = [self.encode(dialogues[i]) for i in chunk]
            ids, mask = pad_sequences(prompts, int(self.tok.pad_token_id), left=True)
            px = torch.stack([pixels[i] for i in chunk])
            new = self.model.generate(
                px, ids, mask, max_new_tokens=self.max_new_tokens, eos_token_id=int(self.tok.eos_token_id)
            )
            logprobs = self._logprobs(px, ids, mask, new)
            out += [self._decode(tokens, lp) for tokens, lp in zip(new, logprobs, strict=True)]
        return out

    def _logprobs(
        self, px: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor, new: list[list[int]]
    ) -> list[list[float]]:
        """Teacher-forced log-probability of each generated token (one forward pass over prompt + answer)."""
        width = max((len(n) for n in new), default=0)
        if width == 0:
            return [[] for _ in new]
        tail, tail_mask = pad_sequences(new, int(self.tok.pad_token_id))  # [B, W]
        full = torch.cat([ids, tail], dim=1)  # [B, T + W]
        logits = self.model(px, full, torch.cat([mask, tail_mask], dim=1)).logits  # [B, T + W, V]
        logp = torch.log_softmax(logits[:, ids.shape[1] - 1 : -1].float(), dim=-1)  # [B, W, V]
        picked = logp.gather(-1, tail.unsqueeze(-1)).squeeze(-1)  # [B, W]
        return [picked[row, : len(n)].tolist() for row, n in enumerate(new)]

    def _decode(self, tokens: list[int], logprobs: list[float]) -> Generation:
        eos = self.tok.eos_token_id
        keep = [t for t in tokens if t != eos]
        lps = [lp for t, lp in zip(tokens, logprobs, strict=True) if t != eos]
        raw = str(self.tok.decode(keep, skip_special_tokens=True))
        lead = len(raw) - len(raw.lstrip())
        spans, prev = [], 0
        for k in range(1, len(keep) + 1):
            end = len(str(self.tok.decode(keep[:k], skip_special_tokens=True)))
            spans.append((max(prev - lead, 0), max(end - lead, 0)))
            prev = end
        return Generation(text=raw.strip(), token_logprobs=lps, token_spans=spans)

    def ask(
        self, image: np.ndarray | ImageRef | str | Path, question: str, history: Sequence[Message] = ()
    ) -> tuple[str, list[Message]]:
        """One chat turn: the answer and the updated history (the image goes with the first question only)."""
        first = not history
        turn = Message.user(question, INPUT_IMAGE if first else None)
        dialogue = [*history, turn]
        gen = self.generate([self.pixels(image)], [dialogue])[0]
        return gen.text, [*dialogue, Message.assistant(gen.text)]
