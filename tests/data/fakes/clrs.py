"""Fake CLRS: ``CLRS/<hyphenated-class>/<class>_<nnnn>.tif`` RGB TIFFs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "clrs"
FILES = ("airport/airport_0001.tif", "bare-land/bare-land_0001.tif", "railway-station/railway-station_0600.tif")


def write(root: Path) -> Path:
    out = root / "CLRS"
    rng = np.random.default_rng(3)
    for rel in FILES:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(out / rel, format="TIFF")
    return out
