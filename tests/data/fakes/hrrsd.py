"""Fake HRRSD (``OPT2017``): ``Annotations/<id>.xml`` VOC xml, ``JPEGImages/<id>.jpg``, ``ImageSets/Main/*.txt``.

Traps of the real release kept: class names with spaces and one mixed-case ("T junction"), an xml declaration
with an encoding, split lists ending in CRLF.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "hrrsd"
SIZE = (96, 64)  # width, height
OBJECTS = {
    "00001": [("T junction", (10, 12, 40, 30)), ("parking lot", (50, 5, 90, 60))],
    "00002": [("storage tank", (3, 4, 20, 21))],
    "00003": [("vehicle", (60, 40, 70, 50))],
}
SPLITS = {"train": ["00001", "00002"], "val": ["00003"], "test": []}


def voc_xml(filename: str, size: tuple[int, int], objects: list[tuple[str, tuple[float, ...]]]) -> str:
    """A PASCAL VOC annotation as labelImg writes it."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<annotation>',
        f"\t<folder>JPEGImages</folder>\n\t<filename>{filename}</filename>",
        f"\t<size>\n\t\t<width>{size[0]}</width>\n\t\t<height>{size[1]}</height>\n\t\t<depth>3</depth>\n\t</size>",
        "\t<segmented>0</segmented>",
    ]
    for name, (x1, y1, x2, y2) in objects:
        parts.append(
            f"\t<object>\n\t\t<name>{name}</name>\n\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n"
            f"\t\t<difficult>0</difficult>\n\t\t<bndbox>\n\t\t\t<xmin>{x1}</xmin>\n\t\t\t<ymin>{y1}</ymin>\n"
            f"\t\t\t<xmax>{x2}</xmax>\n\t\t\t<ymax>{y2}</ymax>\n\t\t</bndbox>\n\t</object>"
        )
    parts.append("</annotation>\n")
    return "\n".join(parts)


def write(root: Path) -> Path:
    out = root / "TGRS-HRRSD-Dataset" / "OPT2017"
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (out / sub).mkdir(parents=True)
    rng = np.random.default_rng(5)
    for stem, objects in OBJECTS.items():
        (out / "Annotations" / f"{stem}.xml").write_text(voc_xml(f"{stem}.jpg", SIZE, objects), encoding="utf-8")
        pixels = rng.integers(0, 255, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(out / "JPEGImages" / f"{stem}.jpg")
    for split, ids in SPLITS.items():
        (out / "ImageSets" / "Main" / f"{split}.txt").write_bytes("".join(f"{i}\r\n" for i in ids).encode())
    return out
