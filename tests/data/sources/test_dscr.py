"""DSCR source on a fake of its csv split files and flat bmp folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from earthgpt.data.records import SceneRecord
from earthgpt.data.sources import DataRootError, Skip, get_source
from tests.data.fakes import dscr as fake


def test_fake_dscr_train_split(tmp_path: Path) -> None:
    src = get_source("dscr")(fake.write(tmp_path), split="train")
    recs = {r.id: r for r in src if isinstance(r, SceneRecord)}
    assert len(recs) == 4 and len(src.categories) == 7
    assert recs["20161106诺福克_3"].label == "aircraft carrier"
    assert recs["20161106诺福克_3"].image.path == "Images/20161106诺福克_3.bmp"
    assert recs["transpose201904212009336007_"].label == "civilian ship"
    assert recs["rotate_90201904212011446139_"].label == "assault ship"


def test_fake_dscr_val_and_test(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    val = [r for r in get_source("dscr")(root, split="val") if isinstance(r, SceneRecord)]
    assert [(r.id, r.label, r.split) for r in val] == [("100001307_1", "cruiser", "val")]
    test = {r.id: r.label for r in get_source("dscr")(root, split="test") if isinstance(r, SceneRecord)}
    assert test == {"20141104_3": "destroyer", "P1422_1": "other military ship"}


def test_fake_dscr_bad_rows(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    with open(root / "train.csv", "a", encoding="utf-8") as f:
        f.write("gone_1.bmp,cruiser\nbroken line without comma\nweird_1.bmp,submarine\n")
    (root / "Images" / "weird_1.bmp").write_bytes(b"BM garbage")
    out = list(get_source("dscr")(root, split="train"))
    skips = {s.item: s.reason for s in out if isinstance(s, Skip)}
    assert skips == {
        "gone_1.bmp": "missing_image",
        "train.csv:7": "malformed_annotation",
        "weird_1.bmp": "unknown_class",
    }
    assert sum(isinstance(r, SceneRecord) for r in out) == 4
    with pytest.raises(DataRootError, match=r"train\.csv"):
        get_source("dscr")(tmp_path / "DSCR" / "Images")
