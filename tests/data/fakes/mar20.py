"""Fake MAR20: ``Annotations/{Horizontal,Oriented} Bounding Boxes/<id>.xml`` (folder names with spaces),
``JPEGImages/<id>.jpg``, ``ImageSets/Main/{train,val,test}.txt``; classes written as codes A1..A20."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "mar20"
SIZE = (80, 80)
# id -> [(code, hbb, oriented corners left-top, right-top, right-bottom, left-bottom)]
OBJECTS = {
    "1": [("A2", (10, 10, 40, 30), (12, 10, 40, 14, 38, 30, 10, 26)), ("A14", (50, 50, 70, 75), (50, 50, 70, 50, 70, 75, 50, 75))],
    "2": [("A20", (5, 5, 25, 25), (5, 15, 15, 5, 25, 15, 15, 25))],
}  # fmt: skip
SPLITS = {"train": ["1"], "val": [], "test": ["2"]}
_CORNERS = ("x_left_top", "y_left_top", "x_right_top", "y_right_top", "x_right_bottom", "y_right_bottom",
            "x_left_bottom", "y_left_bottom")  # fmt: skip


def _xml(stem: str, objects: list[tuple[str, tuple[int, ...], tuple[int, ...]]], oriented: bool) -> str:
    body = []
    for code, hbb, corners in objects:
        if oriented:
            tags = "".join(f"<{t}>{v}</{t}>" for t, v in zip(_CORNERS, corners, strict=True))
            box = f"<type>robndbox</type><name>{code}</name><robndbox>{tags}</robndbox><angle>0</angle>"
        else:
            x1, y1, x2, y2 = hbb
            box = f"<name>{code}</name><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox>"
        body.append(f"<object>{box}<pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult></object>")
    size = f"<size><width>{SIZE[0]}</width><height>{SIZE[1]}</height><depth>3</depth></size>"
    return f"<annotation><filename>{stem}.jpg</filename>{size}{''.join(body)}</annotation>"


def write(root: Path) -> Path:
    out = root / "MAR20"
    hbb_dir = out / "Annotations" / "Horizontal Bounding Boxes"
    obb_dir = out / "Annotations" / "Oriented Bounding Boxes"
    for folder in (hbb_dir, obb_dir, out / "JPEGImages", out / "ImageSets" / "Main"):
        folder.mkdir(parents=True)
    rng = np.random.default_rng(20)
    for stem, objects in OBJECTS.items():
        (hbb_dir / f"{stem}.xml").write_text(_xml(stem, objects, oriented=False))
        (obb_dir / f"{stem}.xml").write_text(_xml(stem, objects, oriented=True))
        Image.fromarray(rng.integers(0, 255, (SIZE[1], SIZE[0], 3), dtype=np.uint8)).save(
            out / "JPEGImages" / f"{stem}.jpg"
        )
    for split, ids in SPLITS.items():
        (out / "ImageSets" / "Main" / f"{split}.txt").write_text("".join(f"{i}\n" for i in ids))
    return out
