"""Fake FGSCR-42: one folder per category with a numeric ordering prefix, chips as .jpg (layout as described
in the FGSCR-42 paper; the archive's exact folder spelling is not known here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "fgscr42"
FILES = (
    "1.Nimitz-class_aircraft_carrier/0001.jpg",
    "1.Nimitz-class_aircraft_carrier/0002.jpg",
    "5.Arleigh_Burke-class_destroyer/0001.jpg",
    "42.Container_ship/0001.jpg",
)


def write(root: Path) -> Path:
    out = root / "FGSCR-42"
    rng = np.random.default_rng(7)
    for rel in FILES:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (24, 40, 3), dtype=np.uint8)).save(out / rel)
    return root
