"""Fake Official-SSDD-OPEN polygon part: ``PSeg_SSDD/voc_style/{Annotations,JPEGImages}_{train,test}/``.

Each ``<object>`` holds a ``<segm>`` of ``<point>x,y</point>`` vertices, as public PSeg_SSDD readers parse it;
one test chip has a bow-tie polygon (edges crossing) to be skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "ssdd_pseg"
SIZES = {"000001": (61, 43), "000002": (48, 48), "000009": (50, 40)}
SPLIT = {"000001": "test", "000002": "train", "000009": "test"}
POLYGONS = {
    "000001": [[(10.0, 10.0), (30.0, 10.0), (30.0, 20.0), (10.0, 20.0)]],
    "000002": [[(20.0, 20.0), (40.0, 25.0), (20.0, 30.0)]],
    "000009": [[(5.0, 5.0), (15.0, 25.0), (15.0, 5.0), (5.0, 25.0)], [(30.0, 5.0), (45.0, 5.0), (45.0, 15.0)]],
}


def _object(points: list[tuple[float, float]]) -> str:
    segm = "".join(f"<point>{x:g},{y:g}</point>" for x, y in points)
    return f"<object><name>ship</name><difficult>0</difficult><segm>{segm}</segm></object>"


def write(root: Path) -> Path:
    out = root / "Official-SSDD-OPEN"
    rng = np.random.default_rng(4)
    for stem, (w, h) in SIZES.items():
        split = SPLIT[stem]
        ann = out / "PSeg_SSDD" / "voc_style" / f"Annotations_{split}"
        img = out / "PSeg_SSDD" / "voc_style" / f"JPEGImages_{split}"
        ann.mkdir(parents=True, exist_ok=True)
        img.mkdir(parents=True, exist_ok=True)
        objs = "".join(_object(p) for p in POLYGONS[stem])
        size = f"<size><width>{w}</width><height>{h}</height><depth>1</depth></size>"
        (ann / f"{stem}.xml").write_text(f"<annotation><filename>{stem}.jpg</filename>{size}{objs}</annotation>")
        Image.fromarray(rng.integers(0, 255, (h, w), dtype=np.uint8)).save(img / f"{stem}.jpg")
    return out
