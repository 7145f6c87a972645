"""RSITMD source on a fake of ``dataset_RSITMD.json`` + ``images/*.tif``."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.records import CaptionRecord
from earthgpt.data.sources import get_source
from tests.data.fakes import rsitmd as fake


def test_fake_rsitmd(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    cls = get_source("rsitmd")
    (train,) = list(cls(root, split="train"))
    assert isinstance(train, CaptionRecord) and train.image.path == "images/baseballfield_452.tif"
    assert train.captions[1] == "Two baseball fields are surrounded by green trees." and len(train.captions) == 5
    assert list(cls(root, split="val")) == []
    assert [r.id for r in cls(root, split="test")] == ["boat_10"]
