"""RSICD source (Karpathy json) on a fake: splits, all raw references kept, bad entries skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from earthgpt.data.records import CaptionRecord, Record
from earthgpt.data.sources import DataRootError, Skip, get_source
from tests.data.fakes import rsicd as fake


def _split(root: Path, split: str) -> list[Record | Skip]:
    return list(get_source("rsicd")(root, split=split))


def test_fake_rsicd_keeps_every_reference(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    (train,) = _split(root, "train")
    assert isinstance(train, CaptionRecord)
    assert train.id == "airport_1" and train.image.path == "RSICD_images/airport_1.jpg"
    assert (train.image.width, train.image.height) == (24, 24)
    assert len(train.captions) == 5  # the repeated sentence is kept twice
    assert train.captions.count("many planes are parked next to a long building in an airport .") == 2
    assert "some green trees are near the airport ." in train.captions  # outer spaces stripped
    (val,) = _split(root, "val")
    assert isinstance(val, CaptionRecord) and val.split == "val" and len(set(val.captions)) == 1
    (test,) = _split(root, "test")
    assert isinstance(test, CaptionRecord) and test.id == "00012"


def test_fake_rsicd_bad_entries(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    ann = root / "dataset_rsicd.json"
    data = json.loads(ann.read_text())
    data["images"].append({"filename": "gone_1.jpg", "split": "train", "sentences": [{"raw": "a river ."}]})
    data["images"].append({"filename": "nosent_1.jpg", "split": "train"})
    data["images"].append({"split": "train", "sentences": []})
    data["images"].append({"filename": "corrupt_1.jpg", "split": "train", "sentences": [{"raw": "a pond ."}]})
    ann.write_text(json.dumps(data))
    (root / "RSICD_images" / "corrupt_1.jpg").write_bytes(b"not a jpeg")
    out = _split(root, "train")
    skips = {s.item: s.reason for s in out if isinstance(s, Skip)}
    assert skips == {
        "gone_1.jpg": "missing_image",
        "nosent_1.jpg": "malformed_annotation",
        "entry:5": "malformed_annotation",
        "corrupt_1.jpg": "unreadable_image",
    }
    assert [r.id for r in out if isinstance(r, CaptionRecord)] == ["airport_1"]


def test_rsicd_missing_annotation_file(tmp_path: Path) -> None:
    with pytest.raises(DataRootError, match=r"dataset_rsicd\.json"):
        get_source("rsicd")(tmp_path)
    root = fake.write(tmp_path)
    (root / "dataset_rsicd.json").write_text("{not json")
    (skip,) = _split(root, "train")
    assert isinstance(skip, Skip) and skip.reason == "malformed_annotation" and skip.item == "annotation"
