"""Conversation -> token ids with labels masked to assistant turns, and the prompt form used for generation.

The layout (Vicuna-style plain-text roles, so any tokenizer works, ours or LLaMA-2's)::

    <s>USER: <image>*N\n{question} ASSISTANT: {answer}</s>USER: {question} ASSISTANT: {answer}</s>

Each piece is tokenised on its own and the ids are concatenated, so the assistant's text always starts on a token
boundary and the labels mask is exact: only assistant answers and their ``</s>`` carry loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from earthgpt.data.conversation import Conversation, ImagePart, Message, TextPart
from earthgpt.data.tokenizer import image_token_id

IGNORE_INDEX = -100
USER_PREFIX = "USER: "
ASSISTANT_PREFIX = " ASSISTANT: "
SYSTEM_SUFFIX = " "


@dataclass(frozen=True)
class Encoded:
    """Token ids and labels (``IGNORE_INDEX`` where no loss) of one conversation; ``truncated`` if it was cut."""

    input_ids: list[int]
    labels: list[int]
    truncated: bool = False


class ChatTemplate:
    """Turns conversations into model inputs for one tokenizer and one visual token count."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, num_image_tokens: int, max_length: int = 1024) -> None:
        self.tok = tokenizer
        self.num_image_tokens = num_image_tokens
        self.max_length = max_length
        self.image_id = image_token_id(tokenizer)
        if tokenizer.bos_token_id is None or tokenizer.eos_token_id is None:
            raise ValueError("the tokenizer needs bos and eos tokens; use earthgpt.data.tokenizer.train_tokenizer")
        self.bos_id = int(tokenizer.bos_token_id)
        self.eos_id = int(tokenizer.eos_token_id)

    def _text(self, text: str) -> list[int]:
        return list(self.tok.encode(text, add_special_tokens=False)) if text else []

    def _user(self, message: Message) -> list[int]:
        ids = self._text(USER_PREFIX)
        for part in message.content:
            if isinstance(part, ImagePart):
                ids += [self.image_id] * self.num_image_tokens + self._text("\n")
            elif isinstance(part, TextPart):
                ids += self._text(part.text)
        return ids + self._text(ASSISTANT_PREFIX.rstrip())

    def encode(self, conversation: Conversation) -> Encoded:
        """Ids and labels of a whole conversation (training)."""
        ids, labels = [self.bos_id], [IGNORE_INDEX]
        for m in conversation.messages:
            if m.role == "assistant":
                piece = self._text(" " + m.text) + [self.eos_id]
            elif m.role == "user":
                piece = self._user(m)
            else:
                piece = self._text(m.text + SYSTEM_SUFFIX)
            ids += piece
            labels += [IGNORE_INDEX] * len(piece) if m.is_masked else piece
        return self._truncate(ids, labels)

    def encode_prompt(self, messages: Sequence[Message]) -> list[int]:
        """Ids of a dialogue that ends with a user turn, ready for the model to generate the answer."""
        if not messages or messages[-1].role != "user":
            raise ValueError("a prompt must end with a user message")
        ids = [self.bos_id]
        for m in messages:
            if m.role == "assistant":
                ids += self._text(" " + m.text) + [self.eos_id]
            elif m.role == "user":
                ids += self._user(m)
            else:
                ids += self._text(m.text + SYSTEM_SUFFIX)
        return ids

    def _truncate(self, ids: list[int], labels: list[int]) -> Encoded:
        if len(ids) <= self.max_length:
            return Encoded(ids, labels)
        # keep the start (image tokens and first question); the cut answer still teaches its prefix
        return Encoded(ids[: self.max_length], labels[: self.max_length], truncated=True)
