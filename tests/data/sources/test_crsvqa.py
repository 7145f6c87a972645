"""CRSVQA source on a fake of its text/ + image/ layout."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.records import QAPair, VQARecord
from earthgpt.data.sources import Skip, get_source
from earthgpt.data.sources.crsvqa import CRSVQA
from tests.data.fakes import crsvqa as fake


def test_fake_crsvqa_pairs_crlf_and_fullwidth_mark(tmp_path: Path) -> None:
    recs = {r.id: r for r in get_source("crsvqa")(fake.write(tmp_path), split="all") if isinstance(r, VQARecord)}
    assert sorted(recs) == ["P0001_0", "P0002_1", "P0006_2"]
    assert recs["P0001_0"].qa == (
        QAPair("What is the scene of this image?", "harbor"),
        QAPair("How many ships are docked next to the largest building?", "3"),
    )
    assert recs["P0002_1"].image.path == "image/P0002_1.png"
    assert recs["P0006_2"].qa[0].question == "What is the color of the vehicle parked closest to the roundabout?"


def test_fake_crsvqa_hash_split_has_a_test_image(tmp_path: Path) -> None:
    """The evaluation's 10% hash split sends one fake image (with its pairs) to test, the others to train."""
    root = fake.write(tmp_path)
    test = [r for r in CRSVQA(root, split="test", test_fraction=fake.TEST_FRACTION) if isinstance(r, VQARecord)]
    assert [r.id for r in test] == list(fake.TEST_STEMS) == ["P0006_2"]
    assert test[0].split == "test" and [q.answer for q in test[0].qa] == ["white", "no"]
    train = CRSVQA(root, split="train", test_fraction=fake.TEST_FRACTION).items()
    assert train == ["P0001_0", "P0002_1"]
    assert CRSVQA(root, split="test").items() == ["P0002_1", "P0006_2"]  # default 20%: P0002_1 hashes to 0.156


def test_fake_crsvqa_bad_files(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    (root / "text" / "P0003_0.txt").write_bytes(b"Is there a ship?\r\nyes\r\nHow many?\r\n")
    (root / "image" / "P0003_0.png").write_bytes(b"\x89PNG broken")
    (root / "text" / "P0004_0.txt").write_text("Is there a port?\nno\n")
    out = list(get_source("crsvqa")(root, split="all"))
    skips = sorted((s.item, s.reason) for s in out if isinstance(s, Skip))
    assert skips == [
        ("P0003_0", "malformed_annotation"),
        ("P0003_0", "unreadable_image"),
        ("P0004_0", "missing_image"),
    ]
    assert sum(isinstance(r, VQARecord) for r in out) == 3
