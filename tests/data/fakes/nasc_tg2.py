"""Fake NaSC-TG2: ``NaSC-TG2/<Class>/<n>.jpg``, 128 px in the real set (16 px here), mixed folder spelling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "nasc_tg2"
FILES = ("Beach/beach_1.jpg", "Circle_Farmland/circle_farmland_1.jpg", "snowberg/snowberg_2000.jpg")


def write(root: Path) -> Path:
    out = root / "NaSC-TG2"
    rng = np.random.default_rng(4)
    for rel in FILES:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(out / rel)
    return out
