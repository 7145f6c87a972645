"""UCM-Captions source on a fake of its Karpathy ``dataset.json`` + ``imgs/*.tif``."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.records import CaptionRecord
from earthgpt.data.sources import get_source
from tests.data.fakes import ucm_captions as fake


def test_fake_ucm_captions_splits_and_captions(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    cls = get_source("ucm_captions")
    train = {r.id: r for r in cls(root, split="train") if isinstance(r, CaptionRecord)}
    assert sorted(train) == ["1", "2"]
    assert train["1"].captions[3] == "It is a piece of cropland ." and len(train["1"].captions) == 5
    assert train["1"].image.path == "imgs/1.tif" and train["1"].image.sensor == "USGS National Map"
    assert [r.id for r in cls(root, split="val")] == ["1681"]
    assert [r.id for r in cls(root, split="test")] == ["1891"]
