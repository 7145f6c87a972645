"""MAR20 source on a fake of its release layout (horizontal and oriented xml, codes A1..A20)."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.sources import get_source
from earthgpt.geometry import HBB, OBB
from tests.data.fakes import mar20 as fake
from tests.data.sources.detection_helpers import add_bad_voc_objects, check_bad_voc_input, split_output


def test_fake_mar20_both_kinds(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    (hbb,), _ = split_output(get_source("mar20")(root, "train"))
    (obb,), _ = split_output(get_source("mar20")(root, "train", kind="obb"))
    assert [(o.label, o.box) for o in hbb.objects] == [("c-130", HBB(10, 10, 40, 30)), ("kc-135", HBB(50, 50, 70, 75))]
    assert obb.objects[0].box == OBB((12.0, 10.0, 40.0, 14.0, 38.0, 30.0, 10.0, 26.0))
    assert obb.objects[0].label == "c-130"
    (test,), _ = split_output(get_source("mar20")(root, "test"))
    assert test.objects[0].label == "su-24"
    assert get_source("mar20")(root, "val").items() == []
    assert len(hbb.categories) == 20


def test_fake_mar20_bad_input(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    ann = root / "Annotations" / "Horizontal Bounding Boxes"
    (ann / "3.xml").write_text((ann / "2.xml").read_text())
    (ann / "2.xml").write_text((ann / "2.xml").read_text()[:100])
    add_bad_voc_objects(ann / "1.xml", "A1")
    (root / "ImageSets" / "Main" / "train.txt").write_text("1\n2\n3\n")
    check_bad_voc_input(get_source("mar20")(root, "train"), "2", "3", "1", kept=2)
