"""HIT-UAV source on the real release: splits, a known box, robndbox corners, bad-input skips."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from earthgpt.data.records import DetectionRecord
from earthgpt.data.sources import DataRootError, Skip, get_source
from earthgpt.geometry import HBB, OBB
from tests.data.corpus.helpers import copy_hit_uav

STEM = "0_100_30_0_03280"


@pytest.fixture(scope="module")
def hit_uav(data_root: Path) -> Path:
    root = data_root / "hit_uav"
    if not root.is_dir():
        pytest.skip(f"HIT-UAV not found under {data_root}")
    return root


def _record(out: list[DetectionRecord | Skip]) -> DetectionRecord:
    records = [r for r in out if isinstance(r, DetectionRecord)]
    assert len(records) == 1
    return records[0]


def test_official_split_sizes_and_crlf(hit_uav: Path) -> None:
    source = get_source("hit_uav")
    train = source(hit_uav, "train").items()
    val = source(hit_uav, "val").items()
    assert (len(train), len(val)) == (600, 150)
    assert not set(train) & set(val)
    # the list files end lines with CRLF: no id may keep a stray carriage return
    assert b"\r\n" in (hit_uav / "normal_xml/ImageSets/Main/train.txt").read_bytes()
    assert all("\r" not in s and s == s.strip() for s in train + val)
    assert STEM in train


def test_known_horizontal_box(hit_uav: Path) -> None:
    rec = _record(list(get_source("hit_uav")(hit_uav, "train").load(STEM)))
    assert rec.image.path == f"normal_xml/JPEGImages/{STEM}.jpg"
    assert (rec.image.width, rec.image.height, rec.image.bands) == (640, 512, 1)
    assert rec.image.modality == "infrared"
    assert len(rec.objects) == 9
    assert rec.objects[0].label == "car"
    assert rec.objects[0].box == HBB(198.0, 105.0, 233.0, 136.0)
    assert rec.categories == ("person", "car", "bicycle", "other vehicle")


def test_robndbox_corners_hand_computed(hit_uav: Path) -> None:
    # second object: cx=373.7907 cy=97.5358 w=27.4285 h=19.3339 angle=0.559865 rad, cos=0.847327, sin=0.531072;
    # corner (dx, dy) -> (cx + dx cos - dy sin, cy + dx sin + dy cos) for dx = -+w/2, dy = -+h/2 (roLabelImg)
    rec = _record(list(get_source("hit_uav")(hit_uav, "train", kind="obb").load(STEM)))
    box = rec.objects[1].box
    assert isinstance(box, OBB)
    # paper order: the corner nearest the origin first, then clockwise on screen
    expected = (357.0364, 98.4436, 367.3041, 82.0615, 390.5450, 96.6280, 380.2773, 113.0101)
    assert box.points == pytest.approx(expected, abs=1e-3)


def test_oriented_boxes_agree_with_horizontal_release(hit_uav: Path) -> None:
    """The enclosing box of every robndbox lies within 1 px of the same object's VOC box."""
    source = get_source("hit_uav")
    hbb, obb = source(hit_uav, "val", kind="hbb"), source(hit_uav, "val", kind="obb")
    checked = 0
    for item in hbb.items()[:40]:
        a = [r for r in hbb.load(item) if isinstance(r, DetectionRecord)]
        b = [r for r in obb.load(item) if isinstance(r, DetectionRecord)]
        assert len(a) == len(b)
        for ra, rb in zip(a, b, strict=True):
            for oa, ob in zip(ra.objects, rb.objects, strict=True):
                assert oa.label == ob.label
                xs, ys = ob.box.as_tuple()[0::2], ob.box.as_tuple()[1::2]
                assert isinstance(oa.box, HBB)
                assert min(xs) == pytest.approx(oa.box.x1, abs=1.0)
                assert max(ys) == pytest.approx(oa.box.y2, abs=1.0)
                checked += 1
    assert checked > 100


def test_dontcare_dropped_with_a_skip_each(hit_uav: Path) -> None:
    source = get_source("hit_uav")(hit_uav, "val")
    out = list(source)
    dontcare = [s for s in out if isinstance(s, Skip) and "DontCare" in s.detail]
    assert len(dontcare) == 2
    assert all(s.reason == "ignored_region" for s in dontcare)
    labels = {o.label for r in out if isinstance(r, DetectionRecord) for o in r.objects}
    assert labels <= set(source.categories)
    empty = [s for s in out if isinstance(s, Skip) and s.reason == "empty_annotation"]
    assert len(empty) == 2


def _copy_subset(src: Path, dst: Path, stems: list[str]) -> None:
    for sub in ("normal_xml/Annotations", "normal_xml/JPEGImages", "rotate_xml/Annotations"):
        (dst / sub).mkdir(parents=True, exist_ok=True)
    (dst / "normal_xml/ImageSets/Main").mkdir(parents=True)
    (dst / "normal_xml/ImageSets/Main/train.txt").write_bytes(("\r\n".join(stems) + "\r\n").encode())
    for stem in stems:
        shutil.copy(src / f"normal_xml/Annotations/{stem}.xml", dst / f"normal_xml/Annotations/{stem}.xml")
        shutil.copy(src / f"normal_xml/JPEGImages/{stem}.jpg", dst / f"normal_xml/JPEGImages/{stem}.jpg")
        shutil.copy(src / f"rotate_xml/Annotations/{stem}.xml", dst / f"rotate_xml/Annotations/{stem}.xml")


def test_bad_input_becomes_named_skips(hit_uav: Path, tmp_path: Path) -> None:
    stems = get_source("hit_uav")(hit_uav, "val").items()[:3]
    _copy_subset(hit_uav, tmp_path, [STEM, *stems])
    ann = tmp_path / "normal_xml/Annotations"
    # truncated xml
    truncated = ann / f"{stems[0]}.xml"
    truncated.write_text(truncated.read_text()[:300])
    # image absent
    (tmp_path / f"normal_xml/JPEGImages/{stems[1]}.jpg").unlink()
    # bad objects in the known file: NaN, zero area, outside the image, unknown class
    xml = (ann / f"{STEM}.xml").read_text()
    xml = xml.replace("<xmin>198</xmin>", "<xmin>nan</xmin>", 1)
    xml = xml.replace("<xmax>390</xmax>", "<xmax>357</xmax>", 1)
    xml = xml.replace("<xmin>119</xmin>", "<xmin>700</xmin>", 1).replace("<xmax>149</xmax>", "<xmax>750</xmax>", 1)
    xml = xml.replace("<name>Car</name>", "<name>Tank</name>", 4)  # the 4th object becomes an unknown class
    xml = xml.replace("<name>Tank</name>", "<name>Car</name>", 3)
    (ann / f"{STEM}.xml").write_text(xml)

    source = get_source("hit_uav")(tmp_path, "train")
    by_item = {item: list(source.load(item)) for item in source.items()}
    assert [s.reason for s in by_item[stems[0]]] == ["malformed_annotation"]
    assert [s.reason for s in by_item[stems[1]]] == ["missing_image"]
    assert any(isinstance(r, DetectionRecord) for r in by_item[stems[2]])
    known = by_item[STEM]
    reasons = [s.reason for s in known if isinstance(s, Skip)]
    assert reasons == ["nan_coordinate", "zero_area_box", "box_outside_image", "unknown_class"]
    assert "Tank" in [s.detail for s in known if isinstance(s, Skip)][-1]
    assert len(_record(known).objects) == 5


def test_unknown_option_and_split_are_errors(hit_uav: Path) -> None:
    source = get_source("hit_uav")
    with pytest.raises(ValueError, match="kind"):
        source(hit_uav, "train", kind="polygon")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="split"):
        source(hit_uav, "trainval")  # not a list of the release


def test_the_official_test_list_is_read_where_the_release_has_it(data_root: Path, tmp_path: Path) -> None:
    """The shared sample lacks ``test.txt`` (the full release lists 579 images there): the split names the file it
    needs; given the list, it reads exactly the images listed."""
    root = copy_hit_uav(data_root, tmp_path, n_train=3, n_val=2)
    with pytest.raises(DataRootError, match=r"ImageSets/Main/test\.txt not found"):
        get_source("hit_uav")(root, "test").items()
    val = (root / "normal_xml/ImageSets/Main/val.txt").read_bytes()
    (root / "normal_xml/ImageSets/Main/test.txt").write_bytes(val)
    test = get_source("hit_uav")(root, "test")
    assert test.items() == get_source("hit_uav")(root, "val").items() and len(test.items()) == 2
    records = [r for r in test if isinstance(r, DetectionRecord)]
    assert {r.split for r in records} == {"test"} and len(records) == 2
