"""Fake UCM-Captions: Karpathy-style ``dataset.json`` with numeric file names and ``imgs/<n>.tif``."""

from __future__ import annotations

from pathlib import Path

from tests.data.fakes.rsicd import write_karpathy

SOURCE = "ucm_captions"
ENTRIES = [
    (
        "1.tif",
        "train",
        ["There is a piece of farmland ."] * 3 + ["It is a piece of cropland .", "Many rows of crops ."],
    ),
    ("2.tif", "train", ["There is a lawn ."] * 5),
    ("1681.tif", "val", ["Two planes are parked on the apron ."] * 5),
    ("1891.tif", "test", ["A freeway with some cars ."] * 5),
]


def write(root: Path) -> Path:
    return write_karpathy(root / "UCM_captions", "dataset.json", "imgs", ENTRIES)
