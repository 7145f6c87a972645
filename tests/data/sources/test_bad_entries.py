"""One bad entry costs that entry: COCO images, categories, annotations and orphans, RSVQA entries, boxes far past
the image edge, numbers that are not ASCII decimals. Real files, each edited in one place."""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

from earthgpt.data.records import Record, VQARecord
from earthgpt.data.sources import Skip, get_source
from earthgpt.data.sources._annotation_formats import AnnotationError, dota_object, read_int, read_number
from earthgpt.data.sources._detection import box_problem
from earthgpt.geometry import HBB, OBB
from tests.data.corpus.helpers import copy_dota, copy_hit_uav
from tests.data.sources.detection_helpers import split_output

HRSID_SUBSET = "subset_offshore_train_30imgs.json"


def _hrsid_copy(data_root: Path, dest: Path) -> tuple[Path, dict]:
    src = data_root / "hrsid_modified_coco"
    if not src.is_dir():
        pytest.skip(f"hrsid_modified_coco not found under {data_root}")
    dest.mkdir()
    os.symlink(src / "images", dest / "images")
    return dest, json.loads((src / HRSID_SUBSET).read_text())


def test_one_bad_coco_entry_of_each_kind_costs_that_entry(data_root: Path, tmp_path: Path) -> None:
    root, coco = _hrsid_copy(data_root, tmp_path / "hrsid")
    del coco["images"][4]["width"]
    coco["categories"].append({"id": 7})  # no name
    coco["annotations"].append({"id": 9001, "bbox": [1, 1, 5, 5], "category_id": 0})  # no image_id
    for n in (9002, 9003):
        coco["annotations"].append({"id": n, "image_id": 777, "bbox": [1, 1, 5, 5], "category_id": 0})
    (root / "bad.json").write_text(json.dumps(coco))
    records, skips = split_output(get_source("hrsid")(root, "train", annotations="bad.json", images="images"))
    assert len(records) == 29
    assert sorted((s.item, s.reason) for s in skips) == [
        ("annotations[45]", "malformed_annotation"),
        ("categories[1]", "malformed_annotation"),
        ("image_id=777", "orphan_annotation"),
        ("images[4]", "malformed_annotation"),
    ]
    by_item = {s.item: s.detail for s in skips}
    assert f"id {coco['images'][4]['id']!r}" in by_item["images[4]"] and "width" in by_item["images[4]"]
    assert by_item["image_id=777"].startswith("2 annotations (ids 9002, 9003)")


def test_a_coco_file_without_an_images_list_is_one_named_skip(data_root: Path, tmp_path: Path) -> None:
    root, coco = _hrsid_copy(data_root, tmp_path / "hrsid")
    (root / "bad.json").write_text(json.dumps({"annotations": coco["annotations"]}))
    records, skips = split_output(get_source("hrsid")(root, "train", annotations="bad.json", images="images"))
    assert records == [] and [(s.item, s.reason) for s in skips] == [("bad.json", "malformed_annotation")]
    assert "no 'images' list" in skips[0].detail


def _rsvqa_copy(data_root: Path, dest: Path) -> Path:
    src = data_root / "rsvqa_website_samples"
    if not src.is_dir():
        pytest.skip(f"rsvqa_website_samples not found under {data_root}")
    (dest / "qa_json").mkdir(parents=True)
    os.symlink(src / "data_S2_reduced", dest / "data_S2_reduced")
    for name in ("imagesS2_reduced.json", "questionsS2_reduced.json", "answersS2_reduced.json"):
        shutil.copyfile(src / "qa_json" / name, dest / "qa_json" / name)
    return dest


def _edit(path: Path, kind: str, index: int, key: str) -> int:
    """Delete ``key`` of entry ``index`` of the ``kind`` list; returns the entry's id."""
    data = json.loads(path.read_text())
    entry_id = data[kind][index]["id"]
    del data[kind][index][key]
    path.write_text(json.dumps(data))
    return int(entry_id)


def _vqa_output(source: Iterable[Record | Skip]) -> tuple[dict[str, VQARecord], list[Skip]]:
    out = list(source)
    records = {r.id: r for r in out if isinstance(r, VQARecord)}
    assert len(records) + sum(isinstance(r, Skip) for r in out) == len(out)
    return records, [r for r in out if isinstance(r, Skip)]


def test_one_rsvqa_entry_without_id_costs_that_entry(data_root: Path, tmp_path: Path) -> None:
    root = _rsvqa_copy(data_root, tmp_path / "rsvqa")
    whole, _ = _vqa_output(get_source("rsvqa_lr")(root, "train"))
    image_id = _edit(root / "qa_json" / "imagesS2_reduced.json", "images", 3, "id")
    question_id = _edit(root / "qa_json" / "questionsS2_reduced.json", "questions", 0, "id")
    records, skips = _vqa_output(get_source("rsvqa_lr")(root, "train"))
    assert len(whole) == 50 and len(records) == 49 and str(image_id) not in records
    reasons = {(s.item, s.reason) for s in skips}
    assert ("images[3]", "malformed_annotation") in reasons and ("questions[0]", "malformed_annotation") in reasons
    (lost,) = [s for s in skips if f"question {question_id} is not in" in s.detail]
    assert len(records[lost.item].qa) == len(whole[lost.item].qa) - 1  # its image keeps every other question


@pytest.mark.parametrize(
    ("raw", "value"), [("12", 12.0), (" -3.5 ", -3.5), ("1e3", 1000.0), (".5", 0.5), ("7.", 7.0), ("inf", math.inf)]
)
def test_ascii_decimals_are_numbers(raw: str, value: float) -> None:
    assert read_number(raw, "x") == value


@pytest.mark.parametrize("raw", ["٣٤٥", "１２", "1_000", "١.٥", "0x10", "", "1e", "ınf", "１"])
def test_other_digits_are_not_numbers(raw: str) -> None:
    with pytest.raises(AnnotationError, match="not a number"):
        read_number(raw, "x")


def test_integers_from_json() -> None:
    assert [read_int(v, "id") for v in (3, 4.0, "17", " 8 ")] == [3, 4, 17, 8]
    for bad in (True, 2.5, "٣", "x", None, [1]):
        with pytest.raises(AnnotationError):
            read_int(bad, "id")


def test_arabic_indic_digits_in_a_dota_line_skip_that_object(data_root: Path, tmp_path: Path) -> None:
    """Decision: DOTA labelTxt numbers are ASCII; a line written in other digits is a damaged file, so that object
    is skipped as malformed (naming the line) rather than read as a number (which ``float()`` would do)."""
    assert dota_object("674 375 683 375 684 394 675 395 small-vehicle 0").box == OBB(
        (674, 375, 683, 375, 684, 394, 675, 395)
    )
    with pytest.raises(AnnotationError, match="ASCII"):
        dota_object("٦٧٤ 375 683 375 684 394 675 395 small-vehicle 0")
    root = copy_dota(data_root, tmp_path, stems=("P1888",))
    label = root / "train" / "labelTxt" / "P1888.txt"
    lines = label.read_text().splitlines()
    assert lines[2].startswith("674 375")
    lines[2] = lines[2].replace("674", "٦٧٤")
    label.write_text("\n".join(lines) + "\n")
    records, skips = split_output(get_source("dota")(root, "train"))
    assert len(records[0].objects) == 63  # of 64
    assert [s.reason for s in skips] == ["malformed_annotation"] and "٦٧٤" in skips[0].detail


def test_a_box_a_little_past_the_edge_is_clipped_one_far_past_is_skipped() -> None:
    assert box_problem(HBB(600, 10, 643, 50), 640, 512) is None  # 3 px over: clipped to the edge later
    assert box_problem(HBB(-8, 10, 50, 50), 640, 512) is None  # 8 px: the tolerance floor
    reason, detail = box_problem(HBB(600, 10, 5000, 50), 640, 512) or ("", "")
    assert reason == "box_beyond_image" and "4360 px (x)" in detail
    assert box_problem(HBB(10, -40, 50, 50), 640, 512) == (
        "box_beyond_image",
        "coordinates (10, -40, 50, 50) reach 0 px (x) / 40 px (y) past the 640x512 image, more than the 5% clipped "
        "to the edge",
    )
    assert box_problem(OBB((600, 10, 5000, 10, 5000, 50, 600, 50)), 640, 512) is None  # OBBs are kept as written


def test_a_voc_box_far_past_the_image_is_counted(data_root: Path, tmp_path: Path) -> None:
    root = copy_hit_uav(data_root, tmp_path, n_train=1, n_val=0)
    (xml,) = (root / "normal_xml" / "Annotations").glob("*.xml")
    before, _ = split_output(get_source("hit_uav")(root, "train"))
    text = xml.read_text()
    start = text.index("<xmax>") + len("<xmax>")
    end = text.index("</xmax>")
    xml.write_text(text[:start] + "5000" + text[end:])
    after, skips = split_output(get_source("hit_uav")(root, "train"))
    assert len(after[0].objects) == len(before[0].objects) - 1
    assert [s.reason for s in skips if s.reason != "ignored_region"] == ["box_beyond_image"]
