"""Sea-shipping source (and the VOC reader shared by the InfiRay-style infrared sets) on a fake VOC release."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.sources import get_source
from earthgpt.geometry import HBB
from tests.data.fakes import sea_shipping as fake
from tests.data.sources.detection_helpers import add_bad_voc_objects, check_bad_voc_input, split_output


def test_fake_sea_shipping_classes_from_the_files(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    source = get_source("sea_shipping")(root, "train")
    assert source.categories == ("bulk carrier", "liner", "warship")
    assert source.modality == "infrared"
    train, test = source.items(), get_source("sea_shipping")(root, "test").items()
    assert sorted(train + test) == [f"{i:05d}" for i in range(fake.IMAGES)] and not set(train) & set(test)
    records, skips = split_output(source)
    assert skips == []
    first = next(r for r in records if r.id == "00000")
    assert [(o.label, o.box) for o in first.objects] == [
        ("liner", HBB(4, 4, 12, 14)),
        ("bulk carrier", HBB(12, 9, 20, 19)),
    ]
    assert (first.image.path, first.image.bands) == ("JPEGImages/00000.jpg", 1)


def test_fixed_class_list_and_split_lists(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "ImageSets" / "Main" / "train.txt").write_bytes(b"00000\r\n00001\r\n")
    source = get_source("sea_shipping")(root, "train", classes=("liner", "Warship"))
    assert source.items() == ["00000", "00001"]
    assert source.categories == ("liner", "warship")
    records, skips = split_output(source)
    assert [s.reason for s in skips] == ["unknown_class", "unknown_class"]  # 'bulk carrier' twice
    assert [o.label for r in records for o in r.objects] == ["liner", "warship"]


def test_fake_sea_shipping_bad_input(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    ann = root / "Annotations"
    (ann / "00001.xml").write_text((ann / "00001.xml").read_text()[:150])
    (root / "JPEGImages" / "00002.jpg").unlink()
    add_bad_voc_objects(ann / "00000.xml", "liner")
    source = get_source("sea_shipping")(root, "train", classes=fake.CLASSES)
    check_bad_voc_input(source, "00001", "00002", "00000", kept=2)
