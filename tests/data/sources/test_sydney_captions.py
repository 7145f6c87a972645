"""Sydney-Captions source on a fake of its Karpathy ``dataset.json`` + ``imgs/*.tif``."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.records import CaptionRecord
from earthgpt.data.sources import get_source
from tests.data.fakes import sydney_captions as fake


def test_fake_sydney_captions(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    cls = get_source("sydney_captions")
    (train,) = list(cls(root, split="train"))
    assert isinstance(train, CaptionRecord)
    assert train.captions[-1] == "Lots of houses ." and train.captions.count(train.captions[0]) == 4
    assert [r.id for r in cls(root, split="test")] == ["556"]
