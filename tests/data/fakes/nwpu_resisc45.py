"""Fake NWPU-RESISC45: ``NWPU-RESISC45/<snake_case class>/<class>_<nnn>.jpg``, three classes, tiny images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "nwpu_resisc45"
FILES = {
    "airplane": ["airplane_001.jpg", "airplane_002.jpg"],
    "ground_track_field": ["ground_track_field_001.jpg"],
    "sea_ice": ["sea_ice_001.jpg", "sea_ice_700.jpg"],
}


def write(root: Path) -> Path:
    out = root / "NWPU-RESISC45"
    rng = np.random.default_rng(0)
    for folder, names in FILES.items():
        (out / folder).mkdir(parents=True, exist_ok=True)
        for name in names:
            Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(out / folder / name)
    return root
