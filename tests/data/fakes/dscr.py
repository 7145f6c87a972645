"""Fake DSCR: ``train.csv``/``test.csv`` at the root and ``annotations/val.csv`` (header ``class,label`` although
the first column is the FILE NAME), UTF-8 names with Chinese characters, flat ``Images/*.bmp`` chips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "dscr"
SPLITS = {
    "train.csv": [
        ("crop_ru201904211947502570_.bmp", "aircraft carrier"),
        ("20161106诺福克_3.bmp", "aircraft carrier"),
        ("transpose201904212009336007_.bmp", "civil"),
        ("rotate_90201904212011446139_.bmp", "assault"),
    ],
    "test.csv": [("20141104_3.bmp", "destroyer"), ("P1422_1.bmp", "other")],
    "annotations/val.csv": [("100001307_1.bmp", "cruiser")],
}


def write(root: Path) -> Path:
    out = root / "DSCR"
    (out / "Images").mkdir(parents=True)
    (out / "annotations").mkdir()
    rng = np.random.default_rng(6)
    for split_file, rows in SPLITS.items():
        lines = ["class,label"] + [f"{name},{label}" for name, label in rows]
        (out / split_file).write_text("\n".join(lines) + "\n", encoding="utf-8")
        for name, _ in rows:
            h, w = int(rng.integers(20, 40)), int(rng.integers(20, 40))
            Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(out / "Images" / name)
    return out
