"""VisDrone-DET source on a fake of its VisDrone2019-DET-<split>/{images,annotations} layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from earthgpt.data.sources import DataRootError, get_source
from earthgpt.geometry import HBB
from tests.data.fakes import visdrone as fake
from tests.data.sources.detection_helpers import split_output


def test_fake_visdrone_records_and_ignored_regions(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    source = get_source("visdrone")(root, "train")
    records, skips = split_output(source.load("0000002_00005_d_0000014"))
    assert [(o.label, o.box) for o in records[0].objects] == [
        ("car", HBB(10, 20, 40, 35)),  # x, y, w, h = 10, 20, 30, 15
        ("pedestrian", HBB(50, 30, 58, 46)),  # a trailing comma on the line
    ]
    assert [(s.reason, "ignored region" in s.detail or "others" in s.detail) for s in skips] == [
        ("ignored_region", True),
        ("ignored_region", True),
    ]
    assert records[0].image.path == "VisDrone2019-DET-train/images/0000002_00005_d_0000014.jpg"
    (val,), _ = split_output(get_source("visdrone")(root, "val"))
    assert val.objects[0].label == "motor"
    with pytest.raises(DataRootError, match="test-dev"):
        get_source("visdrone")(root, "test")


def test_fake_visdrone_bad_input(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    ann = root / "VisDrone2019-DET-train" / "annotations"
    (ann / "x.txt").write_text("10,20,30,15,1,4,0,0\n")
    (ann / "y.txt").write_text("10,20,30\nnan,1,2,2,1,4,0,0\n5,5,0,9,1,4,0,0\n900,900,5,5,1,4,0,0\n1,1,5,5,1,4,0,0\n")
    (root / "VisDrone2019-DET-train" / "images" / "0000002_00005_d_0000014.jpg").rename(
        root / "VisDrone2019-DET-train" / "images" / "y.jpg"
    )
    source = get_source("visdrone")(root, "train")
    assert [s.reason for s in source.load("x")] == ["missing_image"]
    records, skips = split_output(source.load("y"))
    assert [s.reason for s in skips] == ["malformed_annotation", "nan_coordinate", "zero_area_box", "box_outside_image"]
    assert len(records[0].objects) == 1
