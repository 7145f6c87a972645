"""DIOR-R source on real DIOR-R xml: mmrotate's fixture (00001) and six files of the full label set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from earthgpt.data.sources import get_source
from earthgpt.geometry import HBB, OBB
from earthgpt.geometry.order import obb_to_hbb
from tests.data.sources.detection_helpers import split_output
from tests.data.sources.test_dior import IDS, make_dior_root


def test_mmrotate_fixture_golffield(data_root: Path, tmp_path: Path) -> None:
    fixture = data_root / "mmrotate_testdata" / "tests" / "data" / "dior"
    if not fixture.is_dir():
        pytest.skip(f"mmrotate_testdata not found under {data_root}")
    # the fixture names its image folder 'JPEGImage'; lay it out as the release does
    (tmp_path / "Annotations").mkdir()
    os.symlink(
        fixture / "Annotations" / "Oriented Bounding Boxes", tmp_path / "Annotations" / "Oriented Bounding Boxes"
    )
    os.symlink(fixture / "JPEGImage", tmp_path / "JPEGImages-trainval")
    (tmp_path / "ImageSets" / "Main").mkdir(parents=True)
    (tmp_path / "ImageSets" / "Main" / "train.txt").write_text("00001\r\n")
    records, skips = split_output(get_source("dior_r")(tmp_path, "train"))
    assert skips == []
    assert [(o.label, o.box) for o in records[0].objects] == [
        ("golf field", OBB((133.0, 237.0, 684.0, 237.0, 684.0, 672.0, 133.0, 672.0)))
    ]


def test_corners_as_written_and_consistent_with_dior(data_root: Path, tmp_path: Path) -> None:
    root = make_dior_root(data_root, tmp_path)
    oriented = get_source("dior_r")(root, "train")
    horizontal = get_source("dior")(root, "train")
    r00006, _ = split_output(oriented.load("00006"))
    assert r00006[0].objects[0].box == OBB((492.0, 574.0, 533.0, 562.0, 560.0, 656.0, 519.0, 667.0))
    matched = 0
    for stem in IDS:
        (ro,), _ = split_output(oriented.load(stem))
        (rh,), _ = split_output(horizontal.load(stem))
        assert len(ro.objects) == len(rh.objects)
        for h in rh.objects:  # each horizontal box lies inside the enclosing box of an oriented one of its class
            assert isinstance(h.box, HBB)
            best = max(_inside(h.box, obb_to_hbb(o.box)) for o in ro.objects if o.label == h.label)
            assert best > 0.75  # the two box kinds were drawn separately: small vehicles differ by ~3 px
            matched += 1
    assert matched == 24


def _inside(a: HBB, b: HBB) -> float:
    """The fraction of a's area inside b."""
    w = min(a.x2, b.x2) - max(a.x1, b.x1)
    h = min(a.y2, b.y2) - max(a.y1, b.y1)
    return max(0.0, w) * max(0.0, h) / a.area


def test_harbor_reaching_outside_the_image_is_kept(data_root: Path, tmp_path: Path) -> None:
    """Real DIOR-R corners may lie outside the image (00784's harbor reaches y=-135); the box is kept as written."""
    (record,), skips = split_output(get_source("dior_r")(make_dior_root(data_root, tmp_path), "train").load("00784"))
    assert skips == []
    harbor = [o.box for o in record.objects if o.label == "harbor"]
    assert len(harbor) == 1 and min(harbor[0].as_tuple()[1::2]) == -135.0


def test_only_oriented_kind(data_root: Path, tmp_path: Path) -> None:
    root = make_dior_root(data_root, tmp_path)
    with pytest.raises(ValueError, match="no hbb boxes"):
        get_source("dior_r")(root, "train", kind="hbb")
