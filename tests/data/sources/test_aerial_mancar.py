"""aerial_mancar source on a fake VOC release (layout and open class list as in sea_shipping)."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.sources import get_source
from earthgpt.geometry import HBB
from tests.data.fakes import aerial_mancar as fake
from tests.data.sources.detection_helpers import split_output


def test_fake_aerial_mancar_records(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    records, skips = split_output(r for s in ("train", "test") for r in get_source("aerial_mancar")(root, s))
    assert skips == [] and len(records) == fake.IMAGES
    first = next(r for r in records if r.id == "00000")
    assert (first.objects[0].label, first.objects[0].box) == ("person", HBB(4, 4, 12, 14))
    assert first.image.modality == "infrared" and first.image.bands == 1
    assert first.categories == tuple(sorted(fake.CLASSES))
