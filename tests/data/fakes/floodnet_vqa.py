"""Fake FloodNet Track 2: ``Questions/Training Question.json`` (space in the name) keyed by string numbers,
upper-case ``.JPG`` image ids, integer counting answers, and ``Images/Train_Image/``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "floodnet_vqa"
QUESTIONS = {
    "0": {"Image_ID": "10165.JPG", "Question": "What is the overall condition of the given image?",
          "Ground_Truth": "flooded", "Question_Type": "Condition_Recognition"},
    "1": {"Image_ID": "10165.JPG", "Question": "How many buildings are flooded in this image?",
          "Ground_Truth": 4, "Question_Type": "Complex_Counting"},
    "2": {"Image_ID": "6651.JPG", "Question": "Is the entire road non flooded?",
          "Ground_Truth": "yes", "Question_Type": "Yes_No"},
}  # fmt: skip


def write(root: Path) -> Path:
    out = root / "FloodNet Challenge - Track 2"
    (out / "Questions").mkdir(parents=True)
    (out / "Images" / "Train_Image").mkdir(parents=True)
    (out / "Questions" / "Training Question.json").write_text(json.dumps(QUESTIONS), encoding="utf-8")
    rng = np.random.default_rng(10)
    for image in {q["Image_ID"] for q in QUESTIONS.values()}:
        pixels = rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)  # 3000x4000 in the real set
        Image.fromarray(pixels).save(out / "Images" / "Train_Image" / str(image), format="JPEG")
    return out
