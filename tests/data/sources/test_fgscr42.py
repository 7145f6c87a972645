"""FGSCR-42 source on a fake with numbered category folders."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.records import SceneRecord
from earthgpt.data.sources import get_source
from earthgpt.data.sources.fgscr42 import class_folder_label
from tests.data.fakes import fgscr42 as fake


def test_class_folder_label() -> None:
    assert class_folder_label("1.Nimitz-class_aircraft_carrier") == "nimitz class aircraft carrier"
    assert class_folder_label("42_Container ship") == "container ship"


def test_fake_fgscr42(tmp_path: Path) -> None:
    src = get_source("fgscr42")(fake.write(tmp_path), split="all")
    assert src.categories == (
        "nimitz class aircraft carrier",
        "container ship",
        "arleigh burke class destroyer",
    )  # folder (name) order: "1.", "42.", "5."
    recs = [r for r in src if isinstance(r, SceneRecord)]
    assert len(recs) == 4
    r = next(r for r in recs if r.id == "5.Arleigh_Burke-class_destroyer/0001")
    assert r.label == "arleigh burke class destroyer" and (r.image.width, r.image.height) == (40, 24)
