"""RSVQA-LR source on the authors' real website samples (50 Sentinel-2 images, 5,005 QA)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from earthgpt.data.records import QAPair, VQARecord
from earthgpt.data.sources import DataRootError, get_source


def test_real_rsvqa_lr_counts_types_and_a_known_pair(data_root: Path) -> None:
    src = get_source("rsvqa_lr")(data_root / "rsvqa_website_samples", split="train")
    records = [r for r in src if isinstance(r, VQARecord)]
    assert len(records) == 50
    types = Counter(q.qtype for r in records for q in r.qa)
    assert types == {"comparison": 1993, "presence": 1491, "count": 1471, "rural_urban": 50}
    first = next(r for r in records if r.id == "0")
    assert first.qa[0] == QAPair("Is it a rural or an urban area", "rural", "rural_urban")
    assert first.qa[2] == QAPair("What is the number of forests in the image?", "4", "count")
    assert len(first.qa) == 100
    assert first.image.path == "data_S2_reduced/0.png" and (first.image.width, first.image.height) == (256, 256)
    assert first.image.sensor == "S2"


def test_real_rsvqa_lr_has_no_val_files(data_root: Path) -> None:
    with pytest.raises(DataRootError, match="LR_split_val"):
        get_source("rsvqa_lr")(data_root / "rsvqa_website_samples", split="val")


@pytest.mark.parametrize("source", ["rsvqa_lr", "rsvqa_hr"])
def test_dev_split_holds_out_whole_images_disjoint_from_train(data_root: Path, source: str) -> None:
    """``dev_fraction`` divides the train images by a hash of their id: dev and train partition them, and the
    rsvqa_*_dev tasks read dev with the fraction the shipped model's corpus trains with."""
    import yaml

    from earthgpt.evaluation.tasks import get_task
    from tests.conftest import REPO_ROOT

    root = data_root / "rsvqa_website_samples"
    cls = get_source(source)
    every = set(cls(root, split="train").items())
    train = set(cls(root, split="train", dev_fraction=0.2).items())
    dev = set(cls(root, split="dev", dev_fraction=0.2).items())
    assert train | dev == every and not train & dev
    assert 5 <= len(dev) <= 15  # 20% of 50 images, up to the hash's spread
    assert cls(root, split="dev").items() == []  # no fraction, no dev images
    records = [r for r in cls(root, split="dev", dev_fraction=0.2) if isinstance(r, VQARecord)]
    assert {r.id for r in records} == dev and all(r.split == "dev" for r in records)
    task = get_task(f"{source}_dev")
    recipe = yaml.safe_load((REPO_ROOT / "configs" / "data" / "tiny.yaml").read_text())
    (entry,) = [s for s in recipe["sources"] if s["name"] == source]
    assert entry["splits"] == ["train"] and entry["options"]["dev_fraction"] == task.options["dev_fraction"]
