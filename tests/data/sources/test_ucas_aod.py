"""UCAS-AOD source on a fake of its CAR/ and PLANE/ folders with 13-number tab-separated lines."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.sources import get_source
from earthgpt.geometry import HBB, OBB
from tests.data.fakes import ucas_aod as fake
from tests.data.sources.detection_helpers import split_output


def _records(root: Path, kind: str) -> dict[str, object]:
    out = [r for s in ("train", "test") for r in get_source("ucas_aod")(root, s, kind=kind)]  # type: ignore[arg-type]
    records, skips = split_output(out)
    assert skips == []
    return {r.id: r for r in records}


def test_fake_ucas_both_kinds(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    obb = _records(root, "obb")
    assert sorted(obb) == sorted(fake.OBJECTS)  # Neg/ is not read
    car = obb["CAR/P0001"]
    assert [(o.label, o.box) for o in car.objects] == [  # type: ignore[attr-defined]
        ("car", OBB((20.5, 10.0, 40.5, 12.0, 39.5, 30.0, 19.5, 28.0)))
    ]
    assert car.image.path == "CAR/P0001.png"  # type: ignore[attr-defined]
    hbb = _records(root, "hbb")
    assert [o.label for o in hbb["PLANE/P0001"].objects] == ["airplane", "airplane"]  # type: ignore[attr-defined]
    assert hbb["CAR/P0001"].objects[0].box == HBB(19.5, 10.0, 40.5, 30.0)  # type: ignore[attr-defined]


def test_fake_ucas_bad_input(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    good = (root / "CAR" / "P0001.txt").read_text()
    (root / "CAR" / "P0001.txt").write_text(
        good + "1\t2\t3\n" + "nan\t1\t5\t1\t5\t5\t1\t5\t\n" + "2\t2\t2\t2\t2\t2\t2\t2\t\n"
    )
    (root / "CAR" / "P0003.txt").write_text(good)
    source = get_source("ucas_aod")(root, "train")
    records, skips = split_output(source.load("CAR/P0001"))
    assert [s.reason for s in skips] == ["malformed_annotation", "nan_coordinate", "zero_area_box"]
    assert len(records[0].objects) == 1
    assert [s.reason for s in source.load("CAR/P0003")] == ["missing_image"]
