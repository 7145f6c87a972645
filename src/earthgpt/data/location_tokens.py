"""Quantised location tokens: a box's coordinates as one token each inside the tokenizer, the paper's text outside.

``box_tokens="text"`` (the default) tokenises a box as its written text: with digits split one by one,
``[0.100,0.200,0.300,0.400]`` costs about 22 tokens. ``box_tokens="location"`` gives the tokenizer one token per
written value, ``<loc_000>`` .. ``<loc_1000>`` (``10**decimals + 1`` of them), and:

* encode: every coordinate of a box in the exact written form (``[x1,y1,x2,y2]`` or 8 numbers, each in [0, 1] with
  ``decimals`` places, no spaces) becomes its token and the commas go (``[<loc_100><loc_200><loc_300><loc_400>]``,
  6 tokens). Numbers outside box brackets (labels, counts, VQA answers) and malformed boxes stay text;
* decode: each run of location tokens is written back as its values joined by ``,``, so the codec, metrics, server
  and chat output see the paper's text only.

The choice is saved with the tokenizer (``box_tokens`` in ``tokenizer_config.json``) and checked when it is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, cast

from tokenizers import AddedToken
from transformers import PreTrainedTokenizerBase

from earthgpt.geometry.codec import DEFAULT_DECIMALS

BoxTokens = Literal["text", "location"]
BOX_TOKENS: tuple[BoxTokens, ...] = ("text", "location")
CONFIG_KEY = "box_tokens"
"""The ``tokenizer_config.json`` key (an init kwarg of the tokenizer) that records the choice."""
DECIMALS_KEY = "box_decimals"


def check_box_tokens(value: str, where: str = "box_tokens") -> BoxTokens:
    """``value`` as a BoxTokens; ValueError naming ``where`` and the choices otherwise."""
    if value not in BOX_TOKENS:
        raise ValueError(f"{where} is {value!r}; choose one of {', '.join(BOX_TOKENS)}")
    return cast(BoxTokens, value)


def location_token(value: int, decimals: int = DEFAULT_DECIMALS) -> str:
    """The token of the written value ``value / 10**decimals`` (``value`` in 0 .. 10**decimals)."""
    return f"<loc_{value:0{decimals}d}>"


def location_tokens(decimals: int = DEFAULT_DECIMALS) -> list[str]:
    """All location tokens, value 0 first (its id order in the tokenizer)."""
    return [location_token(v, decimals) for v in range(10**decimals + 1)]


def _number(decimals: int) -> str:
    return rf"(?:0\.[0-9]{{{decimals}}}|1\.{'0' * decimals})"


def _box_pattern(decimals: int) -> re.Pattern[str]:
    n = _number(decimals)
    return re.compile(rf"\[({n}(?:,{n}){{3}}(?:(?:,{n}){{4}})?)\]")


_TOKEN_RE = re.compile(r"<loc_([0-9]+)>")


def to_location(text: str, decimals: int = DEFAULT_DECIMALS) -> str:
    """``text`` with each box of the exact written form as ``[<loc_..>..]``; everything else unchanged."""

    def box(m: re.Match[str]) -> str:
        values = (round(float(v) * 10**decimals) for v in m.group(1).split(","))
        return "[" + "".join(location_token(v, decimals) for v in values) + "]"

    return _box_pattern(decimals).sub(box, text) if "[" in text else text


def from_location(text: str, decimals: int = DEFAULT_DECIMALS) -> str:
    """``text`` with every location token written back as its decimal value, adjacent ones joined by ``,``.

    Total and linear: any text is accepted; a token out of range (``<loc_5000>``) is clamped to 1; a location token
    the model emits outside brackets is written as its number all the same.
    """
    if "<loc_" not in text:
        return text
    top = 10**decimals
    out: list[str] = []
    end = -1
    pos = 0
    for m in _TOKEN_RE.finditer(text):
        out.append(text[pos : m.start()])
        if m.start() == end:
            out.append(",")
        value = min(int(m.group(1)), top)
        out.append(f"{value / top:.{decimals}f}")
        pos = end = m.end()
    out.append(text[pos:])
    return "".join(out)


def add_location_tokens(tok: PreTrainedTokenizerBase, decimals: int = DEFAULT_DECIMALS) -> None:
    """Give ``tok`` the location tokens (after its own ids) and record ``box_tokens="location"`` in its config.

    The tokens are added as non-special tokens: ``decode(..., skip_special_tokens=True)`` keeps them, so
    ``from_location`` can write them back.
    """
    missing = [t for t in location_tokens(decimals) if t not in tok.get_vocab()]
    tok.add_tokens([AddedToken(t, single_word=False, normalized=False, special=False) for t in missing])
    tok.init_kwargs[CONFIG_KEY] = "location"
    tok.init_kwargs[DECIMALS_KEY] = decimals


def box_tokens_of(tok: PreTrainedTokenizerBase) -> tuple[BoxTokens, int]:
    """The tokenizer's box representation and decimals; ValueError with the fix when it says "location" but lacks
    location tokens (a tokenizer without the key is "text")."""
    choice = check_box_tokens(str(tok.init_kwargs.get(CONFIG_KEY, "text")), f"tokenizer_config.json {CONFIG_KEY}")
    decimals = int(tok.init_kwargs.get(DECIMALS_KEY, DEFAULT_DECIMALS))
    if choice == "location":
        vocab = tok.get_vocab()
        lacking = [t for t in location_tokens(decimals) if t not in vocab]
        if lacking:
            raise ValueError(
                f"the tokenizer says {CONFIG_KEY}=location but lacks {len(lacking)} of its {10**decimals + 1} location "
                f"tokens (first {lacking[0]}); copy the tokenizer files saved with the model, or set {CONFIG_KEY} to "
                "text in tokenizer_config.json"
            )
    return choice, decimals


def decode_text(tok: PreTrainedTokenizerBase, tokens: Sequence[int]) -> str:
    """Decoded tokens, special tokens dropped, location tokens written back as the paper's decimal text."""
    text = str(tok.decode(list(tokens), skip_special_tokens=True))
    if tok.init_kwargs.get(CONFIG_KEY) == "location":
        return from_location(text, int(tok.init_kwargs.get(DECIMALS_KEY, DEFAULT_DECIMALS)))
    return text
