"""Fake Sydney-Captions: Karpathy-style ``dataset.json`` and ``imgs/<n>.tif``."""

from __future__ import annotations

from pathlib import Path

from tests.data.fakes.rsicd import write_karpathy

SOURCE = "sydney_captions"
ENTRIES = [
    ("1.tif", "train", ["A residential area with houses arranged neatly ."] * 4 + ["Lots of houses ."]),
    ("498.tif", "val", ["An industrial area with many buildings ."] * 5),
    ("556.tif", "test", ["A river goes through this area ."] * 5),
]


def write(root: Path) -> Path:
    return write_karpathy(root / "Sydney_captions", "dataset.json", "imgs", ENTRIES)
