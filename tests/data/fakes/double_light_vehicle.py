"""Fake Double-light-vehicle in the PASCAL VOC layout its source reads (``Annotations/``, ``JPEGImages/``, single-channel
thermal JPEGs, no split lists), with made-up class names: the real class list is read from the files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.data.fakes.hrrsd import voc_xml

SOURCE = "double_light_vehicle"
SIZE = (64, 48)
CLASSES = ("car", "person", "bus")
IMAGES = 6


def write(root: Path) -> Path:
    out = root / SOURCE
    (out / "Annotations").mkdir(parents=True)
    (out / "JPEGImages").mkdir()
    rng = np.random.default_rng(4)
    for i in range(IMAGES):
        stem = f"{i:05d}"
        objects = [(CLASSES[(i + k) % len(CLASSES)], (4 + 8 * k, 4 + 5 * k, 12 + 8 * k, 14 + 5 * k)) for k in range(2)]
        (out / "Annotations" / f"{stem}.xml").write_text(voc_xml(f"{stem}.jpg", SIZE, objects), encoding="utf-8")
        Image.fromarray(rng.integers(0, 255, (SIZE[1], SIZE[0]), dtype=np.uint8)).save(
            out / "JPEGImages" / f"{stem}.jpg"
        )
    return out
