"""The chat template: exact label masking, image token expansion, prompt form, truncation; the tokenizer."""

from __future__ import annotations

import pytest

from earthgpt.data.chat_template import IGNORE_INDEX, ChatTemplate
from earthgpt.data.conversation import Conversation, Message
from earthgpt.data.records import ImageRef
from earthgpt.data.tokenizer import IMAGE_TOKEN, image_token_id, load_tokenizer, train_tokenizer

IMAGE = ImageRef(path="a.jpg", width=64, height=32)
TEXTS = [
    "USER: What is the category of this RS image? ASSISTANT: dense residential",
    "USER: Detect all objects ASSISTANT: car [0.125,0.250,0.500,0.750]; person [0.010,0.020,0.030,0.040]",
] * 40


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(TEXTS, vocab_size=320)


def _conv() -> Conversation:
    return Conversation(
        id="c1",
        messages=(
            Message.user("What is the category?", IMAGE),
            Message.assistant("dense residential"),
            Message.user("Detect all objects"),
            Message.assistant("car [0.125,0.250,0.500,0.750]"),
        ),
    )


def test_labels_cover_exactly_the_assistant_answers_and_eos(tok) -> None:
    t = ChatTemplate(tok, num_image_tokens=7)
    enc = t.encode(_conv())
    assert len(enc.input_ids) == len(enc.labels)
    learned = [i for i, lab in zip(enc.input_ids, enc.labels, strict=True) if lab != IGNORE_INDEX]
    text = tok.decode(learned)
    assert text == " dense residential</s> car [0.125,0.250,0.500,0.750]</s>"
    # wherever a label is set it equals the input id (teacher forcing; the model shifts)
    assert all(lab in (IGNORE_INDEX, i) for i, lab in zip(enc.input_ids, enc.labels, strict=True))


def test_image_tokens_expand_once_in_the_first_turn(tok) -> None:
    t = ChatTemplate(tok, num_image_tokens=7)
    ids = t.encode(_conv()).input_ids
    img = image_token_id(tok)
    positions = [i for i, x in enumerate(ids) if x == img]
    assert len(positions) == 7 and positions == list(range(positions[0], positions[0] + 7))
    assert ids[0] == tok.bos_token_id


def test_prompt_is_the_training_prefix(tok) -> None:
    """The generation prompt equals the training ids up to the first answer: train and inference agree."""
    t = ChatTemplate(tok, num_image_tokens=3)
    conv = _conv()
    full = t.encode(conv).input_ids
    prompt = t.encode_prompt(conv.messages[:1])
    assert full[: len(prompt)] == prompt
    assert tok.decode(prompt[-3:]).endswith("ASSISTANT:")
    with pytest.raises(ValueError, match="end with a user"):
        t.encode_prompt(conv.messages[:2])


def test_truncation_keeps_the_start_and_flags_it(tok) -> None:
    t = ChatTemplate(tok, num_image_tokens=5, max_length=12)
    enc = t.encode(_conv())
    assert enc.truncated and len(enc.input_ids) == 12 and len(enc.labels) == 12
    assert ChatTemplate(tok, num_image_tokens=5).encode(_conv()).truncated is False


def test_tokenizer_round_trip_and_digits_split(tok, tmp_path) -> None:
    text = "car [0.125,0.250]; façade 東京 ✓"
    ids = tok.encode(text, add_special_tokens=False)
    assert tok.decode(ids) == text  # byte-level: any text survives
    pieces = tok.convert_ids_to_tokens(tok.encode("0.125", add_special_tokens=False))
    assert pieces == ["0", ".", "1", "2", "5"]
    tok.save_pretrained(tmp_path)
    again = load_tokenizer(tmp_path)
    assert again.encode(text, add_special_tokens=False) == ids
    assert IMAGE_TOKEN in again.get_vocab() and again.pad_token_id is not None


def test_load_tokenizer_names_a_missing_directory(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="tokenizer directory"):
        load_tokenizer(tmp_path / "nope")
