"""Fake FAIR1M: ``train/part1/{images,labelXml}`` and ``validation/{images,labelXml}``; TIFF images and the
Gaofen-challenge xml (``<objects><object><possibleresult><name>``, five ``<point>x,y</point>`` closing the ring,
float text, class names with spaces and hyphens)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "fair1m"
SIZE = (100, 80)
# relative xml path (without .xml) -> [(class, four corners)]
OBJECTS = {
    "train/part1/labelXml/0": [
        ("Boeing737", ((10.5, 20.0), (40.5, 20.0), (40.5, 35.0), (10.5, 35.0))),
        ("Small Car", ((60.0, 60.0), (70.0, 55.0), (74.0, 63.0), (64.0, 68.0))),
    ],
    "train/part1/labelXml/1": [("other-ship", ((5.0, 5.0), (25.0, 5.0), (25.0, 15.0), (5.0, 15.0)))],
    "validation/labelXml/7": [("Dry Cargo Ship", ((30.0, 30.0), (50.0, 30.0), (50.0, 50.0), (30.0, 50.0)))],
}


def gaofen_xml(filename: str, size: tuple[int, int], objects: list[tuple[str, tuple[tuple[float, float], ...]]]) -> str:
    """An annotation in the Gaofen challenge template (FAIR1M, AIR-SARShip)."""
    objs = []
    for name, corners in objects:
        ring = [*corners, corners[0]]
        points = "".join(f"\n          <point>{x:.6f},{y:.6f}</point>" for x, y in ring)
        objs.append(
            "\n    <object>\n      <coordinate>pixel</coordinate>\n      <type>rectangle</type>\n"
            "      <description>None</description>\n      <possibleresult>\n"
            f"        <name>{name}</name>\n        <probability>1</probability>\n      </possibleresult>\n"
            f"      <points>{points}\n      </points>\n    </object>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<annotation>\n  <source>\n'
        f"    <filename>{filename}</filename>\n    <origin>GF2/GF3</origin>\n  </source>\n"
        "  <research>\n    <version>1.0</version>\n    <provider>FAIR1M</provider>\n  </research>\n"
        f"  <size>\n    <width>{size[0]}</width>\n    <height>{size[1]}</height>\n    <depth>3</depth>\n  </size>\n"
        f"  <objects>{''.join(objs)}\n  </objects>\n</annotation>\n"
    )


def write(root: Path) -> Path:
    out = root / "FAIR1M"
    rng = np.random.default_rng(37)
    for rel, objects in OBJECTS.items():
        xml = out / f"{rel}.xml"
        xml.parent.mkdir(parents=True, exist_ok=True)
        xml.write_text(gaofen_xml(f"{xml.stem}.tif", SIZE, objects), encoding="utf-8")
        images = xml.parent.parent / "images"
        images.mkdir(exist_ok=True)
        pixels = rng.integers(0, 255, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(images / f"{xml.stem}.tif", format="TIFF")
    return out
