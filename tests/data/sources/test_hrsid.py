"""HRSID source on real modified-HRSID COCO json and HRSID tiles."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from shapely.geometry import MultiPoint, Polygon

from earthgpt.data.sources import get_source
from earthgpt.data.sources._annotation_formats import CocoImage
from earthgpt.geometry import HBB, OBB
from tests.data.sources.detection_helpers import split_output

SUBSET = "subset_offshore_train_30imgs.json"


@pytest.fixture(scope="module")
def hrsid(data_root: Path) -> Path:
    root = data_root / "hrsid_modified_coco"
    if not root.is_dir():
        pytest.skip(f"hrsid_modified_coco not found under {data_root}")
    return root


def test_subset_boxes(hrsid: Path) -> None:
    source = get_source("hrsid")(hrsid, "train", annotations=SUBSET, images="images")
    records, skips = split_output(source)
    assert skips == [] and len(records) == 30
    assert sum(len(r.objects) for r in records) == 45
    known = next(r for r in records if r.id == "P0001_1800_2600_3600_4400.jpg")
    # COCO bbox [270, 38, 62, 28]
    assert [(o.label, o.box) for o in known.objects] == [("ship", HBB(270.0, 38.0, 332.0, 66.0))]
    assert (known.image.path, known.image.width, known.image.modality) == (
        "images/P0001_1800_2600_3600_4400.jpg",
        800,
        "sar",
    )


def test_oriented_from_rectangle_polygon(hrsid: Path) -> None:
    source = get_source("hrsid")(hrsid, "train", kind="obb", annotations=SUBSET, images="images")
    (record,), _ = split_output(source.load("P0001_1800_2600_3600_4400.jpg"))
    # polygon [270, 38, 270, 66, 332, 66, 332, 38]: its own minimum rectangle, corners in the paper's order
    assert record.objects[0].box == OBB((270.0, 38.0, 332.0, 38.0, 332.0, 66.0, 270.0, 66.0))


def test_min_area_rectangle_of_real_polygons_matches_shapely(hrsid: Path) -> None:
    path = hrsid / "Annotations" / "inshore" / "inshore_test.json"
    data = json.loads(path.read_text())
    source = get_source("hrsid")(hrsid, "test", kind="obb", annotations=str(path.relative_to(hrsid)), images="images")
    image = CocoImage(0, "x.jpg", 800, 800)
    checked = 0
    for ann in data["annotations"][:40]:
        points = [(x, y) for poly in ann["segmentation"] for x, y in zip(poly[0::2], poly[1::2], strict=True)]
        box = source.read_annotation(ann, image).box
        assert isinstance(box, OBB)
        reference = MultiPoint(points).minimum_rotated_rectangle  # shapely's rotating-calipers result
        assert isinstance(reference, Polygon)
        assert box.area == pytest.approx(reference.area, rel=1e-9)
        assert Polygon(box.corners()).buffer(1e-6).contains(MultiPoint(points))
        checked += 1
    assert checked == 40


def test_missing_images_crowd_and_broken_json(hrsid: Path, tmp_path: Path) -> None:
    source = get_source("hrsid")(
        hrsid, "train", annotations="Annotations/offshore/offshore_train.json", images="images"
    )
    skipped = [s for s in source.load("P0001_0_800_9600_10400.jpg")]
    assert [s.reason for s in skipped] == ["missing_image"]
    data = json.loads((hrsid / SUBSET).read_text())
    # annotations 6, 7 and 8 are the three ships of P0004_4200_5000_6000_6800.jpg
    data["annotations"][6]["iscrowd"] = 1
    data["annotations"][7]["bbox"] = [math.nan, 1, 2, 3]
    (tmp_path / "images").symlink_to(hrsid / "images")
    (tmp_path / "a.json").write_text(json.dumps(data))
    source = get_source("hrsid")(tmp_path, "train", annotations="a.json", images="images")
    records, skips = split_output(source.load("P0004_4200_5000_6000_6800.jpg"))
    assert [s.reason for s in skips] == ["ignored_region", "nan_coordinate"]
    assert "iscrowd" in skips[0].detail
    assert [o.box for o in records[0].objects] == [HBB(419.0, 645.0, 430.0, 689.0)]
    (tmp_path / "b.json").write_text('{"images": [')
    broken = get_source("hrsid")(tmp_path, "train", annotations="b.json", images="images")
    assert broken.items() == ["b.json"]
    assert [s.reason for s in broken.load("b.json")] == ["malformed_annotation"]
