"""Readers for the real data the metric tests use: RSICD captions, HIT-UAV boxes, RSVQA-HR questions."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from earthgpt.geometry import HBB, OBB, LabeledBox

RSICD_FILES = ("data/processed/captions_val2017.json", "data/processed/captions_test2017.json")


def rsicd_captions(data_root: Path) -> dict[str, list[str]]:
    """Image id -> its RSICD captions (val and test parts of the COCO-format conversion)."""
    out: dict[str, list[str]] = defaultdict(list)
    for name in RSICD_FILES:
        doc = json.loads((data_root / "rsicd_captions_jwdevx" / name).read_text(encoding="utf-8"))
        for ann in doc["annotations"]:
            out[str(ann["image_id"])].append(ann["caption"])
    return dict(out)


def hit_uav_hbb(data_root: Path) -> list[tuple[list[LabeledBox], list[bool]]]:
    """Per image (sorted by file name): the VOC-xml horizontal boxes and their difficult flags."""
    out = []
    for path in sorted((data_root / "hit_uav" / "normal_xml" / "Annotations").glob("*.xml")):
        boxes, hard = [], []
        for obj in ET.parse(path).getroot().iter("object"):
            bb = obj.find("bndbox")
            assert bb is not None
            coords = [float(bb.findtext(k, "nan")) for k in ("xmin", "ymin", "xmax", "ymax")]
            boxes.append(LabeledBox(obj.findtext("name", ""), HBB(*coords)))
            hard.append(obj.findtext("difficult", "0").strip() == "1")
        out.append((boxes, hard))
    return out


def hit_uav_obb(data_root: Path) -> list[list[LabeledBox]]:
    """Per image: the roLabelImg oriented boxes (cx, cy, w, h, angle in radians) as 4-corner OBBs."""
    out = []
    for path in sorted((data_root / "hit_uav" / "rotate_xml" / "Annotations").glob("*.xml")):
        boxes = []
        for obj in ET.parse(path).getroot().iter("object"):
            rb = obj.find("robndbox")
            if rb is None:
                continue
            cx, cy, w, h, a = (float(rb.findtext(k, "nan")) for k in ("cx", "cy", "w", "h", "angle"))
            boxes.append(LabeledBox(obj.findtext("name", ""), rotated_box(cx, cy, w, h, a)))
        out.append(boxes)
    return out


def rotated_box(cx: float, cy: float, w: float, h: float, angle: float) -> OBB:
    """The OBB with this centre, size and rotation (radians)."""
    c, s = math.cos(angle), math.sin(angle)
    pts = []
    for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)):
        pts += [cx + dx * c - dy * s, cy + dx * s + dy * c]
    return OBB(tuple(pts))  # type: ignore[arg-type]


def rsvqa_hr(data_root: Path) -> tuple[list[str], list[str]]:
    """(question types, answers) of the active RSVQA-HR sample questions."""
    folder = data_root / "rsvqa_website_samples" / "qa_json"
    questions = json.loads((folder / "USGS_split_train_questions_reduced.json").read_text())["questions"]
    answers = json.loads((folder / "USGS_split_train_answers_reduced.json").read_text())["answers"]
    types, truths = [], []
    for q in questions:
        if q.get("active", True):
            types.append(q["type"])
            truths.append(answers[q["answers_ids"][0]]["answer"])
    return types, truths
