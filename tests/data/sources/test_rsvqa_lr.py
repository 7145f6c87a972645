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
