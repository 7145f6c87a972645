"""NWPU VHR-10 source on a fake of its 'ground truth' / 'positive image set' layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from earthgpt.data.sources import get_source
from earthgpt.data.sources._shared import hash_split
from earthgpt.geometry import HBB
from tests.data.fakes import nwpu_vhr10 as fake
from tests.data.sources.detection_helpers import BAD_OBJECT_REASONS, split_output


def test_fake_nwpu_lines_and_split(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    train = get_source("nwpu_vhr10")(root, "train").items()
    test = get_source("nwpu_vhr10")(root, "test").items()
    assert sorted(train + test) == sorted(fake.LINES) and not set(train) & set(test)
    assert all(hash_split(i) == "test" for i in test)
    source = get_source("nwpu_vhr10")(root, "train" if "001" in train else "test")
    (record,), skips = split_output(source.load("001"))
    assert skips == []  # the blank last line is no object
    assert [(o.label, o.box) for o in record.objects] == [
        ("airplane", HBB(10, 20, 50, 60)),
        ("vehicle", HBB(70, 15, 100, 40)),  # '(70, 15), (100, 40), 10': spaces after commas
    ]
    assert record.image.path == "positive image set/001.jpg"


def test_fake_nwpu_bad_input(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    gt = root / "ground truth"
    (gt / "001.txt").write_text(
        "(10,20),(50,60),1\n(1,2),(3,4)\n(nan,1),(5,5),2\n(3,3),(3,9),2\n(500,500),(510,510),2\n(1,1),(5,5),11\n"
    )
    (gt / "099.txt").write_text("(1,1),(5,5),1\n")
    source = get_source("nwpu_vhr10")(root, "train")
    records, skips = split_output(source.load("001"))
    assert [s.reason for s in skips] == ["malformed_annotation", *BAD_OBJECT_REASONS[:3], "unknown_class"]
    assert len(records[0].objects) == 1
    assert [s.reason for s in source.load("099")] == ["missing_image"]
    assert [s.reason for s in source.load("100")] == ["missing_annotation"]


def test_only_horizontal_boxes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no obb boxes"):
        get_source("nwpu_vhr10")(fake.write(tmp_path), "train", kind="obb")
