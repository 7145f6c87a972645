"""DOTA object classification: one SceneRecord per object, its image the object's window as a Tile."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from earthgpt.data.records import SceneRecord, Tile
from earthgpt.data.sources import Skip, get_source
from tests.data.sources.test_dota import make_dota_root


def test_one_record_per_object_with_its_window(data_root: Path, tmp_path: Path) -> None:
    source = get_source("dota_cls")(make_dota_root(data_root, tmp_path), "train")
    out = list(source)
    records = [r for r in out if isinstance(r, SceneRecord)]
    assert len(records) == 600 and not [s for s in out if isinstance(s, Skip)]
    first = records[0]  # P0706 line 1: 1054 1028 1063 1011 1111 1040 1112 1062 ship 1
    assert (first.id, first.label, first.image.path) == ("P0706/0", "ship", "train/images/P0706.png")
    assert first.image.tile == Tile(x=1054, y=1011, width=57, height=51, source_width=1111, source_height=1182)
    assert (first.image.width, first.image.height) == (57, 51)  # the window, clipped at the image's right edge
    assert "large vehicle" in {r.label for r in records} and first.categories == source.categories


def test_margin_grows_the_window(data_root: Path, tmp_path: Path) -> None:
    source = get_source("dota_cls")(make_dota_root(data_root, tmp_path), "train", margin=0.5)
    record = next(r for r in source.load("P1888") if isinstance(r, SceneRecord))
    # 674 375 683 375 684 394 675 395: box 674..684 x 375..395 (10 x 20) -> +5 / +10 on each side
    assert record.image.tile == Tile(x=669, y=365, width=20, height=40, source_width=712, source_height=557)
    with pytest.raises(ValueError, match="margin"):
        get_source("dota_cls")(make_dota_root(data_root, tmp_path / "x"), "train", margin=math.nan)


def test_bad_objects_are_skipped(data_root: Path, tmp_path: Path) -> None:
    root = make_dota_root(data_root, tmp_path, copy=True)
    labels = root / "train" / "labelTxt" / "P1888.txt"
    labels.write_text(labels.read_text() + "674 375 683 375 684 394 675 395 zeppelin 0\n1 1 1 1 1 1 1 1 ship 0\n")
    out = list(get_source("dota_cls")(root, "train").load("P1888"))
    assert [s.reason for s in out if isinstance(s, Skip)] == ["unknown_class", "zero_area_box"]
    assert sum(isinstance(r, SceneRecord) for r in out) == 64
