"""Fake WHU-RS19: ``RSDataset/<Class>/<class>_<nn>.jpg`` with the release's mixed folder spellings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "whu_rs19"
FILES = ("Airport/airport_01.jpg", "footballField/footballField_01.jpg", "railwayStation/railwayStation_02.jpg")


def write(root: Path) -> Path:
    out = root / "RSDataset"
    rng = np.random.default_rng(2)
    for rel in FILES:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (30, 30, 3), dtype=np.uint8)).save(out / rel)
    return root
