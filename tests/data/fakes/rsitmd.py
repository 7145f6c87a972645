"""Fake RSITMD: ``dataset_RSITMD.json`` (Karpathy style) and ``images/<class>_<n>.tif``."""

from __future__ import annotations

from pathlib import Path

from tests.data.fakes.rsicd import write_karpathy

SOURCE = "rsitmd"
ENTRIES = [
    ("baseballfield_452.tif", "train", [
        "The baseball field is next to the parking lot with many cars.",
        "Two baseball fields are surrounded by green trees.",
        "A baseball field is near a road.",
        "There is a baseball field with some trees.",
        "Several cars are parked beside the baseball field.",
    ]),
    ("boat_10.tif", "test", ["A white boat is sailing on the dark blue sea."] * 5),
]  # fmt: skip


def write(root: Path) -> Path:
    return write_karpathy(root / "RSITMD", "dataset_RSITMD.json", "images", ENTRIES)
