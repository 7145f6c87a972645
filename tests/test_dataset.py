"""Conversations -> batches: the image cache, the dataset's encoded samples, and the one batch padding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from earthgpt.data.chat_template import IGNORE_INDEX, ChatTemplate
from earthgpt.data.conversation import Conversation, Message
from earthgpt.data.dataset import Collator, ConversationDataset, ImageCache, pad_sequences
from earthgpt.data.imagery import ImageReadError
from earthgpt.data.records import ImageRef
from earthgpt.data.tokenizer import train_tokenizer

RSSCN7_GRASS = ImageRef(path="rsscn7/aGrass/a001.jpg", width=400, height=400)


def test_pad_sequences_right_and_left() -> None:
    ids, mask = pad_sequences([[5, 6, 7], [8]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    ids, mask = pad_sequences([[5, 6, 7], torch.tensor([8])], pad_id=9, left=True)
    assert ids.tolist() == [[5, 6, 7], [9, 9, 8]] and mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    ids, mask = pad_sequences([[], []], pad_id=0)
    assert ids.shape == mask.shape == (2, 0)


def test_collator_pads_ids_labels_and_mask() -> None:
    px = torch.rand(3, 8, 8)
    samples = [
        {"pixel_values": px, "input_ids": torch.tensor([1, 5, 6, 2]), "labels": torch.tensor([-100, -100, 6, 2])},
        {"pixel_values": px * 0, "input_ids": torch.tensor([1, 7]), "labels": torch.tensor([-100, 7])},
    ]
    batch = Collator(pad_id=3)(samples)
    assert batch["input_ids"].tolist() == [[1, 5, 6, 2], [1, 7, 3, 3]]
    assert batch["labels"].tolist() == [[-100, -100, 6, 2], [-100, 7, IGNORE_INDEX, IGNORE_INDEX]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 0, 0]]
    assert batch["pixel_values"].shape == (2, 3, 8, 8) and torch.equal(batch["pixel_values"][0], px)


def test_image_cache_reads_once_and_stays_bounded(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import earthgpt.data.dataset as dataset

    reads: list[Path] = []
    real = dataset.load_image
    monkeypatch.setattr(
        dataset, "load_image", lambda ref, root, **kw: reads.append(ref.resolve(root)) or real(ref, root, **kw)
    )
    cache = ImageCache(data_root, size=32, max_items=1)
    first = cache(RSSCN7_GRASS)
    assert first.shape == (3, 32, 32) and first.dtype == np.float32 and 0.0 <= first.min() <= first.max() <= 1.0
    assert cache(RSSCN7_GRASS) is first and len(reads) == 1  # a hit decodes nothing
    other = ImageRef(path="rsscn7/aGrass/a002.jpg", width=400, height=400)
    cache(other)
    cache(other)
    assert len(reads) == 3  # the cache was full: the second image is decoded each time, never stored
    with pytest.raises(ImageReadError, match=r"a999\.jpg"):
        cache(ImageRef(path="rsscn7/aGrass/a999.jpg", width=1, height=1))


def _template() -> ChatTemplate:
    tok = train_tokenizer(["USER: what is this? ASSISTANT: grass field forest"] * 20, vocab_size=280)
    return ChatTemplate(tok, num_image_tokens=4, max_length=64)


def test_dataset_encodes_each_conversation_with_its_pixels(data_root: Path) -> None:
    template = _template()
    conv = Conversation("c0", (Message.user("what is this?", RSSCN7_GRASS), Message.assistant("grass")))
    dataset = ConversationDataset([conv], template, image_size=32, image_root=data_root)
    assert len(dataset) == 1
    item = dataset[0]
    encoded = template.encode(conv)
    assert item["input_ids"].tolist() == encoded.input_ids and item["labels"].tolist() == encoded.labels
    assert int((item["input_ids"] == template.image_id).sum()) == 4
    assert item["pixel_values"].shape == (3, 32, 32) and float(item["pixel_values"].std()) > 0.01


def test_dataset_lengths_are_the_encoded_token_counts(data_root: Path) -> None:
    template = _template()
    convs = [
        Conversation(f"c{i}", (Message.user("what is this?", RSSCN7_GRASS), Message.assistant("grass " * i)))
        for i in range(1, 4)
    ]
    dataset = ConversationDataset(convs, template, image_size=32, image_root=data_root)
    lengths = dataset.lengths()
    assert lengths == [len(template.encode(c).input_ids) for c in convs]
    assert lengths[0] < lengths[1] < lengths[2] and not dataset.images._items  # no image read for them


def test_dataset_pixels_are_contiguous_and_stay_cached_across_epochs(
    data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A strided [3, S, S] view made every batch stack several times slower; the loop re-reads a dataset each
    epoch, and the cache must serve the second epoch without decoding."""
    import earthgpt.data.dataset as dataset_module
    from earthgpt.training.sampler import BatchStream

    reads: list[ImageRef] = []
    real = dataset_module.load_image
    monkeypatch.setattr(
        dataset_module, "load_image", lambda ref, root, **kw: reads.append(ref) or real(ref, root, **kw)
    )
    refs = [ImageRef(path=f"rsscn7/aGrass/a00{i}.jpg", width=400, height=400) for i in range(1, 5)]
    convs = [Conversation(f"c{i}", (Message.user("what?", r), Message.assistant("grass"))) for i, r in enumerate(refs)]
    dataset = ConversationDataset(convs, _template(), image_size=32, image_root=data_root)
    assert dataset[0]["pixel_values"].is_contiguous()
    stream = BatchStream(dataset, Collator(0), batch_size=2, seed=0, shuffle=True, rank=0, world_size=1)
    batches = iter(stream)
    for _ in range(6):  # three epochs of two batches
        next(batches)
    assert stream.position.epoch == 3 and sorted(r.path for r in reads) == sorted(r.path for r in refs)


def test_dataset_refuses_conversations_without_an_image(tmp_path: Path) -> None:
    convs = [Conversation("text-only", (Message.user("hello"), Message.assistant("hi")))]
    with pytest.raises(ValueError, match="1 conversations have no image \\(first: text-only\\)"):
        ConversationDataset(convs, _template(), image_size=32, image_root=tmp_path)


def test_dataset_skips_an_unreadable_image_and_reports_it(data_root: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.jpg"
    good.write_bytes(RSSCN7_GRASS.resolve(data_root).read_bytes())
    (tmp_path / "cut.jpg").write_bytes(good.read_bytes()[:300])  # a truncated JPEG
    convs = [
        Conversation(name, (Message.user("what is this?", ImageRef(path=f"{name}.jpg", width=400, height=400)),
                            Message.assistant(name)))
        for name in ("good", "cut")
    ]  # fmt: skip
    template = _template()
    dataset = ConversationDataset(convs, template, image_size=32, image_root=tmp_path)
    item = dataset[1]  # the truncated image's turn: the next readable conversation takes its place
    assert item["input_ids"].tolist() == template.encode(convs[0]).input_ids
    assert list(dataset.unreadable) == ["cut"] and "cut.jpg" in dataset.unreadable["cut"]
    assert dataset[1]["input_ids"].tolist() == item["input_ids"].tolist()  # known bad: skipped without a re-read
    (tmp_path / "good.jpg").write_bytes(b"")
    dataset.images = ImageCache(tmp_path, 32)
    with pytest.raises(ImageReadError, match="no conversation of the corpus has a readable image"):
        dataset[0]
