"""Fake RSIVQA: ``<Subset>/<name>_vqa*.txt`` lines ``<image>:<question>?<answer>``, plus the source images the
user adds under each subset (UCM numbered TIFFs, DOTA PNGs) and an ignored ``ucm_res.txt``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "rsivqa"
FILES = {
    "UCM/ucm_vqa.txt": [
        "1.tif:what is the theme of this picture?farmland",
        "1.tif:is there a road in this picture?no",
        "1001.tif:what is the theme of this picture?harbor",
    ],
    "DOTA/dota_train_vqa2.txt": ["P0003.png:how many planes are there in the picture?7"],
    "UCM/ucm_res.txt": ["not a question file"],
}
IMAGES = ("UCM/images/1.tif", "UCM/images/1001.tif", "DOTA/images/P0003.png")


def write(root: Path) -> Path:
    out = root / "RSIVQA"
    for rel, lines in FILES.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text("\n".join(lines) + "\n", encoding="utf-8")
    rng = np.random.default_rng(11)
    for rel in IMAGES:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        fmt = "TIFF" if rel.endswith(".tif") else "PNG"
        Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(out / rel, format=fmt)
    return out
