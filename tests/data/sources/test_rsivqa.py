"""RSIVQA source on a fake of its txt question files."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.records import QAPair, VQARecord
from earthgpt.data.sources import Skip, get_source
from earthgpt.data.sources.rsivqa import parse_line
from tests.data.fakes import rsivqa as fake


def test_parse_line() -> None:
    assert parse_line("1.tif:what is the theme of this picture?farmland") == (
        "1.tif", "what is the theme of this picture?", "farmland",
    )  # fmt: skip
    assert parse_line("1.tif:no question mark here") is None
    assert parse_line("no colon?yes") is None


def test_fake_rsivqa_all(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    with open(root / "UCM" / "ucm_vqa.txt", "a", encoding="utf-8") as f:
        f.write("broken line without separators\n2.tif:is there a river?yes\n")
    out = list(get_source("rsivqa")(root, split="all"))
    recs = {r.id: r for r in out if isinstance(r, VQARecord)}
    assert sorted(recs) == ["DOTA/P0003", "UCM/1", "UCM/1001"]
    assert recs["UCM/1"].qa == (
        QAPair("what is the theme of this picture?", "farmland"),
        QAPair("is there a road in this picture?", "no"),
    )
    assert recs["DOTA/P0003"].qa[0].answer == "7" and recs["DOTA/P0003"].image.path == "DOTA/images/P0003.png"
    skips = {s.item: s.reason for s in out if isinstance(s, Skip)}
    assert skips == {"UCM/ucm_vqa.txt:4": "malformed_annotation", "UCM/2.tif": "missing_image"}


def test_fake_rsivqa_split_partition(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    cls = get_source("rsivqa")
    train = {r.id for r in cls(root, split="train", test_fraction=0.5) if isinstance(r, VQARecord)}
    test = {r.id for r in cls(root, split="test", test_fraction=0.5) if isinstance(r, VQARecord)}
    assert train | test == {"DOTA/P0003", "UCM/1", "UCM/1001"} and not train & test
