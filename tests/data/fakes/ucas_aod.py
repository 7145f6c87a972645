"""Fake UCAS-AOD: ``CAR/`` and ``PLANE/`` with ``P<nnnn>.png`` and ``P<nnnn>.txt`` (13 tab-separated numbers in
scientific notation with a trailing tab: x1 y1 .. x4 y4 theta x y w h), and an unannotated ``Neg/`` folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "ucas_aod"
SIZE = (128, 66)
OBJECTS = {
    "CAR/P0001": [(20.5, 10.0, 40.5, 12.0, 39.5, 30.0, 19.5, 28.0)],
    "CAR/P0002": [(50.0, 20.0, 70.0, 20.0, 70.0, 30.0, 50.0, 30.0)],
    "PLANE/P0001": [(60.0, 5.0, 100.0, 5.0, 100.0, 45.0, 60.0, 45.0), (5.0, 40.0, 25.0, 40.0, 25.0, 60.0, 5.0, 60.0)],
    "PLANE/P0002": [(10.0, 10.0, 30.0, 10.0, 30.0, 30.0, 10.0, 30.0)],
}


def _line(corners: tuple[float, ...]) -> str:
    xs, ys = corners[0::2], corners[1::2]
    extra = (90.0, min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    return "".join(f"{v:e}\t" for v in (*corners, *extra))


def write(root: Path) -> Path:
    out = root / "UCAS_AOD"
    rng = np.random.default_rng(15)
    (out / "Neg").mkdir(parents=True)
    for item, objects in OBJECTS.items():
        path = out / item
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".txt").write_text("".join(_line(c) + "\n" for c in objects))
        pixels = rng.integers(0, 255, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path.with_suffix(".png"))
    Image.fromarray(np.zeros((SIZE[1], SIZE[0], 3), dtype=np.uint8)).save(out / "Neg" / "N0001.png")
    return out
