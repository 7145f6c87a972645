"""FAIR1M source on a fake of its train/part*/ and validation/ folders with Gaofen-challenge xml."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.sources import get_source
from earthgpt.geometry import HBB, OBB
from tests.data.fakes import fair1m as fake
from tests.data.sources.detection_helpers import BAD_OBJECT_REASONS, split_output


def test_fake_fair1m_records(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    source = get_source("fair1m")(root, "train")
    assert source.items() == ["train/part1/labelXml/0", "train/part1/labelXml/1"]
    records, skips = split_output(source)
    assert skips == []
    first = records[0]
    assert [o.label for o in first.objects] == ["boeing 737", "small car"]
    assert first.objects[1].box == OBB((60.0, 60.0, 70.0, 55.0, 74.0, 63.0, 64.0, 68.0))  # closing point dropped
    assert first.image.path == "train/part1/images/0.tif" and first.image.width == 100
    (hbb,), _ = split_output(get_source("fair1m")(root, "train", kind="hbb").load("train/part1/labelXml/0"))
    assert hbb.objects[1].box == HBB(60.0, 55.0, 74.0, 68.0)
    (val,), _ = split_output(get_source("fair1m")(root, "val"))
    assert val.objects[0].label == "dry cargo ship"
    assert len(first.categories) == 37 and "other airplane" in first.categories


def test_fake_fair1m_bad_input(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    labels = root / "train" / "part1" / "labelXml"
    (labels / "1.xml").write_text((labels / "1.xml").read_text()[:150])
    (labels / "2.xml").write_text((labels / "0.xml").read_text())
    bad = fake.gaofen_xml(
        "0.tif",
        fake.SIZE,
        [
            ("Boeing737", ((10.5, 20.0), (40.5, 20.0), (40.5, 35.0), (10.5, 35.0))),
            ("Bus", ((float("nan"), 1.0), (5.0, 1.0), (5.0, 5.0), (1.0, 5.0))),
            ("Bus", ((3.0, 3.0), (3.0, 3.0), (3.0, 3.0), (3.0, 3.0))),
            ("Bus", ((900.0, 900.0), (910.0, 900.0), (910.0, 910.0), (900.0, 910.0))),
            ("Zeppelin", ((1.0, 1.0), (5.0, 1.0), (5.0, 5.0), (1.0, 5.0))),
        ],
    )
    (labels / "0.xml").write_text(bad.replace("<point>40.500000,35.000000</point>", "<point>40.5;35</point>", 1))
    source = get_source("fair1m")(root, "train")
    assert [s.reason for s in source.load("train/part1/labelXml/1")] == ["malformed_annotation"]
    assert [s.reason for s in source.load("train/part1/labelXml/2")] == ["missing_image"]
    records, skips = split_output(source.load("train/part1/labelXml/0"))
    assert [s.reason for s in skips] == ["malformed_annotation", *BAD_OBJECT_REASONS, "empty_annotation"]
    assert records == []
