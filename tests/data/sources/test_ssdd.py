"""SSDD source on a fake of Official-SSDD-OPEN (BBox and RBox voc_style folders)."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.sources import get_source
from earthgpt.geometry import HBB, OBB
from tests.data.fakes import ssdd as fake
from tests.data.sources.detection_helpers import add_bad_voc_objects, check_bad_voc_input, split_output


def test_fake_ssdd_splits_and_kinds(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    assert get_source("ssdd")(root, "test").items() == ["000001", "000009"]
    assert get_source("ssdd")(root, "train").items() == ["000002"]
    records, _ = split_output(get_source("ssdd")(root, "test"))
    assert records[0].objects[0].box == HBB(10, 10, 30, 20)
    image = records[0].image
    assert (image.path, image.width, image.height, image.bands, image.modality) == (
        "BBox_SSDD/voc_style/JPEGImages_test/000001.jpg",
        61,
        43,
        1,
        "sar",
    )
    rotated, _ = split_output(get_source("ssdd")(root, "test", kind="obb"))
    assert rotated[0].objects[0].box == OBB((10.0, 14.0, 26.0, 10.0, 30.0, 16.0, 14.0, 20.0))
    assert rotated[0].image.path == "RBox_SSDD/voc_style/JPEGImages_test/000001.jpg"


def test_fake_ssdd_bad_input(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    base = root / "BBox_SSDD" / "voc_style"
    (base / "Annotations_test" / "000009.xml").write_text("<annotation><object><name>ship")
    (base / "Annotations_test" / "000011.xml").write_text((base / "Annotations_test" / "000001.xml").read_text())
    add_bad_voc_objects(base / "Annotations_test" / "000001.xml", "ship")
    check_bad_voc_input(get_source("ssdd")(root, "test"), "000009", "000011", "000001", kept=1)
    rbox = root / "RBox_SSDD" / "voc_style" / "Annotations_test" / "000001.xml"
    rbox.write_text(rbox.read_text().replace("<x3>30.0</x3>", ""))
    _, skips = split_output(get_source("ssdd")(root, "test", kind="obb").load("000001"))
    assert [s.reason for s in skips] == ["malformed_annotation", "empty_annotation"]
