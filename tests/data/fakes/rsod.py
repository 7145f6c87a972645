"""Fake RSOD: one folder per class (``aircraft``, ``oiltank``, ``overpass``, ``playground``) with
``JPEGImages/<stem>.jpg``, ``Annotation/xml/<stem>.xml`` (VOC) and ``Annotation/labels/<stem>.txt``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.data.fakes.hrrsd import voc_xml

SOURCE = "rsod"
SIZE = (90, 70)
OBJECTS = {
    "aircraft/aircraft_1": [("aircraft", (10, 10, 30, 28)), ("aircraft", (40, 40, 60, 58))],
    "oiltank/oiltank_1": [("oiltank", (5, 5, 25, 25))],
    "overpass/overpass_1": [("overpass", (0, 20, 90, 40))],
    "playground/playground_1": [("playground", (20, 10, 70, 60))],
    "playground/playground_2": [("playground", (15, 15, 45, 35))],
}


def write(root: Path) -> Path:
    out = root / "RSOD-Dataset"
    rng = np.random.default_rng(4)
    for item, objects in OBJECTS.items():
        folder, stem = item.split("/")
        for sub in ("JPEGImages", "Annotation/xml", "Annotation/labels"):
            (out / folder / sub).mkdir(parents=True, exist_ok=True)
        (out / folder / "Annotation" / "xml" / f"{stem}.xml").write_text(voc_xml(f"{stem}.jpg", SIZE, objects))
        labels = "".join(f"{stem}.jpg\t{n}\t{x1}\t{y1}\t{x2}\t{y2}\n" for n, (x1, y1, x2, y2) in objects)
        (out / folder / "Annotation" / "labels" / f"{stem}.txt").write_text(labels)
        pixels = rng.integers(0, 255, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(out / folder / "JPEGImages" / f"{stem}.jpg")
    return out
