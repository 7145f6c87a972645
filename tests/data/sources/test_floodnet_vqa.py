"""FloodNet VQA source on a fake of the Track 2 question json and image folders."""

from __future__ import annotations

import json
from pathlib import Path

from earthgpt.data.records import QAPair, VQARecord
from earthgpt.data.sources import Skip, get_source
from tests.data.fakes import floodnet_vqa as fake


def test_fake_floodnet_groups_questions_per_image(tmp_path: Path) -> None:
    recs = {r.id: r for r in get_source("floodnet_vqa")(fake.write(tmp_path)) if isinstance(r, VQARecord)}
    assert sorted(recs) == ["10165", "6651"]
    assert recs["10165"].qa == (
        QAPair("What is the overall condition of the given image?", "flooded", "condition_recognition"),
        QAPair("How many buildings are flooded in this image?", "4", "complex_counting"),
    )
    assert recs["10165"].image.path == "Images/Train_Image/10165.JPG"
    assert (recs["6651"].image.width, recs["6651"].image.height) == (40, 30)


def test_fake_floodnet_bad_entries(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    qfile = root / "Questions" / "Training Question.json"
    data = json.loads(qfile.read_text())
    data["3"] = {"Image_ID": "6651.JPG", "Question": "Is there water?", "Question_Type": "Yes_No"}  # no answer
    data["4"] = {"Question": "orphan question"}
    data["5"] = {"Image_ID": "777.JPG", "Question": "Is it flooded?", "Ground_Truth": "no"}
    qfile.write_text(json.dumps(data))
    out = list(get_source("floodnet_vqa")(root))
    skips = sorted((s.item, s.reason) for s in out if isinstance(s, Skip))
    assert skips == [
        ("6651.JPG", "missing_annotation"),
        ("777.JPG", "missing_image"),
        ("question:4", "malformed_annotation"),
    ]
    assert sum(isinstance(r, VQARecord) for r in out) == 2
