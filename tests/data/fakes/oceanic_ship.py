"""Fake oceanic ship: the infrared VOC layout of ``_infrared_voc``, with made-up class names."""

from __future__ import annotations

from pathlib import Path

from tests.data.fakes import _infrared_voc

SOURCE = "oceanic_ship"
CLASSES = ("ship",)
IMAGES = _infrared_voc.IMAGES


def write(root: Path) -> Path:
    return _infrared_voc.write(root / SOURCE, CLASSES, seed=5)
