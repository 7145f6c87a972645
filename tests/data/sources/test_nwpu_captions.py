"""NWPU-Captions source on a fake of its per-category ``dataset_nwpu.json``."""

from __future__ import annotations

import json
from pathlib import Path

from earthgpt.data.records import CaptionRecord
from earthgpt.data.sources import Skip, get_source
from tests.data.fakes import nwpu_captions as fake


def test_fake_nwpu_captions_raw_fields(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    cls = get_source("nwpu_captions")
    (train,) = list(cls(root, split="train"))
    assert isinstance(train, CaptionRecord)
    assert train.id == "airplane_001" and train.image.path == "NWPU_images/airplane/airplane_001.jpg"
    assert train.captions[0] == "Three white planes are parked on the ground."  # raw
    assert train.captions[4] == "Some white planes are near the lawn."  # raw_4
    assert train.captions.count("Three planes are parked on the gray ground.") == 2  # repeats kept
    assert [r.id for r in cls(root, split="val")] == ["sea_ice_012"]
    assert [r.id for r in cls(root, split="test")] == ["airplane_700"]


def test_fake_nwpu_captions_bad_entries(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    ann = root / "dataset_nwpu.json"
    data = json.loads(ann.read_text())
    data["airplane"].append({"filename": "airplane_002.jpg", "split": "train", "raw_1": "no raw field"})
    data["airplane"].append({"filename": "airplane_003.jpg", "split": "train", "raw": "image is absent"})
    data["cloud"] = [{"split": "train", "raw": "no file name"}]
    ann.write_text(json.dumps(data))
    out = list(get_source("nwpu_captions")(root, split="train"))
    skips = {s.item: s.reason for s in out if isinstance(s, Skip)}
    assert skips == {
        "airplane/airplane_002.jpg": "malformed_annotation",
        "airplane/airplane_003.jpg": "missing_image",
        "cloud:0": "malformed_annotation",
    }
    assert [r.id for r in out if isinstance(r, CaptionRecord)] == ["airplane_001"]
