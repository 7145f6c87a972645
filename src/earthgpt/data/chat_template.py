"""Conversation -> token ids with labels masked to assistant turns, and the prompt form used for generation.

The layout (Vicuna-style plain-text roles, so any tokenizer works, ours or LLaMA-2's)::

    <s>USER: <image>*N\n{question} ASSISTANT: {answer}</s>USER: {question} ASSISTANT: {answer}</s>

Each piece is tokenised on its own and the ids are concatenated, so the assistant's text always starts on a token
boundary and the labels mask is exact: only assistant answers and their ``</s>`` carry loss.

EarthGPT-X additions (a conversation with one view and no prompts encodes exactly as above):

- V > 1 views: the image part is ``(<view> <image>*N) * V``, the global view first;
- ``<regionK>`` in a question stays text and is followed by one ``<region>`` placeholder, whose feature is that of
  prompt K (``Encoded.region_index`` lists K - 1 per placeholder, in order); in an answer it stays text only;
- ``<seg>`` in an answer is the single ``<seg>`` id and is learned like any answer token; the i-th one is
  ``conversation.masks[i]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from transformers import PreTrainedTokenizerBase

from earthgpt.data.conversation import Conversation, ImagePart, Message, TextPart
from earthgpt.data.location_tokens import box_tokens_of, to_location
from earthgpt.data.tokenizer import (
    REGION_TOKEN,
    SEG_TOKEN,
    VIEW_TOKEN,
    image_token_id,
    region_token_id,
    seg_token_id,
    view_token_id,
)
from earthgpt.geometry.prompts import PromptError
from earthgpt.models.views import ViewPlan

IGNORE_INDEX = -100
USER_PREFIX = "USER: "
ASSISTANT_PREFIX = " ASSISTANT: "
SYSTEM_SUFFIX = " "
REGION_NAME = re.compile(r"<region(\d+)>")
"""How the text names the K-th prompt (1-based)."""


@dataclass(frozen=True)
class Encoded:
    """Token ids and labels (``IGNORE_INDEX`` where no loss) of one conversation; ``truncated`` if it was cut.

    EarthGPT-X: ``region_index`` holds K - 1 for each ``<region>`` placeholder of ``input_ids``, in order;
    ``num_views`` the views of the image part; ``num_seg`` the ``<seg>`` tokens kept (all labelled), whose targets
    are the conversation's first ``num_seg`` masks.
    """

    input_ids: list[int]
    labels: list[int]
    truncated: bool = False
    region_index: tuple[int, ...] = ()
    num_views: int = 1
    num_seg: int = 0


class ChatTemplate:
    """Turns conversations into model inputs for one tokenizer and one visual token count per view.

    ``default_views`` is the view plan of a conversation whose ``views`` is empty (the model's default).
    """

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        num_image_tokens: int,
        max_length: int = 1024,
        default_views: str = "global",
    ) -> None:
        self.tok = tokenizer
        self.num_image_tokens = num_image_tokens
        self.max_length = max_length
        self.default_views = str(ViewPlan.parse(default_views))
        self.image_id = image_token_id(tokenizer)
        if tokenizer.bos_token_id is None or tokenizer.eos_token_id is None:
            raise ValueError("the tokenizer needs bos and eos tokens; use earthgpt.data.tokenizer.train_tokenizer")
        self.bos_id = int(tokenizer.bos_token_id)
        self.eos_id = int(tokenizer.eos_token_id)
        box_tokens, self.box_decimals = box_tokens_of(tokenizer)
        self.location = box_tokens == "location"
        """Boxes of the written form become location tokens (data/location_tokens.py) before tokenising."""

    @cached_property
    def region_id(self) -> int:
        return region_token_id(self.tok)

    @cached_property
    def seg_id(self) -> int:
        return seg_token_id(self.tok)

    @cached_property
    def view_id(self) -> int:
        return view_token_id(self.tok)

    def _text(self, text: str) -> list[int]:
        if self.location:
            text = to_location(text, self.box_decimals)
        return list(self.tok.encode(text, add_special_tokens=False)) if text else []

    def _plain(self, text: str, where: str, *, seg: bool = False) -> list[int]:
        """Ids of text that holds no placeholder token (``<seg>`` allowed only in a learned answer)."""
        for token in (REGION_TOKEN, VIEW_TOKEN) if seg else (REGION_TOKEN, VIEW_TOKEN, SEG_TOKEN):
            if token in text:
                use = "name prompts as <regionK>" if token == REGION_TOKEN else "only a learned answer holds <seg>"
                raise ValueError(f"{where}: the text holds the raw token {token} ({text[:60]!r}); {use}")
        ids = self._text(text)
        if seg and SEG_TOKEN in text and ids.count(self.seg_id) != text.count(SEG_TOKEN):
            raise ValueError(f"{where}: the tokenizer splits {SEG_TOKEN}; load it with load_tokenizer")
        return ids

    def _image(self, num_views: int) -> list[int]:
        if num_views == 1:
            return [self.image_id] * self.num_image_tokens
        return ([self.view_id] + [self.image_id] * self.num_image_tokens) * num_views

    def _question(self, text: str, regions: list[int], where: str) -> list[int]:
        """A question's ids: each ``<regionK>`` as text plus one ``<region>`` placeholder (K - 1 into ``regions``)."""
        pieces = REGION_NAME.split(text)  # [text, K, text, K, ..., text]
        if len(pieces) == 1:
            return self._plain(text, where)
        ids: list[int] = []
        for n, piece in enumerate(pieces):
            if n % 2 == 0:
                ids += self._plain(piece, where)
            else:
                ids += self._text(f"<region{piece}>") + [self.region_id]
                regions.append(int(piece) - 1)
        return ids

    def _user(self, message: Message, num_views: int, regions: list[int], where: str) -> list[int]:
        ids = self._text(USER_PREFIX)
        for part in message.content:
            if isinstance(part, ImagePart):
                ids += self._image(num_views) + self._text("\n")
            elif isinstance(part, TextPart):
                ids += self._question(part.text, regions, where)
        return ids + self._text(ASSISTANT_PREFIX.rstrip())

    def _dialogue(
        self, messages: Sequence[Message], num_views: int, num_prompts: int, where: str, *, training: bool
    ) -> tuple[list[int], list[int], tuple[int, ...]]:
        """Ids, labels and region index of messages; every ``<regionK>`` checked against ``num_prompts``."""
        ids, labels = [self.bos_id], [IGNORE_INDEX]
        regions: list[int] = []
        for m in messages:
            if m.role == "assistant":
                learned = training and not m.is_masked
                piece = self._plain(" " + m.text, where, seg=learned or not training) + [self.eos_id]
            elif m.role == "user":
                piece = self._user(m, num_views, regions, where)
            else:
                piece = self._plain(m.text + SYSTEM_SUFFIX, where)
            ids += piece
            labels += [IGNORE_INDEX] * len(piece) if m.is_masked else piece
        named = {int(k) for m in messages for k in REGION_NAME.findall(m.text)}
        _check_regions(named, set(regions), num_prompts, where)
        return ids, labels, tuple(regions)

    def _num_views(self, views: str, num_prompts: int, where: str) -> int:
        try:
            plan = ViewPlan.parse(views, self.default_views)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from e
        if plan.kind == "region" and plan.k > num_prompts:
            raise PromptError(f"{where}: the view plan {plan} zooms into a prompt it does not have ({num_prompts})")
        return plan.num_views

    def encode(self, conversation: Conversation) -> Encoded:
        """Ids and labels of a whole conversation (training); PromptError / ValueError name the conversation when
        its ``<regionK>``, prompts, ``<seg>`` tokens, masks or view plan disagree."""
        where = f"conversation {conversation.id!r}"
        num_prompts = len(conversation.prompts)
        num_views = self._num_views(conversation.views, num_prompts, where)
        ids, labels, regions = self._dialogue(conversation.messages, num_views, num_prompts, where, training=True)
        segs = sum(m.text.count(SEG_TOKEN) for m in conversation.messages if m.role == "assistant")
        if segs != len(conversation.masks):
            raise ValueError(
                f"{where}: the answers hold {segs} {SEG_TOKEN} but the conversation has {len(conversation.masks)} "
                f"masks; give one mask per {SEG_TOKEN}, in order"
            )
        enc = self._truncate(ids, labels)
        kept = enc.input_ids.count(self.region_id) if regions else 0
        num_seg = enc.input_ids.count(self.seg_id) if segs else 0
        return replace(enc, region_index=regions[:kept], num_views=num_views, num_seg=num_seg)

    def encode_request(self, messages: Sequence[Message], *, num_views: int = 1, num_prompts: int = 0) -> Encoded:
        """A dialogue that ends with a user turn, ready for the model to generate the answer, with its region index
        (labels all ``IGNORE_INDEX``). PromptError when a ``<regionK>`` and ``num_prompts`` disagree."""
        if not messages or messages[-1].role != "user":
            raise ValueError("a prompt must end with a user message")
        if num_views < 1:
            raise ValueError(f"num_views is {num_views}; a request has at least the global view")
        ids, _, regions = self._dialogue(messages, num_views, num_prompts, "the request", training=False)
        return Encoded(ids, [IGNORE_INDEX] * len(ids), region_index=regions, num_views=num_views)

    def encode_prompt(self, messages: Sequence[Message], *, num_views: int = 1, num_prompts: int = 0) -> list[int]:
        """Ids of a dialogue that ends with a user turn, ready for the model to generate the answer."""
        return self.encode_request(messages, num_views=num_views, num_prompts=num_prompts).input_ids

    def _truncate(self, ids: list[int], labels: list[int]) -> Encoded:
        if len(ids) <= self.max_length:
            return Encoded(ids, labels)
        # keep the start (image tokens and first question); training refuses cut conversations instead
        # (pipeline.whole_conversations: a cut answer has no </s> and teaches the model not to end)
        return Encoded(ids[: self.max_length], labels[: self.max_length], truncated=True)


def _check_regions(named: set[int], placed: set[int], num_prompts: int, where: str) -> None:
    """PromptError unless every ``<regionK>`` of the text is a prompt and every prompt is named in a question."""
    unknown = sorted(k for k in named if not 1 <= k <= num_prompts)
    if unknown:
        raise PromptError(
            f"{where}: the text names <region{unknown[0]}> but there are {num_prompts} prompts; give one prompt per "
            "<regionK> (K from 1) or fix the text"
        )
    unnamed = [k for k in range(num_prompts) if k not in placed]
    if unnamed:
        raise PromptError(
            f"{where}: prompt <region{unnamed[0] + 1}> is never named in a question ({num_prompts} prompts); name "
            "each as <regionK> in a user turn or drop it"
        )
