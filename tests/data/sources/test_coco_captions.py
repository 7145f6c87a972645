"""COCO-caption source on the real RSICD COCO conversion (jwdevx): sizes from files, absent images, repeats."""

from __future__ import annotations

from pathlib import Path

import pytest

from earthgpt.data.records import CaptionRecord
from earthgpt.data.sources import Skip, get_source


@pytest.fixture(scope="module")
def coco_root(data_root: Path) -> Path:
    return data_root / "rsicd_captions_jwdevx"


def test_real_coco_captions_train_subset(coco_root: Path) -> None:
    out = list(get_source("coco_captions")(coco_root, split="train"))
    recs = {r.id: r for r in out if isinstance(r, CaptionRecord)}
    assert sorted(recs) == ["airport_17", "sparseresidential_268", "sparseresidential_3", "square_102", "square_146"]
    assert recs["airport_17"].captions == ("some airplance.",)  # original typo kept
    # the json says 224x224; the file is the author's 384 px upsample: the size comes from the file
    assert (recs["square_102"].image.width, recs["square_102"].image.height) == (384, 384)
    assert (recs["square_146"].image.width, recs["square_146"].image.height) == (224, 224)
    assert recs["square_146"].image.path == "scripts/data/data_augment/original/square_146.jpg"
    skips = [s for s in out if isinstance(s, Skip)]
    assert [(s.item, s.reason) for s in skips] == [("48", "missing_image")]  # airport_48.jpg is absent


def test_real_coco_captions_val_without_images(coco_root: Path) -> None:
    cls = get_source("coco_captions")
    out = list(cls(coco_root, split="val"))
    assert len(out) == 1092 and all(isinstance(s, Skip) and s.reason == "missing_image" for s in out)
    text_only = [r for r in cls(coco_root, split="val", require_images=False) if isinstance(r, CaptionRecord)]
    assert len(text_only) == 1092 and sum(len(r.captions) for r in text_only) == 5460
    first = next(r for r in text_only if r.id == "square_221")
    assert first.captions == ("some buildings and green trees are around a square .",) * 5  # repeats kept
    assert (first.image.width, first.image.height) == (224, 224)
