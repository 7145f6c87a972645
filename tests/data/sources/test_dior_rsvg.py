"""DIOR-RSVG source: the real sample (box, expression, split index) and a fake with several xml files."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.records import GroundingRecord, RegionCaptionRecord
from earthgpt.data.sources import Skip, get_source
from earthgpt.geometry import HBB
from tests.data.fakes import dior_rsvg as fake


def test_real_dior_rsvg_sample(data_root: Path) -> None:
    root = data_root / "dior_rsvg_sample"
    out = list(get_source("dior_rsvg")(root, split="test"))  # expression 0 is listed in DIOR_RSVG/test.txt
    (ground,) = [r for r in out if isinstance(r, GroundingRecord)]
    (region,) = [r for r in out if isinstance(r, RegionCaptionRecord)]
    assert ground.expression == "A green and brown golf field" and ground.label == "golf field"
    assert ground.box == HBB(133.0, 237.0, 684.0, 672.0) == region.box
    assert region.caption == ground.expression and ground.id == "00001#0"
    assert ground.image.path == "RSVGD/JPEGImages/00001.jpg" and (ground.image.width, ground.image.height) == (800, 800)
    assert list(get_source("dior_rsvg")(root, split="train")) == []


def test_fake_dior_rsvg_global_indices(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    cls = get_source("dior_rsvg")
    train = [r for r in cls(root, split="train") if isinstance(r, GroundingRecord)]
    assert [r.id for r in train] == ["00002#1", "00002#2", "00010#4"]
    assert [r.label for r in train] == ["vehicle", "storage tank", "chimney"]
    (val,) = [r for r in cls(root, split="val") if isinstance(r, GroundingRecord)]
    assert val.label == "expressway toll station" and val.box == HBB(10.0, 30.0, 50.0, 44.0)
    everything = [r for r in cls(root, split="all") if isinstance(r, RegionCaptionRecord)]
    assert [(r.id, r.split) for r in everything] == [
        ("00001#0", "test"), ("00002#1", "train"), ("00002#2", "train"), ("00010#3", "val"), ("00010#4", "train"),
    ]  # fmt: skip


def test_fake_dior_rsvg_bad_objects_keep_the_rest(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    xml = root / "Annotations" / "00002.xml"
    text = xml.read_text().replace("<xmax>9</xmax>", "<xmax>5</xmax>")  # zero-width box
    xml.write_text(text.replace("a white storage tank at the bottom right", ""))
    (root / "Annotations" / "00001.xml").write_text("<annotation><object><name>golffield</name>")  # truncated
    out = list(get_source("dior_rsvg")(root, split="all"))
    skips = sorted((s.item, s.reason) for s in out if isinstance(s, Skip))
    assert skips == [
        ("Annotations/00001.xml", "malformed_annotation"),
        ("Annotations/00002.xml", "malformed_annotation"),
        ("Annotations/00002.xml", "zero_area_box"),
    ]
    # the truncated file still counts its one <object, so the later global indices are unchanged
    assert [r.id for r in out if isinstance(r, GroundingRecord)] == ["00010#3", "00010#4"]
