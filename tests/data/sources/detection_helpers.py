"""Helpers shared by the detection source tests: split outputs, and break VOC-style files in the ways real
releases break (truncated xml, absent image, bad single objects)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from earthgpt.data.records import DetectionRecord, Record
from earthgpt.data.sources import Skip, Source

BAD_OBJECT_REASONS = ["nan_coordinate", "zero_area_box", "box_outside_image", "unknown_class"]


def split_output(out: Iterable[Record | Skip]) -> tuple[list[DetectionRecord], list[Skip]]:
    """Detection records and skips of a source's output (anything else fails the test)."""
    records: list[DetectionRecord] = []
    skips: list[Skip] = []
    for r in out:
        if isinstance(r, Skip):
            skips.append(r)
        else:
            assert isinstance(r, DetectionRecord), r
            records.append(r)
    return records, skips


def truncate(path: Path) -> None:
    """Cut a file in the middle of its text, as an interrupted copy would."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def add_bad_voc_objects(xml_path: Path, label: str, object_tag: str = "object", parent: str = ".") -> None:
    """Append four <object>s with a <bndbox>: NaN, zero area, outside the image, and an unknown class."""
    tree = ET.parse(xml_path)
    holder = tree.getroot().find(parent)
    assert holder is not None
    boxes = [
        (label, ("nan", "1", "5", "5")),
        (label, ("3", "3", "3", "9")),
        (label, ("100000", "100000", "100010", "100010")),
        ("zeppelin", ("1", "1", "5", "5")),
    ]
    for name, (x1, y1, x2, y2) in boxes:
        obj = ET.SubElement(holder, object_tag)
        ET.SubElement(obj, "name").text = name
        box = ET.SubElement(obj, "bndbox")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), (x1, y1, x2, y2), strict=True):
            ET.SubElement(box, tag).text = value
    tree.write(xml_path)


def check_bad_voc_input(source: Source, truncated: str, no_image: str, bad_objects: str, kept: int) -> None:
    """``truncated`` -> one malformed_annotation skip; ``no_image`` -> one missing_image skip; ``bad_objects`` ->
    the four bad-object skips in order and a record keeping its ``kept`` good objects."""
    assert [s.reason for s in source.load(truncated)] == ["malformed_annotation"]
    assert [s.reason for s in source.load(no_image)] == ["missing_image"]
    records, skips = split_output(source.load(bad_objects))
    assert [s.reason for s in skips] == BAD_OBJECT_REASONS
    assert "zeppelin" in skips[-1].detail
    assert len(records) == 1 and len(records[0].objects) == kept
