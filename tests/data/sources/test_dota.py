"""DOTA source on the official devkit example (P0706, P1888) in the release's <split>/{images,labelTxt} layout."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from earthgpt.data.sources import get_source
from earthgpt.data.sources._annotation_formats import read_dota
from earthgpt.geometry import HBB, OBB
from tests.data.sources.detection_helpers import BAD_OBJECT_REASONS, split_output


def make_dota_root(data_root: Path, dest: Path, copy: bool = False) -> Path:
    """A DOTA root whose ``train`` split is the devkit example (linked, or copied when it will be edited)."""
    example = data_root / "dota_devkit_example" / "example"
    if not example.is_dir():
        pytest.skip(f"dota_devkit_example not found under {data_root}")
    dest.mkdir(parents=True, exist_ok=True)
    if copy:
        shutil.copytree(example, dest / "train")
        for p in (dest / "train").rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
    else:
        os.symlink(example, dest / "train")
    return dest


def test_devkit_example_counts_and_a_known_polygon(data_root: Path, tmp_path: Path) -> None:
    source = get_source("dota")(make_dota_root(data_root, tmp_path), "train")
    assert source.items() == ["P0706", "P1888"]
    records, skips = split_output(source)
    assert skips == []
    by_id = {r.id: r for r in records}
    assert len(by_id["P0706"].objects) == 536 and len(by_id["P1888"].objects) == 64
    counts = {
        label: sum(o.label == label for o in by_id["P1888"].objects) for label in ("large vehicle", "small vehicle")
    }
    assert counts == {"large vehicle": 50, "small vehicle": 14}
    # the first object line of P1888: 674 375 683 375 684 394 675 395 small-vehicle 0
    first = by_id["P1888"].objects[0]
    assert (first.label, first.box) == ("small vehicle", OBB((674.0, 375.0, 683.0, 375.0, 684.0, 394.0, 675.0, 395.0)))
    assert (by_id["P0706"].image.path, by_id["P0706"].image.width, by_id["P0706"].image.height) == (
        "train/images/P0706.png",
        1111,
        1182,
    )


def test_header_lines_and_crlf(data_root: Path) -> None:
    path = data_root / "dota_devkit_example" / "example" / "labelTxt" / "P0706.txt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    assert b"\r\n" in path.read_bytes()
    header, lines = read_dota(path)
    assert header == {"imagesource": "GoogleEarth", "gsd": "0.255589285596"}
    assert len(lines) == 536 and lines[0].endswith("ship 1")  # difficult objects are kept


def test_horizontal_kind_encloses_and_clips(data_root: Path, tmp_path: Path) -> None:
    source = get_source("dota")(make_dota_root(data_root, tmp_path), "train", kind="hbb")
    (record,), _ = split_output(source.load("P0706"))
    # first line 1054 1028 1063 1011 1111 1040 1112 1062: x reaches 1112 in a 1111-wide image -> clipped
    assert record.objects[0].box == HBB(1054.0, 1011.0, 1111.0, 1062.0)


def test_versions_change_the_class_list(data_root: Path, tmp_path: Path) -> None:
    root = make_dota_root(data_root, tmp_path)
    assert len(get_source("dota")(root, "train").categories) == 15
    v2 = get_source("dota")(root, "train", version="2.0")
    assert len(v2.categories) == 18 and "container crane" in v2.categories
    with pytest.raises(ValueError, match="version"):
        get_source("dota")(root, "train", version="3.0")  # type: ignore[arg-type]


def test_bad_input(data_root: Path, tmp_path: Path) -> None:
    root = make_dota_root(data_root, tmp_path, copy=True)
    labels = root / "train" / "labelTxt"
    text = (labels / "P1888.txt").read_text()
    bad = [
        "1 2 3 4 5 small-vehicle 0",  # too few numbers
        "nan 375 683 375 684 394 675 395 small-vehicle 0",
        "10 10 10 10 10 10 10 10 small-vehicle 0",
        "5000 5000 5010 5000 5010 5010 5000 5010 small-vehicle 0",
        "674 375 683 375 684 394 675 395 zeppelin 0",
    ]
    (labels / "P1888.txt").write_text(text + "\n".join(bad) + "\n")
    (root / "train" / "images" / "P0706.png").unlink()
    source = get_source("dota")(root, "train")
    assert [s.reason for s in source.load("P0706")] == ["missing_image"]
    records, skips = split_output(source.load("P1888"))
    assert [s.reason for s in skips] == ["malformed_annotation", *BAD_OBJECT_REASONS]
    assert len(records[0].objects) == 64
    (labels / "P9999.txt").write_bytes(b"\xff\xfe\x00broken")
    assert [s.reason for s in source.load("P9999")] == ["malformed_annotation"]
