"""RSOD source on a fake of its four per-class folders (JPEGImages + Annotation/xml)."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.sources import get_source
from earthgpt.geometry import HBB
from tests.data.fakes import rsod as fake
from tests.data.sources.detection_helpers import add_bad_voc_objects, check_bad_voc_input, split_output


def _all(root: Path) -> dict[str, object]:
    out = [r for split in ("train", "test") for r in get_source("rsod")(root, split)]
    records, skips = split_output(out)
    assert skips == []
    return {r.id: r for r in records}


def test_fake_rsod_records(tmp_path: Path) -> None:
    records = _all(fake.write(tmp_path))
    assert sorted(records) == sorted(fake.OBJECTS)
    tank = records["oiltank/oiltank_1"]
    assert [(o.label, o.box) for o in tank.objects] == [("oil tank", HBB(5, 5, 25, 25))]  # type: ignore[attr-defined]
    assert tank.image.path == "oiltank/JPEGImages/oiltank_1.jpg"  # type: ignore[attr-defined]


def test_fake_rsod_bad_input(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    xml = root / "aircraft" / "Annotation" / "xml"
    (xml / "aircraft_2.xml").write_text((xml / "aircraft_1.xml").read_text()[:120])
    (xml / "aircraft_3.xml").write_text((xml / "aircraft_1.xml").read_text())
    add_bad_voc_objects(xml / "aircraft_1.xml", "aircraft")
    source = get_source("rsod")(root, "train")
    check_bad_voc_input(source, "aircraft/aircraft_2", "aircraft/aircraft_3", "aircraft/aircraft_1", kept=2)
