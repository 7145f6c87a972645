"""RSSCN7 source on the real 210-image copy: letter prefixes stripped from the class folders."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from earthgpt.data.records import SceneRecord
from earthgpt.data.sources import get_source


def test_real_rsscn7_clean_names_and_counts(data_root: Path) -> None:
    src = get_source("rsscn7")(data_root / "rsscn7", split="all")
    assert src.categories == ("grass", "field", "industry", "river lake", "forest", "resident", "parking")
    records = [r for r in src if isinstance(r, SceneRecord)]
    assert len(records) == 210
    assert Counter(r.label for r in records) == {c: 30 for c in src.categories}
    by_path = {r.image.path: r for r in records}
    river = by_path["dRiverLake/d001.jpg"]
    assert river.label == "river lake" and river.id == "dRiverLake/d001"
    assert (river.image.width, river.image.height) == (400, 400)
    assert by_path["fResident/f001.jpg"].label == "resident"


def test_real_rsscn7_splits_partition(data_root: Path) -> None:
    cls = get_source("rsscn7")
    train = [r.image.path for r in cls(data_root / "rsscn7", split="train")]
    test = [r.image.path for r in cls(data_root / "rsscn7", split="test")]
    assert len(train) + len(test) == 210 and not set(train) & set(test)
    assert all(r.split == "test" for r in cls(data_root / "rsscn7", split="test"))
