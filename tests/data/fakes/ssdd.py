"""Fake Official-SSDD-OPEN: ``{BBox,RBox}_SSDD/voc_style/{Annotations,JPEGImages}_{train,test}/``.

RBox xml carries both the rotated box parameters and the corners ``<rotated_bndbox><x1>..<y4>`` (float text),
as the official release does; images are single-channel JPEGs of odd sizes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = "ssdd"
SIZES = {"000001": (61, 43), "000009": (50, 40), "000002": (48, 48)}
SPLIT = {"000001": "test", "000009": "test", "000002": "train"}
# stem -> [(hbb, corners)]
OBJECTS = {
    "000001": [((10, 10, 30, 20), (10.0, 14.0, 26.0, 10.0, 30.0, 16.0, 14.0, 20.0))],
    "000009": [((5, 5, 15, 25), (5.0, 5.0, 15.0, 5.0, 15.0, 25.0, 5.0, 25.0))],
    "000002": [((20, 20, 40, 30), (20.0, 20.0, 40.0, 20.0, 40.0, 30.0, 20.0, 30.0))],
}


def _object(hbb: tuple[int, ...], corners: tuple[float, ...], rotated: bool) -> str:
    x1, y1, x2, y2 = hbb
    out = "<object><name>ship</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>"
    out += f"<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox>"
    if rotated:
        names = ("x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4")
        tags = "".join(f"<{n}>{v}</{n}>" for n, v in zip(names, corners, strict=True))
        out += (
            "<rotated_bndbox><rotated_bbox_cx>0</rotated_bbox_cx><rotated_bbox_cy>0</rotated_bbox_cy>"
            f"<rotated_bbox_w>0</rotated_bbox_w><rotated_bbox_h>0</rotated_bbox_h>"
            f"<rotated_bbox_theta>0</rotated_bbox_theta>{tags}</rotated_bndbox>"
        )
    return out + "</object>"


def write(root: Path) -> Path:
    out = root / "Official-SSDD-OPEN"
    rng = np.random.default_rng(9)
    for variant, rotated in (("BBox_SSDD", False), ("RBox_SSDD", True)):
        for stem, (w, h) in SIZES.items():
            split = SPLIT[stem]
            ann = out / variant / "voc_style" / f"Annotations_{split}"
            img = out / variant / "voc_style" / f"JPEGImages_{split}"
            ann.mkdir(parents=True, exist_ok=True)
            img.mkdir(parents=True, exist_ok=True)
            objs = "".join(_object(hbb, c, rotated) for hbb, c in OBJECTS[stem])
            size = f"<size><width>{w}</width><height>{h}</height><depth>1</depth></size>"
            (ann / f"{stem}.xml").write_text(f"<annotation><filename>{stem}.jpg</filename>{size}{objs}</annotation>")
            Image.fromarray(rng.integers(0, 255, (h, w), dtype=np.uint8)).save(img / f"{stem}.jpg")
    return out
