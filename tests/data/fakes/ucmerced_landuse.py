"""Fake UC Merced: ``UCMerced_LandUse/Images/<class>/<class><nn>.tif`` RGB TIFFs, one of them not square."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "ucmerced_landuse"
SIZES = {
    "agricultural/agricultural00.tif": (24, 24),
    "denseresidential/denseresidential07.tif": (24, 24),
    "tenniscourt/tenniscourt99.tif": (24, 23),  # the real set has a few images a pixel short of 256
}


def write(root: Path) -> Path:
    images = root / "UCMerced_LandUse" / "Images"
    rng = np.random.default_rng(1)
    for rel, (w, h) in SIZES.items():
        (images / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(images / rel, format="TIFF")
    return root / "UCMerced_LandUse"
