"""RSVQA-HR source: the real website samples, and a fake of the official layout (test_phili, inactive entries)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from earthgpt.data.records import QAPair, VQARecord
from earthgpt.data.sources import DataRootError, Skip, get_source
from tests.data.fakes import rsvqa_hr as fake


def test_real_rsvqa_hr_samples(data_root: Path) -> None:
    root = data_root / "rsvqa_website_samples"
    records = [r for r in get_source("rsvqa_hr")(root) if isinstance(r, VQARecord)]
    assert len(records) == 50 and sum(len(r.qa) for r in records) == 5001
    types = Counter(q.qtype for r in records for q in r.qa)
    assert types == {"comparison": 1642, "count": 1319, "presence": 1314, "area": 726}
    first = next(r for r in records if r.id == "0")
    assert first.qa[0] == QAPair("Is a residential building present?", "yes", "presence")
    assert (first.image.width, first.image.height, first.image.sensor) == (512, 512, "ULTRACAM_EAGLE_FALCON")
    assert any(q.answer.endswith("m2") for r in records for q in r.qa if q.qtype == "area")  # raw, not binned
    with pytest.raises(DataRootError, match="test_phili"):  # the samples hold no test set 2
        get_source("rsvqa_hr")(root, split="test_phili")


def test_fake_rsvqa_hr_official_layout(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    cls = get_source("rsvqa_hr")
    (train,) = list(cls(root, split="train"))  # image 3 is listed but inactive in the train file
    assert isinstance(train, VQARecord) and train.id == "7" and train.image.path == "Data/7.tif"
    assert [q.qtype for q in train.qa] == ["presence", "comparison", "area"]  # the inactive count question is gone
    assert train.qa[2].answer == "1027m2"
    (phili,) = list(cls(root, split="test_phili"))
    assert isinstance(phili, VQARecord) and phili.split == "test_phili" and phili.qa[0].answer == "12"
    assert [q.qtype for q in phili.qa] == ["count", "presence", "comparison", "area", "presence"]
    assert phili.qa[2] == QAPair("Is the number of roads equal to the number of water areas?", "no", "comparison")
    assert phili.image.sensor == "unknown"


def test_fake_rsvqa_hr_broken_links(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    answers_file = root / "USGS_split_train_answers.json"
    answers = json.loads(answers_file.read_text())
    answers["answers"] = [a for a in answers["answers"] if a["id"] != 1071]  # drop the comparison answer
    answers_file.write_text(json.dumps(answers))
    out = list(get_source("rsvqa_hr")(root, split="train"))
    skips = [s for s in out if isinstance(s, Skip)]
    assert [(s.item, s.reason) for s in skips] == [("7", "malformed_annotation")]
    (rec,) = [r for r in out if isinstance(r, VQARecord)]
    assert [q.qtype for q in rec.qa] == ["presence", "area"]
    (root / "Data" / "7.tif").unlink()
    assert [s.reason for s in get_source("rsvqa_hr")(root) if isinstance(s, Skip)][-1] == "missing_image"
