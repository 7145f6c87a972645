"""Fake DIOR-RSVG: ``Annotations/<nnnnn>.xml`` (VOC-like, one <object> with <description> per expression, several
per image) + ``JPEGImages/`` + ``DIOR_RSVG/{train,val,test}.txt`` holding global expression indices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "dior_rsvg"
# xml stem -> objects (name, xmin, ymin, xmax, ymax, description); global indices run 0..4 in file-name order
OBJECTS = {
    "00001": [("golffield", 13, 23, 68, 67, "A green and brown golf field")],
    "00002": [
        ("vehicle", 5, 5, 9, 12, "the vehicle on the left"),
        ("storagetank", 40, 40, 60, 62, "a white storage tank at the bottom right"),
    ],
    "00010": [
        ("Expressway-toll-station", 10, 30, 50, 44, "the toll station across the expressway"),
        ("chimney", 70, 2, 74, 30, "a tall chimney"),
    ],
}
SPLITS = {"train": [1, 2, 4], "val": [3], "test": [0]}
SIZE = 80  # 800 in the real set


def _xml(stem: str, objects: list[tuple[str, int, int, int, int, str]]) -> str:
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<annotation>',
        f"  <filename>{stem}.jpg</filename>\n  <source>\n    <database>DIOR</database>\n  </source>",
        f"  <size>\n    <width>{SIZE}</width>\n    <height>{SIZE}</height>\n    <depth>3</depth>\n  </size>",
        "  <segmented>0</segmented>",
    ]
    for name, x1, y1, x2, y2, text in objects:
        parts.append(
            f"  <object>\n    <name>{name}</name>\n    <pose>Unspecified</pose>\n    <bndbox>\n"
            f"      <xmin>{x1}</xmin>\n      <ymin>{y1}</ymin>\n      <xmax>{x2}</xmax>\n      <ymax>{y2}</ymax>\n"
            f"    </bndbox>\n    <description>{text}</description>\n  </object>"
        )
    return "\n".join([*parts, "</annotation>"])


def write(root: Path) -> Path:
    out = root / "DIOR-RSVG"
    for sub in ("Annotations", "JPEGImages", "DIOR_RSVG"):
        (out / sub).mkdir(parents=True)
    rng = np.random.default_rng(13)
    for stem, objects in OBJECTS.items():
        (out / "Annotations" / f"{stem}.xml").write_text(_xml(stem, objects), encoding="utf-8")
        Image.fromarray(rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)).save(out / "JPEGImages" / f"{stem}.jpg")
    for split, indices in SPLITS.items():
        (out / "DIOR_RSVG" / f"{split}.txt").write_text("".join(f"{i}\n" for i in indices))
    return out
