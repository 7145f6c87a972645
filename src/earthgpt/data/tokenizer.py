"""The text tokenizer: train a small byte-level BPE offline, or load any local HF tokenizer (e.g. LLaMA-2's)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

from earthgpt.data.location_tokens import add_location_tokens, box_tokens_of, check_box_tokens

log = logging.getLogger(__name__)

IMAGE_TOKEN = "<image>"
PAD_TOKEN = "<pad>"
BOS_TOKEN = "<s>"
EOS_TOKEN = "</s>"
UNK_TOKEN = "<unk>"
REGION_TOKEN = "<region>"
"""EarthGPT-X: a placeholder after each ``<regionK>`` of a question; the model puts the region's feature there."""
SEG_TOKEN = "<seg>"
"""EarthGPT-X: a token the model predicts in an answer; its last hidden state drives the mask decoder."""
VIEW_TOKEN = "<view>"
"""EarthGPT-X: the separator before each view's image placeholders when a sample has more than one view."""
X_TOKENS = (REGION_TOKEN, SEG_TOKEN, VIEW_TOKEN)
SPECIAL_TOKENS = (UNK_TOKEN, BOS_TOKEN, EOS_TOKEN, PAD_TOKEN, IMAGE_TOKEN, *X_TOKENS)


def train_tokenizer(
    texts: Iterable[str], vocab_size: int = 2048, min_frequency: int = 2, box_tokens: str = "text"
) -> PreTrainedTokenizerFast:
    """A byte-level BPE trained on ``texts``, digits split one by one (as LLaMA does), with our special tokens.

    Byte-level means every string encodes (no unknown characters); single digits keep box coordinates learnable.
    ``box_tokens="location"`` then adds the 1001 location tokens (data/location_tokens.py) after the BPE's ids: the
    BPE itself is the one ``"text"`` trains, so the two differ only in how boxes are tokenised.
    """
    choice = check_box_tokens(box_tokens)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token=UNK_TOKEN,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        additional_special_tokens=[IMAGE_TOKEN, *X_TOKENS],
    )
    if choice == "location":
        add_location_tokens(fast)
    log.info("trained a byte-level BPE tokenizer with %d tokens (box_tokens=%s)", len(fast), choice)
    return fast


def load_tokenizer(directory: str | Path) -> PreTrainedTokenizerBase:
    """A tokenizer saved in ``directory`` (ours, or a local LLaMA-2 one), with the image, EarthGPT-X and pad tokens
    ensured.

    Tokens that a foreign tokenizer lacks are added; the model's embedding table must then be resized to
    ``len(tokenizer)``. Nothing is downloaded: ``directory`` must hold tokenizer files. A tokenizer saved with
    ``box_tokens="location"`` must hold its location tokens (ValueError with the fix otherwise).
    """
    d = Path(directory)
    if not d.is_dir():
        raise FileNotFoundError(f"tokenizer directory {d} does not exist; pass a folder holding tokenizer.json")
    if not (d / "tokenizer.json").is_file() and not (d / "tokenizer.model").is_file():
        raise FileNotFoundError(
            f"{d / 'tokenizer.json'} is missing (and there is no sentencepiece tokenizer.model): copy the tokenizer "
            "files saved with the model into this folder"
        )
    if not (d / "tokenizer_config.json").is_file():
        raise FileNotFoundError(
            f"{d / 'tokenizer_config.json'} is missing (it names the bos, eos and pad tokens): copy the tokenizer "
            "files saved with the model into this folder"
        )
    tok = AutoTokenizer.from_pretrained(str(d), local_files_only=True)
    ensure_special_tokens(tok)
    try:
        box_tokens_of(tok)
    except ValueError as e:
        raise ValueError(f"{d}: {e}") from e
    return tok


def ensure_special_tokens(tok: PreTrainedTokenizerBase) -> None:
    """Add ``<image>``, the EarthGPT-X tokens (``<region>``, ``<seg>``, ``<view>``) and a pad token to a tokenizer
    that lacks them, after its own ids (the ids it had stay the same)."""
    vocab = tok.get_vocab()
    missing = [t for t in (IMAGE_TOKEN, *X_TOKENS) if t not in vocab]
    if missing:
        tok.add_special_tokens({"additional_special_tokens": missing}, replace_extra_special_tokens=False)
    if tok.pad_token is None:
        tok.add_special_tokens({"pad_token": PAD_TOKEN})


def _token_id(tok: PreTrainedTokenizerBase, token: str) -> int:
    """The one id of a special token; KeyError with the fix when the tokenizer lacks it."""
    if token not in tok.get_vocab():
        raise KeyError(f"the tokenizer has no {token} token; load it with earthgpt.data.tokenizer.load_tokenizer")
    ids = tok.convert_tokens_to_ids(token)
    if not isinstance(ids, int):
        raise TypeError(f"expected one id for {token}, got {ids}")
    return ids


def image_token_id(tok: PreTrainedTokenizerBase) -> int:
    return _token_id(tok, IMAGE_TOKEN)


def region_token_id(tok: PreTrainedTokenizerBase) -> int:
    return _token_id(tok, REGION_TOKEN)


def seg_token_id(tok: PreTrainedTokenizerBase) -> int:
    return _token_id(tok, SEG_TOKEN)


def view_token_id(tok: PreTrainedTokenizerBase) -> int:
    return _token_id(tok, VIEW_TOKEN)
