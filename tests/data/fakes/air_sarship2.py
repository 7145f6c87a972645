"""Fake AIR-SARShip-2.0: ``AIR-SARShip-2.0-data/<n>.tiff`` (one 16-bit band) and ``AIR-SARShip-2.0-xml/<n>.xml``
in the Gaofen-challenge template with ``<point>x, y</point>`` (a space after the comma, integer text)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

SOURCE = "air_sarship2"
SIZE = (64, 64)
OBJECTS = {str(n): [("ship", ((4 + n, 6), (20 + n, 6), (20 + n, 12), (4 + n, 12)))] for n in range(1, 9)}


def sarship_xml(stem: str, objects: list[tuple[str, tuple[tuple[float, float], ...]]]) -> str:
    """One annotation file: Gaofen-challenge template, ``<point>x, y</point>`` closing the ring."""
    objs = []
    for name, corners in objects:
        points = "".join(f"<point>{x}, {y}</point>" for x, y in [*corners, corners[0]])
        objs.append(
            "<object><coordinate>pixel</coordinate><type>rectangle</type><description>None</description>"
            f"<possibleresult><name>{name}</name><probability>1</probability></possibleresult>"
            f"<points>{points}</points></object>"
        )
    size = f"<size><width>{SIZE[0]}</width><height>{SIZE[1]}</height><depth>1</depth></size>"
    return f"<annotation><source><filename>{stem}.tiff</filename></source>{size}<objects>{''.join(objs)}</objects></annotation>"


def write(root: Path) -> Path:
    out = root / "AIR-SARShip-2.0"
    (out / "AIR-SARShip-2.0-xml").mkdir(parents=True)
    (out / "AIR-SARShip-2.0-data").mkdir()
    rng = np.random.default_rng(2)
    for stem, objects in OBJECTS.items():
        (out / "AIR-SARShip-2.0-xml" / f"{stem}.xml").write_text(sarship_xml(stem, objects))
        pixels = rng.integers(0, 60000, (SIZE[1], SIZE[0]), dtype=np.uint16)
        tifffile.imwrite(out / "AIR-SARShip-2.0-data" / f"{stem}.tiff", pixels)
    return out
