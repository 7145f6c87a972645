"""DIOR source on real DIOR xml and split lists (zhuyuerong/rsclip copy) with the real pixels of six images,
arranged in the official DIOR layout."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from earthgpt.data.sources import get_source
from earthgpt.geometry import HBB
from tests.data.sources.detection_helpers import add_bad_voc_objects, check_bad_voc_input, split_output

IDS = ("00006", "00258", "00784", "01167", "02317", "02705")


def make_dior_root(data_root: Path, dest: Path) -> Path:
    """The official DIOR layout built from the shared files: xml and split lists linked, the six real images
    (shipped as PNG by Falcon) saved as JPEGImages-trainval/<id>.jpg."""
    falcon = data_root / "falcon_image_samples"
    if not falcon.is_dir():
        pytest.skip(f"falcon_image_samples not found under {data_root}")
    ann = falcon / "dior_annotations"
    (dest / "Annotations").mkdir(parents=True)
    (dest / "ImageSets").mkdir()
    (dest / "JPEGImages-trainval").mkdir()
    os.symlink(ann / "horizontal", dest / "Annotations" / "Horizontal Bounding Boxes")
    os.symlink(ann / "oriented", dest / "Annotations" / "Oriented Bounding Boxes")
    os.symlink(ann / "splits", dest / "ImageSets" / "Main")
    for stem in IDS:
        png = next((falcon / "image_samples").glob(f"*/*DIOR-RSVG_*_{stem}_ori.png"))
        Image.open(png).convert("RGB").save(dest / "JPEGImages-trainval" / f"{stem}.jpg", quality=95)
    return dest


@pytest.fixture(scope="module")
def dior_root(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dior_root(data_root, tmp_path_factory.mktemp("dior"))


def test_official_split_lists(dior_root: Path) -> None:
    source = get_source("dior")
    sizes = {split: len(source(dior_root, split).items()) for split in ("train", "val", "test")}
    assert sizes == {"train": 5862, "val": 5863, "test": 11738}
    train = source(dior_root, "train").items()
    assert all(i == i.strip() and len(i) == 5 for i in train)  # the lists end lines with CRLF
    assert set(IDS) <= set(train)


def test_known_boxes_and_class_names(dior_root: Path) -> None:
    source = get_source("dior")(dior_root, "train")
    records, skips = split_output(r for stem in IDS for r in source.load(stem))
    assert skips == []
    by_id = {r.id: r for r in records}
    ships = by_id["00006"].objects
    assert [(o.label, o.box) for o in ships] == [("ship", HBB(281, 185, 360, 289)), ("ship", HBB(498, 565, 557, 665))]
    assert by_id["00006"].image.path == "JPEGImages-trainval/00006.jpg"
    assert (by_id["00006"].image.width, by_id["00006"].image.height) == (800, 800)
    labels = {o.label for r in records for o in r.objects}
    assert labels == {"ship", "tennis court", "vehicle", "harbor", "baseball field", "golf field", "basketball court"}
    assert sum(len(r.objects) for r in records) == 24


def test_mixed_case_class_names_match(dior_root: Path) -> None:
    source = get_source("dior")(dior_root, "train")
    assert source.category_of("Expressway-Service-area") == "expressway service area"
    assert source.category_of("expressway-service-area") == "expressway service area"
    assert source.category_of("STORAGETANK") == "storage tank"
    assert source.category_of("storage") is None
    assert len(source.categories) == 20


def test_bad_input(data_root: Path, tmp_path: Path) -> None:
    root = make_dior_root(data_root, tmp_path / "dior")
    ann = root / "Annotations" / "Horizontal Bounding Boxes"
    ann.unlink()  # replace the link by a writable copy
    shutil.copytree(data_root / "falcon_image_samples/dior_annotations/horizontal", ann)
    for p in ann.iterdir():
        p.chmod(0o644)
    (ann / "00258.xml").write_bytes((ann / "00258.xml").read_bytes()[:300])
    (root / "JPEGImages-trainval" / "00784.jpg").unlink()
    add_bad_voc_objects(ann / "00006.xml", "ship")
    check_bad_voc_input(get_source("dior")(root, "train"), "00258", "00784", "00006", kept=2)
    assert [s.reason for s in get_source("dior")(root, "train").load("00007")] == ["missing_annotation"]
