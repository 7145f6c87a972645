"""Fake CRSVQA: ``text/<stem>.txt`` with alternating question/answer lines (CRLF, a full-width '？') and
``image/<stem>.png``; the stems are chosen so that the source's hash split puts one image in "test" and the rest in
"train"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "crsvqa"
TEXTS = {
    "P0001_0": [
        "What is the scene of this image?",
        "harbor",
        "How many ships are docked next to the largest building？",
        "3",
    ],
    "P0002_1": ["Is there a bridge over the river?", "yes"],
    "P0006_2": [
        "What is the color of the vehicle parked closest to the roundabout？",
        "white",
        "Are there more planes than vehicles in this image?",
        "no",
    ],
}
# Where the source's hash split sends each stem at the evaluation's 10% test fraction (asserted by the tests):
# P0006_2 lands in "test", the others in "train".
TEST_FRACTION = 0.1
TEST_STEMS = ("P0006_2",)


def write(root: Path) -> Path:
    out = root / "data"
    (out / "text").mkdir(parents=True)
    (out / "image").mkdir()
    rng = np.random.default_rng(12)
    for stem, lines in TEXTS.items():
        (out / "text" / f"{stem}.txt").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
        Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(out / "image" / f"{stem}.png")
    return out
