"""Fake NWPU VHR-10: ``ground truth/<nnn>.txt`` with ``(x1,y1),(x2,y2),class_id`` lines (a blank last line, spaces
after commas in one line), ``positive image set/<nnn>.jpg`` and an unannotated ``negative image set``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "nwpu_vhr10"
SIZE = (120, 90)
LINES = {
    "001": ["(10,20),(50,60),1", "(70, 15), (100, 40), 10"],
    "002": ["(5,5),(25,30),3"],
    "003": ["(30,30),(60,50),9"],
    "004": ["(1,1),(20,20),2"],
    "005": ["(40,40),(80,80),7"],
    "006": ["(0,0),(10,10),5"],
}


def write(root: Path) -> Path:
    out = root / "NWPU VHR-10 dataset"
    for sub in ("ground truth", "positive image set", "negative image set"):
        (out / sub).mkdir(parents=True)
    rng = np.random.default_rng(10)
    for stem, lines in LINES.items():
        (out / "ground truth" / f"{stem}.txt").write_text("\n".join(lines) + "\n\n")
        pixels = rng.integers(0, 255, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(out / "positive image set" / f"{stem}.jpg")
    Image.fromarray(np.zeros((SIZE[1], SIZE[0], 3), dtype=np.uint8)).save(out / "negative image set" / "001.jpg")
    return out
