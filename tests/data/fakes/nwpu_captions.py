"""Fake NWPU-Captions: ``dataset_nwpu.json`` keyed by category (``raw``, ``raw_1``..``raw_4``, ``split``) and
``NWPU_images/<category>/<filename>``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "nwpu_captions"
DATA = {
    "airplane": [
        ("airplane_001.jpg", "train", [
            "Three white planes are parked on the ground.",
            "There are three airplanes on the apron.",
            "Three planes are parked on the gray ground.",
            "Three planes are parked on the gray ground.",
            "Some white planes are near the lawn.",
        ]),
        ("airplane_700.jpg", "test", ["A plane is parked on the runway."] * 5),
    ],
    "sea_ice": [("sea_ice_012.jpg", "val", ["Many pieces of white ice are floating on the sea."] * 5)],
}  # fmt: skip


def write(root: Path) -> Path:
    out = root / "NWPU-Captions"
    rng = np.random.default_rng(8)
    data: dict[str, list[dict[str, object]]] = {}
    imgid = sentid = 0
    for category, rows in DATA.items():
        (out / "NWPU_images" / category).mkdir(parents=True, exist_ok=True)
        data[category] = []
        for filename, split, raws in rows:
            entry: dict[str, object] = {"filename": filename, "split": split, "imgid": imgid}
            entry["raw"] = raws[0]
            for k, raw in enumerate(raws[1:], start=1):
                entry[f"raw_{k}"] = raw
            entry["sentids"] = list(range(sentid, sentid + len(raws)))
            data[category].append(entry)
            imgid, sentid = imgid + 1, sentid + len(raws)
            img = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
            Image.fromarray(img).save(out / "NWPU_images" / category / filename)
    (out / "dataset_nwpu.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    return out
