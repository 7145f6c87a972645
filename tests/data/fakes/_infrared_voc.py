"""Writer shared by the fakes of the InfiRay-style infrared sets: PASCAL VOC layout, single-channel thermal JPEGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.data.fakes.hrrsd import voc_xml

SIZE = (64, 48)
IMAGES = 6


def write(out: Path, classes: tuple[str, ...], seed: int) -> Path:
    """``IMAGES`` images ``00000``..``00005`` under ``out`` (``Annotations/``, ``JPEGImages/``, no split lists), two
    objects each, the class names taken in turn from ``classes``; the pixels are noise drawn with ``seed``."""
    (out / "Annotations").mkdir(parents=True)
    (out / "JPEGImages").mkdir()
    rng = np.random.default_rng(seed)
    for i in range(IMAGES):
        stem = f"{i:05d}"
        objects: list[tuple[str, tuple[float, ...]]] = [
            (classes[(i + k) % len(classes)], (4 + 8 * k, 4 + 5 * k, 12 + 8 * k, 14 + 5 * k)) for k in range(2)
        ]
        (out / "Annotations" / f"{stem}.xml").write_text(voc_xml(f"{stem}.jpg", SIZE, objects), encoding="utf-8")
        Image.fromarray(rng.integers(0, 255, (SIZE[1], SIZE[0]), dtype=np.uint8)).save(
            out / "JPEGImages" / f"{stem}.jpg"
        )
    return out
