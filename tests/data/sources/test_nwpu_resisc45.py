"""NWPU-RESISC45 source on a fake in the release layout."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.records import SceneRecord
from earthgpt.data.sources import Skip, get_source
from tests.data.fakes import nwpu_resisc45 as fake


def test_fake_nwpu_labels_and_categories(tmp_path: Path) -> None:
    src = get_source("nwpu_resisc45")(fake.write(tmp_path), split="all")
    assert len(src.categories) == 45
    assert src.categories[16] == "ground track field" and "thermal power station" in src.categories
    recs = {r.image.path: r for r in src if isinstance(r, SceneRecord)}
    assert len(recs) == 5
    r = recs["NWPU-RESISC45/ground_track_field/ground_track_field_001.jpg"]
    assert r.label == "ground track field" and (r.image.width, r.image.height) == (32, 32)
    assert recs["NWPU-RESISC45/sea_ice/sea_ice_700.jpg"].label == "sea ice"


def test_fake_nwpu_corrupt_jpeg_is_skipped(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    (root / "NWPU-RESISC45" / "airplane" / "airplane_002.jpg").write_bytes(b"\xff\xd8\xff garbage")
    out = list(get_source("nwpu_resisc45")(root, split="all"))
    skips = [s for s in out if isinstance(s, Skip)]
    assert [(s.item, s.reason) for s in skips] == [("NWPU-RESISC45/airplane/airplane_002.jpg", "unreadable_image")]
    assert sum(isinstance(r, SceneRecord) for r in out) == 4
