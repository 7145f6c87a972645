"""Location tokens: boxes of the written form become one token per coordinate in the tokenizer and come back as the
paper's text; everything else (labels, counts, malformed boxes) stays text; the choice travels with the tokenizer."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from earthgpt.data.chat_template import IGNORE_INDEX, ChatTemplate
from earthgpt.data.conversation import Conversation, Message
from earthgpt.data.location_tokens import (
    box_tokens_of,
    decode_text,
    from_location,
    location_token,
    location_tokens,
    to_location,
)
from earthgpt.data.records import ImageRef
from earthgpt.data.tokenizer import load_tokenizer, train_tokenizer
from earthgpt.inference.options import text_stop
from earthgpt.pipeline import load_train_run

TEXTS = [
    "USER: Detect all objects ASSISTANT: car [0.125,0.250,0.500,0.750]; person [0.010,0.020,0.030,0.040]",
    "USER: How many cars are there? ASSISTANT: 12",
] * 30

HBB = "Car [0.309,0.264,0.364,0.312]"
OBB = "Car [0.309,0.292,0.352,0.265,0.365,0.286,0.323,0.313]"
ROUND_TRIP = [
    HBB,
    OBB,
    f"{HBB}; Person [0.000,0.100,1.000,0.999]; {OBB}",
    "Car2 [0.100,0.200,0.300,0.400]; type-3 truck [0.500,0.500,0.600,0.700]",
    "12",
    "There are 3 planes, 40% of the area, at 0.5 m per pixel.",
    "Car [0.1,0.2,0.3,0.4]",  # 1 decimal: not the written form, stays text
    "Car [0.100, 0.200, 0.300, 0.400]",  # spaces
    "Car [0.100,0.200,0.300]",  # 3 numbers
    "Car [0.100,0.200,0.300,0.400,0.500]",  # 5 numbers
    "Car [0.100,0.200,1.200,0.400]",  # outside [0, 1]
    "Car [0.100,0.200,0.300,0.400",  # unclosed
    "Car (0.100,0.200,0.300,0.400)",  # parentheses
]


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(TEXTS, vocab_size=300, box_tokens="location")


def test_location_tokens_are_one_per_written_value() -> None:
    names = location_tokens()
    assert len(names) == 1001 and len(set(names)) == 1001
    assert names[0] == "<loc_000>" and names[309] == "<loc_309>" and names[-1] == "<loc_1000>"
    assert to_location(HBB) == "Car [<loc_309><loc_264><loc_364><loc_312>]"
    assert location_token(5, decimals=2) == "<loc_05>"


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_text_round_trips_through_ids(tok, text: str) -> None:
    ids = tok.encode(to_location(text), add_special_tokens=False)
    assert decode_text(tok, ids) == text


def test_each_coordinate_costs_one_token_and_other_numbers_stay_digits(tok) -> None:
    loc = set(tok.convert_tokens_to_ids(location_tokens()))
    ids = tok.encode(to_location(f"{HBB}; 12 [0.1,0.2,0.3,0.4]"), add_special_tokens=False)
    assert [tok.convert_ids_to_tokens(i) for i in ids if i in loc] == [
        "<loc_309>",
        "<loc_264>",
        "<loc_364>",
        "<loc_312>",
    ]
    assert "1" in tok.convert_ids_to_tokens(ids) and "2" in tok.convert_ids_to_tokens(ids)
    text_tok = train_tokenizer(TEXTS, vocab_size=300)
    assert len(tok.encode(to_location(OBB), add_special_tokens=False)) + 15 < len(text_tok.encode(OBB))


def test_malformed_and_noise_are_left_as_text() -> None:
    for text in ROUND_TRIP[4:]:
        assert to_location(text) == text
    assert from_location("no tokens here, [0.1]") == "no tokens here, [0.1]"


def test_decode_is_total_and_linear() -> None:
    assert from_location("<loc_5000><loc_") == "1.000<loc_"  # out of range clamps; a cut token stays text
    assert from_location("x <loc_100> y <loc_200><loc_300>") == "x 0.100 y 0.200,0.300"
    for n in (2_000, 20_000):
        text = "<loc_123>" * n
        t0 = time.perf_counter()
        out = from_location(text)
        elapsed = time.perf_counter() - t0
        assert out.count(",") == n - 1
    assert elapsed < 1.0


def test_chat_template_learns_location_tokens_and_leaves_text_untouched(tok) -> None:
    conv = Conversation(
        id="c1",
        messages=(Message.user("Detect all objects", ImageRef("a.jpg", 64, 32)), Message.assistant(HBB)),
    )
    enc = ChatTemplate(tok, num_image_tokens=3).encode(conv)
    learned = [i for i, lab in zip(enc.input_ids, enc.labels, strict=True) if lab != IGNORE_INDEX]
    assert decode_text(tok, learned).strip() == HBB
    assert tok.convert_tokens_to_ids("<loc_309>") in learned
    text_tok = train_tokenizer(TEXTS, vocab_size=300)
    text_enc = ChatTemplate(text_tok, num_image_tokens=3).encode(conv)
    assert text_tok.decode(text_enc.input_ids, skip_special_tokens=True).endswith(HBB)
    assert len(text_enc.input_ids) > len(enc.input_ids) + 10


def test_stop_strings_see_the_decimal_text(tok) -> None:
    holds = text_stop(tok, ["0.264,0.364"])
    assert holds(tok.encode(to_location(HBB), add_special_tokens=False))
    assert not holds(tok.encode(to_location(OBB.replace("0.292", "0.293")), add_special_tokens=False))


def test_text_is_the_default_and_unchanged(tok) -> None:
    text_tok = train_tokenizer(TEXTS, vocab_size=300)
    assert box_tokens_of(text_tok) == ("text", 3)
    assert len(tok) == len(text_tok) + 1001
    assert text_tok.get_vocab().items() <= tok.get_vocab().items()  # the same BPE, location tokens after its ids


def test_choice_is_saved_with_the_tokenizer_and_checked(tok, tmp_path: Path) -> None:
    tok.save_pretrained(tmp_path)
    loaded = load_tokenizer(tmp_path)
    assert box_tokens_of(loaded) == ("location", 3)
    ids = loaded.encode(to_location(OBB), add_special_tokens=False)
    assert ids == tok.encode(to_location(OBB), add_special_tokens=False)
    assert decode_text(loaded, ids) == OBB

    plain = tmp_path / "plain"
    train_tokenizer(TEXTS, vocab_size=300).save_pretrained(plain)
    config = json.loads((plain / "tokenizer_config.json").read_text())
    config["box_tokens"] = "location"
    (plain / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"plain.*box_tokens=location but lacks 1001 .*<loc_000>"):
        load_tokenizer(plain)
    config["box_tokens"] = "grid"
    (plain / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="box_tokens is 'grid'; choose one of text, location"):
        load_tokenizer(plain)


def test_train_run_checks_box_tokens(tmp_path: Path) -> None:
    run = load_train_run(build=str(tmp_path), out=str(tmp_path / "m"), box_tokens="location")
    assert run.box_tokens == "location"
    with pytest.raises(ValueError, match="box_tokens is 'loc'; choose one of text, location"):
        load_train_run(build=str(tmp_path), out=str(tmp_path / "m"), box_tokens="loc")
