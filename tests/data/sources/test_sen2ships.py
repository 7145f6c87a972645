"""sen2ships source on the real repository files: boxes from RLE masks, whole scenes, rasters as stored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from shapely.geometry import MultiPoint, Polygon

from earthgpt.data.sources import get_source
from earthgpt.geometry import OBB
from earthgpt.geometry.formats import coco_to_hbb
from earthgpt.geometry.masks import rle_pixels
from tests.data.sources.detection_helpers import split_output


@pytest.fixture(scope="module")
def sen2ships(data_root: Path) -> Path:
    root = data_root / "sen2ships"
    if not (root / "sen2ships" / "coco_annotations.json").is_file():
        pytest.skip(f"sen2ships not found under {data_root}")
    return root


@pytest.fixture(scope="module")
def coco(sen2ships: Path) -> dict:
    return json.loads((sen2ships / "sen2ships" / "coco_annotations.json").read_text())


def test_rle_expansion_equals_pycocotools(coco: dict) -> None:
    image = next(im for im in coco["images"] if im["file_name"] == "honolulu_rgb.tiff")
    anns = [a for a in coco["annotations"] if a["image_id"] == image["id"]]
    assert len(anns) == 12
    for ann in anns:
        h, w = ann["segmentation"]["size"]
        rows, cols = rle_pixels(ann["segmentation"], h, w)
        reference = mask_utils.decode(mask_utils.frPyObjects(ann["segmentation"], h, w))
        ours = np.zeros((h, w), dtype=np.uint8)
        ours[rows, cols] = 1
        assert np.array_equal(ours, reference)


def test_boxes_equal_json_bbox_and_rasters_as_stored(sen2ships: Path, coco: dict) -> None:
    records, skips = split_output(r for s in ("train", "test") for r in get_source("sen2ships")(sen2ships, s))
    by_id = {r.id: r for r in records}
    assert sorted(by_id) == [
        "athens_rgb.tiff",
        "busan_rgb.tiff",
        "casablanca_rgb.tiff",
        "honolulu_rgb.tiff",
        "klang_rgb.tiff",
        "san_francisco_rgb.tiff",
    ]
    # 20 scenes: 6 readable, 14 without a single-file raster (band-only ports or not staged)
    assert len(skips) == 14 and {s.reason for s in skips} == {"missing_image"}
    busan = by_id["busan_rgb.tiff"].image
    assert (busan.path, busan.width, busan.height, busan.bands, busan.dtype) == (
        "sen2ships/busan/busan_rgb.tiff",
        1042,
        699,
        3,
        "uint16",
    )
    assert busan.tile is None  # the scene stays whole
    assert by_id["klang_rgb.tiff"].image.bands == 3  # the RGBA True_color PNG, read without its alpha band
    ids = {im["file_name"]: im["id"] for im in coco["images"]}
    for name, record in by_id.items():
        expected = [coco_to_hbb(a["bbox"]) for a in coco["annotations"] if a["image_id"] == ids[name]]
        assert [o.box for o in record.objects] == expected
    assert sum(len(r.objects) for r in records) == 152


def test_oriented_box_is_the_masks_minimum_rectangle(sen2ships: Path, coco: dict) -> None:
    """Equal in area to shapely's minimum rotated rectangle of the mask's pixel corners, and containing them."""
    (record,), _ = split_output(get_source("sen2ships")(sen2ships, "train", kind="obb").load("honolulu_rgb.tiff"))
    image_id = next(im["id"] for im in coco["images"] if im["file_name"] == "honolulu_rgb.tiff")
    anns = [a for a in coco["annotations"] if a["image_id"] == image_id]
    tilted = 0
    for obj, ann in zip(record.objects, anns, strict=True):
        assert isinstance(obj.box, OBB)
        rows, cols = rle_pixels(ann["segmentation"], *ann["segmentation"]["size"])
        corners = MultiPoint(
            [(c + dx, r + dy) for r, c in zip(rows, cols, strict=True) for dx in (0, 1) for dy in (0, 1)]
        )
        reference = corners.minimum_rotated_rectangle
        assert obj.box.area == pytest.approx(reference.area, rel=1e-9)
        assert Polygon(obj.box.corners()).buffer(1e-6).contains(corners)
        tilted += obj.box.area < coco_to_hbb(ann["bbox"]).area - 1e-6
    assert tilted > 0  # some ships lie diagonally: their rectangle is smaller than the horizontal box


def test_deterministic_disjoint_splits(sen2ships: Path) -> None:
    train = get_source("sen2ships")(sen2ships, "train").items()
    test = get_source("sen2ships")(sen2ships, "test").items()
    assert not set(train) & set(test) and len(train) + len(test) == 20
    assert train == get_source("sen2ships")(sen2ships, "train").items()
