"""Fake RSICD: Karpathy-style ``dataset_rsicd.json`` + ``RSICD_images/*.jpg``; also the writer the other
Karpathy-format fakes (UCM-, Sydney-Captions, RSITMD) share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

SOURCE = "rsicd"

# (file name, split, sentences); RSICD repeats sentences to reach five per image
ENTRIES: list[tuple[str, str, list[str]]] = [
    ("airport_1.jpg", "train", ["many planes are parked next to a long building in an airport ."] * 2
     + ["several airplanes are near a terminal .", " some green trees are near the airport .", "an airport ."]),
    ("beach_3.jpg", "val", ["yellow beach is near a piece of green ocean ."] * 5),
    ("00012.jpg", "test", ["a bridge is over the river .", "a bridge crosses a green river ."] + ["a bridge ."] * 3),
]  # fmt: skip


def karpathy_json(entries: list[tuple[str, str, list[str]]], dataset: str) -> dict[str, Any]:
    """A Karpathy split file: images[] with filename, split, imgid, sentids and sentences[] (raw + tokens)."""
    images, sentid = [], 0
    for imgid, (filename, split, raws) in enumerate(entries):
        sentences = []
        for raw in raws:
            tokens = raw.strip(" .").split()
            sentences.append({"tokens": tokens, "raw": raw, "imgid": imgid, "sentid": sentid})
            sentid += 1
        sentids = [s["sentid"] for s in sentences]
        images.append(
            {"filename": filename, "imgid": imgid, "split": split, "sentences": sentences, "sentids": sentids}
        )
    return {"images": images, "dataset": dataset}


def write_karpathy(
    out: Path, json_name: str, image_dir: str, entries: list[tuple[str, str, list[str]]], size: int = 16
) -> Path:
    """Write ``out/json_name`` and one tiny RGB image per entry in ``out/image_dir``; returns ``out``."""
    (out / image_dir).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(entries))
    for filename, _, _ in entries:
        pixels = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
        fmt = "TIFF" if filename.endswith(".tif") else "JPEG"
        Image.fromarray(pixels).save(out / image_dir / filename, format=fmt)
    (out / json_name).write_text(json.dumps(karpathy_json(entries, Path(json_name).stem)), encoding="utf-8")
    return out


def write(root: Path) -> Path:
    return write_karpathy(root / "RSICD", "dataset_rsicd.json", "RSICD_images", ENTRIES, size=24)
