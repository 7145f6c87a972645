"""CLRS source on a fake with hyphenated class folders."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.records import SceneRecord
from earthgpt.data.sources import get_source
from tests.data.fakes import clrs as fake


def test_fake_clrs(tmp_path: Path) -> None:
    src = get_source("clrs")(fake.write(tmp_path), split="all")
    assert len(src.categories) == 25 and src.categories[1] == "bare land"
    labels = {r.id: r.label for r in src if isinstance(r, SceneRecord)}
    assert labels == {
        "airport/airport_0001": "airport",
        "bare-land/bare-land_0001": "bare land",
        "railway-station/railway-station_0600": "railway station",
    }
