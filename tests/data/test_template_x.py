"""The EarthGPT-X chat template: views, <regionK> placeholders and <seg> tokens; the plain path unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from earthgpt.data.chat_template import IGNORE_INDEX, ChatTemplate
from earthgpt.data.conversation import Conversation, Message
from earthgpt.data.records import ImageRef
from earthgpt.data.tokenizer import (
    IMAGE_TOKEN,
    SEG_TOKEN,
    image_token_id,
    load_tokenizer,
    region_token_id,
    seg_token_id,
    train_tokenizer,
    view_token_id,
)
from earthgpt.geometry.boxes import HBB
from earthgpt.geometry.prompts import PromptError, RleMask, VisualPrompt

IMAGE = ImageRef(path="a.jpg", width=64, height=32)
TEXTS = ["USER: What is <region1> left of <region2>? ASSISTANT: a car <seg> and a ship <seg>"] * 40
N = 3  # image tokens per view
BOX = VisualPrompt.box(HBB(1, 1, 9, 9))
MASK = RleMask.from_array(__import__("numpy").ones((32, 64), bool))


@pytest.fixture(scope="module")
def tok() -> PreTrainedTokenizerFast:
    return train_tokenizer(TEXTS, vocab_size=320)


def _conv(question: str, answer: str, **x: object) -> Conversation:
    return Conversation("c7", (Message.user(question, IMAGE), Message.assistant(answer)), **x)  # type: ignore[arg-type]


def _old_layout(tok: PreTrainedTokenizerFast, question: str, answer: str) -> tuple[list[int], list[int]]:
    """The ids and labels of the template before EarthGPT-X, written out piece by piece."""

    def enc(text: str) -> list[int]:
        return list(tok.encode(text, add_special_tokens=False))

    user = enc("USER: ") + [image_token_id(tok)] * N + enc("\n") + enc(question) + enc(" ASSISTANT:")
    reply = enc(" " + answer) + [tok.eos_token_id]
    return [tok.bos_token_id, *user, *reply], [IGNORE_INDEX] * (1 + len(user)) + reply


def test_a_plain_conversation_encodes_exactly_as_before(tok) -> None:
    enc = ChatTemplate(tok, N).encode(_conv("What is this image?", "a harbour"))
    assert (enc.input_ids, enc.labels) == _old_layout(tok, "What is this image?", "a harbour")
    assert (enc.region_index, enc.num_views, enc.num_seg) == ((), 1, 0)
    assert view_token_id(tok) not in enc.input_ids


@pytest.mark.parametrize("views", [1, 5])
def test_each_view_gets_a_separator_and_its_image_tokens(tok, views: int) -> None:
    plan = {1: "global", 5: "grid:2"}[views]
    enc = ChatTemplate(tok, N).encode(_conv("What is here?", "ships", views=plan))
    image, view = image_token_id(tok), view_token_id(tok)
    assert enc.input_ids.count(image) == N * views and enc.num_views == views
    if views == 1:
        assert view not in enc.input_ids
    else:
        start = enc.input_ids.index(view)
        assert enc.input_ids[start : start + views * (N + 1)] == ([view] + [image] * N) * views
    assert ChatTemplate(tok, N, default_views="grid:2").encode(_conv("Q?", "A")).num_views == 5


@pytest.mark.parametrize("count", [0, 1, 3])
def test_every_region_name_in_a_question_is_followed_by_a_placeholder(tok, count: int) -> None:
    names = " and ".join(f"<region{k}>" for k in (range(count, 0, -1) if count else ()))
    question = f"What are {names} and again <region1>?" if count else "What is here?"
    answer = "Region 1 is a car; see <region1>" if count else "ships"
    enc = ChatTemplate(tok, N).encode(_conv(question, answer, prompts=(BOX,) * count))
    want = (list(range(count - 1, -1, -1)) + [0]) if count else []
    assert list(enc.region_index) == want
    assert enc.input_ids.count(region_token_id(tok)) == len(want)  # answers keep <regionK> as text only
    placeholder = enc.input_ids.index(region_token_id(tok)) if count else None
    if placeholder is not None:  # right after the text "<regionK>"
        assert tok.decode(enc.input_ids[placeholder - 4 : placeholder]).endswith(f"<region{count}>")
        assert enc.labels[placeholder] == IGNORE_INDEX


@pytest.mark.parametrize("segs", [0, 1, 2])
def test_seg_tokens_are_single_labelled_ids(tok, segs: int) -> None:
    answer = " and ".join(["a ship <seg>"] * segs) if segs else "no ship"
    enc = ChatTemplate(tok, N).encode(_conv("Segment all ships", answer, masks=(MASK,) * segs))
    seg = seg_token_id(tok)
    positions = [i for i, t in enumerate(enc.input_ids) if t == seg]
    assert len(positions) == segs == enc.num_seg
    assert all(enc.labels[i] == seg for i in positions)
    learned = [t for t, lab in zip(enc.input_ids, enc.labels, strict=True) if lab != IGNORE_INDEX]
    assert tok.decode(learned) == f" {answer}</s>"


def test_truncation_keeps_only_the_seg_and_regions_it_keeps(tok) -> None:
    conv = _conv("What is <region1>?", "a ship <seg> " + "and more " * 30 + "<seg>", prompts=(BOX,), masks=(MASK,) * 2)
    full = ChatTemplate(tok, N).encode(conv)
    cut = ChatTemplate(tok, N, max_length=len(full.input_ids) - 3).encode(conv)
    assert full.num_seg == 2 and cut.truncated and cut.num_seg == 1 and cut.region_index == (0,)


@pytest.mark.parametrize(
    ("question", "answer", "extra", "error", "match"),
    [
        ("What is <region2>?", "a car", {"prompts": (BOX,)}, PromptError, r"'c7'.*names <region2> but there are 1"),
        ("What is <region1>?", "a car", {}, PromptError, r"'c7'.*names <region1> but there are 0 prompts"),
        ("What is here?", "a car", {"prompts": (BOX,)}, PromptError, r"'c7'.*<region1> is never named"),
        ("What is <region1>?", "see <region2>", {"prompts": (BOX,)}, PromptError, r"names <region2>"),
        ("Segment it", "it <seg>", {}, ValueError, r"'c7'.*1 <seg> but the conversation has 0 masks"),
        ("Segment it", "it", {"masks": (MASK,)}, ValueError, r"'c7'.*0 <seg> but .* 1 masks"),
        ("Segment <seg>", "it", {}, ValueError, r"'c7'.*raw token <seg>"),
        ("What is <region>?", "it", {}, ValueError, r"'c7'.*raw token <region>.*<regionK>"),
        ("Zoom", "it", {"views": "region:1"}, PromptError, r"'c7'.*region:1 zooms into a prompt it does not have"),
        ("Zoom", "it", {"views": "grid:99"}, ValueError, r"'c7'.*view plan 'grid:99'"),
    ],
)
def test_inconsistent_conversations_are_named(tok, question, answer, extra, error, match) -> None:
    with pytest.raises(error, match=match):
        ChatTemplate(tok, N).encode(_conv(question, answer, **extra))


def test_the_request_form_is_the_training_prefix_with_its_regions(tok) -> None:
    t = ChatTemplate(tok, N)
    conv = _conv("What is <region2> beside <region1>?", "a car", prompts=(BOX, BOX), views="grid:2")
    request = t.encode_request(conv.messages[:1], num_views=5, num_prompts=2)
    full = t.encode(conv)
    assert full.input_ids[: len(request.input_ids)] == request.input_ids
    assert request.region_index == (1, 0) and set(request.labels) == {IGNORE_INDEX}
    assert t.encode_prompt(conv.messages[:1], num_views=5, num_prompts=2) == request.input_ids
    with pytest.raises(PromptError, match=r"the request: .*names <region2> but there are 1"):
        t.encode_prompt(conv.messages[:1], num_prompts=1)


def test_a_foreign_tokenizer_gains_the_x_tokens_after_its_own_ids(tmp_path: Path) -> None:
    vocab = {t: i for i, t in enumerate(["<unk>", "<s>", "</s>", "a", "b"])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    fast.save_pretrained(tmp_path)
    before = json.loads((tmp_path / "tokenizer.json").read_text())["model"]["vocab"]
    loaded = load_tokenizer(tmp_path)
    assert {t: loaded.convert_tokens_to_ids(t) for t in before} == before
    new = [image_token_id(loaded), region_token_id(loaded), seg_token_id(loaded), view_token_id(loaded)]
    assert sorted(new) == list(range(5, 9)) and IMAGE_TOKEN in loaded.get_vocab()
    assert loaded.encode(f"a {SEG_TOKEN} b", add_special_tokens=False).count(seg_token_id(loaded)) == 1
    with pytest.raises(KeyError, match="no <seg> token"):
        seg_token_id(fast)
