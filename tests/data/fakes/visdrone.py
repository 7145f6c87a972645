"""Fake VisDrone2019-DET: ``VisDrone2019-DET-{train,val}/{images,annotations}``; annotation lines
``x,y,w,h,score,category,truncation,occlusion`` (some with a trailing comma), including an ignored region
(category 0, score 0) and an 'others' box (category 11)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "visdrone"
SIZE = (160, 90)
LINES = {
    "train": {
        "0000002_00005_d_0000014": [
            "10,20,30,15,1,4,0,0",
            "50,30,8,16,1,1,0,1,",
            "0,0,40,20,0,0,0,0",
            "100,60,20,10,1,11,0,0",
        ],
        "0000008_01000_d_0000015": ["70,40,25,20,1,9,1,0"],
    },
    "val": {"0000001_02999_d_0000005": ["5,5,10,10,1,10,0,2"]},
}


def write(root: Path) -> Path:
    out = root / "VisDrone"
    rng = np.random.default_rng(11)
    for split, files in LINES.items():
        base = out / f"VisDrone2019-DET-{split}"
        (base / "annotations").mkdir(parents=True)
        (base / "images").mkdir()
        for stem, lines in files.items():
            (base / "annotations" / f"{stem}.txt").write_text("\n".join(lines) + "\n")
            pixels = rng.integers(0, 255, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
            Image.fromarray(pixels).save(base / "images" / f"{stem}.jpg")
    return out
