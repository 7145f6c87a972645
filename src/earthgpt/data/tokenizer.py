"""The text tokenizer: train a small byte-level BPE offline, or load any local HF tokenizer (e.g. LLaMA-2's)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

log = logging.getLogger(__name__)

IMAGE_TOKEN = "<image>"
PAD_TOKEN = "<pad>"
BOS_TOKEN = "<s>"
EOS_TOKEN = "</s>"
UNK_TOKEN = "<unk>"
SPECIAL_TOKENS = (UNK_TOKEN, BOS_TOKEN, EOS_TOKEN, PAD_TOKEN, IMAGE_TOKEN)


def train_tokenizer(texts: Iterable[str], vocab_size: int = 2048, min_frequency: int = 2) -> PreTrainedTokenizerFast:
    """A byte-level BPE trained on ``texts``, digits split one by one (as LLaMA does), with our special tokens.

    Byte-level means every string encodes (no unknown characters); single digits keep box coordinates learnable.
    """
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
        additional_special_tokens=[IMAGE_TOKEN],
    )
    log.info("trained a byte-level BPE tokenizer with %d tokens", len(fast))
    return fast


def load_tokenizer(directory: str | Path) -> PreTrainedTokenizerBase:
    """A tokenizer saved in ``directory`` (ours, or a local LLaMA-2 one), with the image and pad tokens ensured.

    Tokens that a foreign tokenizer lacks are added; the model's embedding table must then be resized to
    ``len(tokenizer)``. Nothing is downloaded: ``directory`` must hold tokenizer files.
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
    return tok


def ensure_special_tokens(tok: PreTrainedTokenizerBase) -> None:
    """Add ``<image>`` and a pad token to a tokenizer that lacks them."""
    if IMAGE_TOKEN not in tok.get_vocab():
        tok.add_special_tokens({"additional_special_tokens": [IMAGE_TOKEN]})
    if tok.pad_token is None:
        tok.add_special_tokens({"pad_token": PAD_TOKEN})


def image_token_id(tok: PreTrainedTokenizerBase) -> int:
    ids = tok.convert_tokens_to_ids(IMAGE_TOKEN)
    if not isinstance(ids, int):
        raise TypeError(f"expected one id for {IMAGE_TOKEN}, got {ids}")
    return ids
