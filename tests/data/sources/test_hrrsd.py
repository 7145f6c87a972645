"""HRRSD source on a fake of its OPT2017 VOC layout."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.sources import get_source
from earthgpt.geometry import HBB
from tests.data.fakes import hrrsd as fake
from tests.data.sources.detection_helpers import add_bad_voc_objects, check_bad_voc_input, split_output


def test_fake_hrrsd_records(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    source = get_source("hrrsd")(root, "train")
    assert source.items() == ["00001", "00002"]  # from the CRLF list
    records, skips = split_output(source)
    assert skips == []
    first = records[0]
    assert [(o.label, o.box) for o in first.objects] == [
        ("t junction", HBB(10, 12, 40, 30)),
        ("parking lot", HBB(50, 5, 90, 60)),
    ]
    assert first.image.path == "JPEGImages/00001.jpg" and first.image.modality == "optical"
    assert len(first.categories) == 13 and "t junction" in first.categories
    assert get_source("hrrsd")(root, "val").items() == ["00003"]
    assert source.category_of("T_junction") == "t junction"


def test_fake_hrrsd_bad_input(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    (root / "Annotations" / "00002.xml").write_text((root / "Annotations" / "00002.xml").read_text()[:200])
    (root / "JPEGImages" / "00003.jpg").unlink()
    add_bad_voc_objects(root / "Annotations" / "00001.xml", "vehicle")
    source = get_source("hrrsd")(root, "train")
    check_bad_voc_input(source, "00002", "00003", "00001", kept=2)
