"""The InfiRay releases: one reader and a table, each release registered under its own name with its own card."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from earthgpt.data.sources import get_source
from earthgpt.data.sources.infiray import INFIRAY_RELEASES, InfiRayVoc
from tests.data.fakes import aerial_mancar, double_light_vehicle, infrared_security, sea_shipping
from tests.data.sources.detection_helpers import split_output

FAKES = {m.SOURCE: m for m in (sea_shipping, infrared_security, aerial_mancar, double_light_vehicle)}


def test_every_row_is_a_registered_source_with_its_card() -> None:
    assert sorted(r.name for r in INFIRAY_RELEASES) == sorted(FAKES)
    for release in INFIRAY_RELEASES:
        cls = get_source(release.name)
        assert issubclass(cls, InfiRayVoc) and cls.release is release and cls.name == release.name
        assert cls.modality == "infrared" and cls.splits == ("train", "test")
        doc = cls.__doc__ or ""
        assert release.url in doc and f"{release.samples:,} training samples" in doc
        assert f"tests/data/fakes/{release.name}.py" in doc
        assert pickle.loads(pickle.dumps(cls)) is cls


@pytest.mark.parametrize("name", sorted(FAKES))
def test_each_release_reads_its_fake_and_names_itself_in_skips(name: str, tmp_path: Path) -> None:
    fake = FAKES[name]
    root = fake.write(tmp_path)
    records, skips = split_output(r for s in ("train", "test") for r in get_source(name)(root, s))
    assert skips == [] and len(records) == fake.IMAGES
    assert {r.source for r in records} == {name} and records[0].categories == tuple(sorted(fake.CLASSES))
    (root / "Annotations" / "00000.xml").write_text("<annotation>")
    split = next(s for s in ("train", "test") if "00000" in get_source(name)(root, s).items())
    (skip,) = get_source(name)(root, split).load("00000")
    assert skip.source == name and skip.reason == "malformed_annotation"
