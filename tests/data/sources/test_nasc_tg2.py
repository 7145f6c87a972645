"""NaSC-TG2 source on a fake with mixed folder spellings."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.records import SceneRecord
from earthgpt.data.sources import get_source
from tests.data.fakes import nasc_tg2 as fake


def test_fake_nasc_tg2(tmp_path: Path) -> None:
    src = get_source("nasc_tg2")(fake.write(tmp_path), split="all")
    assert src.categories == (
        "beach", "circle farmland", "cloud", "desert", "forest", "mountain", "rectangle farmland", "residential",
        "river", "snowberg",
    )  # fmt: skip
    recs = [r for r in src if isinstance(r, SceneRecord)]
    assert sorted(r.label for r in recs) == ["beach", "circle farmland", "snowberg"]
    assert all(r.image.sensor == "Tiangong-2" and r.image.width == 16 for r in recs)
