"""Sources that read object masks: sen2ships RLE, HRSID polygons, hrsid_mini PNG components; bad masks skipped."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as coco_mask

from earthgpt.data.corpus.config import TilingOptions
from earthgpt.data.corpus.tiling import cut_record
from earthgpt.data.records import DetectionRecord
from earthgpt.data.sources import Skip, get_source

SUBSET = "subset_offshore_train_30imgs.json"


def _read(source: object) -> tuple[list[DetectionRecord], Counter[str]]:
    records: list[DetectionRecord] = []
    skips: Counter[str] = Counter()
    for item in source.items():  # type: ignore[attr-defined]
        for out in source.load(item):  # type: ignore[attr-defined]
            if isinstance(out, Skip):
                skips[out.reason] += 1
            else:
                records.append(out)
    return records, skips


def test_sen2ships_masks_are_the_json_rle(data_root: Path) -> None:
    source = get_source("sen2ships")(data_root / "sen2ships", "train")
    records, _ = _read(source)
    data = json.loads((data_root / "sen2ships/sen2ships/coco_annotations.json").read_text())
    by_image = {im["file_name"]: im for im in data["images"]}
    rec = records[0]
    image = by_image[Path(rec.id).name]
    anns = [a for a in data["annotations"] if a["image_id"] == image["id"]]
    assert len(rec.masks) == len(rec.objects) == len(anns)
    h, w = image["height"], image["width"]
    for mask, ann in zip(rec.masks, anns, strict=True):
        ref = coco_mask.decode(coco_mask.frPyObjects(ann["segmentation"], h, w)).astype(bool)
        assert mask is not None and np.array_equal(mask.to_array(), ref)


def test_hrsid_polygons_become_masks_and_bad_ones_are_skipped_by_reason(data_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "hrsid"
    shutil.copytree(data_root / "hrsid_modified_coco/images", root / "images")
    data = json.loads((data_root / "hrsid_modified_coco" / SUBSET).read_text())
    data["annotations"][0]["segmentation"] = [[0, 0, 10, 10, 10, 0, 0, 10]]  # a bow tie
    data["annotations"][1]["segmentation"] = {"size": [400, 400], "counts": [0, 160000]}  # wrong size
    (root / SUBSET).write_text(json.dumps(data))
    source = get_source("hrsid")(root, "train", annotations=SUBSET, images="images")
    records, skips = _read(source)
    assert skips["self_intersecting_polygon"] == 1 and skips["mask_size_mismatch"] == 1
    assert set(skips) <= {"self_intersecting_polygon", "mask_size_mismatch", "empty_annotation"}  # a lone ship
    assert sum(len(r.masks) for r in records) == len(data["annotations"]) - 2
    assert all(m is not None and m.to_array().any() for r in records for m in r.masks)


def test_hrsid_mini_components_rebuild_the_png_masks(data_root: Path, tmp_path: Path) -> None:
    source = get_source("hrsid_mini")(data_root / "hrsid_mini", "test")
    records, skips = _read(source)
    assert len(records) == 36 and not skips
    rec = records[0]
    png = np.asarray(Image.open(data_root / f"hrsid_mini/mini_test/masks/{rec.id}.png").convert("RGB"))[..., 1] > 127
    union = np.zeros_like(png)
    for m in rec.masks:
        assert m is not None
        union |= m.to_array()
    assert np.array_equal(union, png)
    # a mask of the wrong size skips its tile, named
    bad = tmp_path / "mini"
    shutil.copytree(data_root / "hrsid_mini/mini_test/images", bad / "mini_test/images")
    (bad / "mini_test/masks").mkdir()
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(bad / f"mini_test/masks/{rec.id}.png")
    _, skips = _read(get_source("hrsid_mini")(bad, "test"))
    assert skips == Counter({"mask_size_mismatch": 1})


def test_tiles_crop_masks_and_drop_them_with_their_objects(data_root: Path) -> None:
    source = get_source("sen2ships")(data_root / "sen2ships", "train")
    record = next(r for r in _read(source)[0] if r.image.width > 800)
    pieces, _ = cut_record(record, record.id, TilingOptions(size=400, overlap=100))
    tiles = [p for p in pieces if isinstance(p, DetectionRecord)]
    assert tiles
    for t in tiles:
        assert len(t.masks) in (0, len(t.objects))
        for obj, mask in zip(t.objects, t.masks, strict=True):
            assert mask is not None and (mask.height, mask.width) == (t.image.height, t.image.width)
            ys, xs = np.nonzero(mask.to_array())
            box = obj.box.as_tuple()
            assert xs.min() >= box[0] - 1 and xs.max() < box[2] + 1  # the mask stays in its clipped box
            assert ys.min() >= box[1] - 1 and ys.max() < box[3] + 1
    # the same pixels as cropping the full mask by hand
    t = tiles[0]
    tile = t.image.tile
    assert tile is not None
    full = np.zeros((record.image.height, record.image.width), bool)
    for m in record.masks:
        assert m is not None
        full |= m.to_array()
    window = full[tile.y : tile.y + tile.height, tile.x : tile.x + tile.width]
    got = np.zeros_like(window)
    for m in t.masks:
        assert m is not None
        got |= m.to_array()
    assert got.sum() <= window.sum() and (got & ~window).sum() == 0


@pytest.mark.parametrize("kind", ["hbb", "obb"])
def test_hrsid_mini_box_kinds(data_root: Path, kind: str) -> None:
    source = get_source("hrsid_mini")(data_root / "hrsid_mini", "test", kind=kind)
    rec = next(iter(_read(source)[0]))
    assert all(type(o.box).__name__ == kind.upper() for o in rec.objects)


def test_ssdd_pseg_polygons_become_masks_and_a_bow_tie_is_skipped(tmp_path: Path) -> None:
    from tests.data.fakes import ssdd_pseg

    root = ssdd_pseg.write(tmp_path)
    records, skips = _read(get_source("ssdd_pseg")(root, "test"))
    assert skips == Counter({"self_intersecting_polygon": 1})
    by_id = {r.id: r for r in records}
    square = by_id["000001"]
    (mask,) = square.masks
    assert mask is not None and mask.to_array().sum() == 20 * 10  # pixel centres inside [10, 30] x [10, 20]
    assert square.objects[0].box.as_tuple() == (10.0, 10.0, 30.0, 20.0)
    triangle = by_id["000009"]
    assert len(triangle.objects) == len(triangle.masks) == 1
    ref = coco_mask.decode(coco_mask.frPyObjects([[30, 5, 45, 5, 45, 15]], 40, 50))[..., 0].astype(bool)
    assert triangle.masks[0] is not None and np.array_equal(triangle.masks[0].to_array(), ref)
    obb = get_source("ssdd_pseg")(root, "train", kind="obb")
    assert type(next(iter(_read(obb)[0])).objects[0].box).__name__ == "OBB"
