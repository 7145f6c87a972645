"""Fake RSVQA-HR in the official Zenodo layout: ``USGS_split_{train,test_phili}_{images,questions,answers}.json``
and ``Data/<id>.tif``. Traps kept: every split's images file lists all images but marks only its own active; a
deleted question stays in the file as inactive; ids are not list positions. Test set 2 holds every question type,
so the paper's protocol (count and area left out) keeps presence and comparison questions to score."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "rsvqa_hr"

# image id -> (split, sensor, [(question id, type, question, answer, active)])
IMAGES = {
    7: ("train", "ULTRACAM_EAGLE_FALCON", [
        (70, "presence", "Is there a road?", "yes", True),
        (71, "comp", "Are there more buildings than roads?", "no", True),
        (72, "area", "What is the area covered by buildings?", "1027m2", True),
        (73, "count", "How many parkings are there?", "2", False),  # deleted question
    ]),
    3: ("test_phili", "unknown", [
        (30, "count", "How many buildings are there?", "12", True),
        (31, "presence", "Is a residential building present?", "yes", True),
        (32, "comp", "Is the number of roads equal to the number of water areas?", "no", True),
        (33, "area", "What is the area covered by roads?", "250m2", True),
        (34, "presence", "Is there a parking?", "no", True),
    ]),
}  # fmt: skip


def write(root: Path) -> Path:
    out = root / "RSVQA_HR"
    (out / "Data").mkdir(parents=True)
    rng = np.random.default_rng(9)
    for split in ("train", "test_phili"):
        images, questions, answers = [], [], []
        for img_id, (img_split, sensor, qas) in IMAGES.items():
            active = img_split == split
            images.append(
                {"id": img_id, "original_name": f"{img_id}.tif", "sensor": sensor, "active": active,
                 "questions_ids": [q[0] for q in qas] if active else [], "people_id": 0, "type": "0"}
            )  # fmt: skip
            if not active:
                continue
            for qid, qtype, text, answer, q_active in qas:
                aid = qid + 1000
                questions.append(
                    {"id": qid, "img_id": img_id, "type": qtype, "question": text, "answers_ids": [aid],
                     "active": q_active, "people_id": 0}
                )  # fmt: skip
                answers.append({"id": aid, "question_id": qid, "answer": answer, "active": q_active, "people_id": 0})
        for kind, data in (("images", images), ("questions", questions), ("answers", answers)):
            (out / f"USGS_split_{split}_{kind}.json").write_text(json.dumps({kind: data}), encoding="utf-8")
    for img_id in IMAGES:
        pixels = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(out / "Data" / f"{img_id}.tif", format="TIFF")
    return out
