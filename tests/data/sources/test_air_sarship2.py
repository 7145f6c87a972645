"""AIR-SARShip-2.0 source on a fake of its -data (16-bit TIFF) and -xml folders."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.sources import get_source
from earthgpt.geometry import HBB, OBB
from tests.data.fakes import air_sarship2 as fake
from tests.data.sources.detection_helpers import split_output


def test_fake_air_sarship2_records(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    train = get_source("air_sarship2")(root, "train").items()
    test = get_source("air_sarship2")(root, "test").items()
    assert sorted(train + test) == sorted(fake.OBJECTS) and not set(train) & set(test)
    split = "train" if "1" in train else "test"
    (record,), skips = split_output(get_source("air_sarship2")(root, split).load("1"))
    assert skips == []
    assert [(o.label, o.box) for o in record.objects] == [("ship", HBB(5, 6, 21, 12))]  # '<point>5, 6</point>'
    image = record.image
    assert (image.path, image.bands, image.dtype, image.modality) == ("AIR-SARShip-2.0-data/1.tiff", 1, "uint16", "sar")
    (oriented,), _ = split_output(get_source("air_sarship2")(root, split, kind="obb").load("1"))
    assert oriented.objects[0].box == OBB((5.0, 6.0, 21.0, 6.0, 21.0, 12.0, 5.0, 12.0))


def test_fake_air_sarship2_bad_input(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    xml = root / "AIR-SARShip-2.0-xml"
    text = (xml / "1.xml").read_text()
    (xml / "1.xml").write_text(text[:90])
    (xml / "99.xml").write_text(text)
    nan = float("nan")
    bad = [("tanker", ((1, 1), (9, 1), (9, 9), (1, 9))), ("ship", ((nan, 1), (9, 1), (9, 9), (1, 9)))]
    (xml / "2.xml").write_text(fake.sarship_xml("2", bad))
    split = {i: s for s in ("train", "test") for i in get_source("air_sarship2")(root, s).items()}
    source = get_source("air_sarship2")(root, split["1"])
    assert [s.reason for s in source.load("1")] == ["malformed_annotation"]
    assert [s.reason for s in source.load("99")] == ["missing_image"]
    _, skips = split_output(source.load("2"))
    assert [s.reason for s in skips] == ["unknown_class", "nan_coordinate", "empty_annotation"]
