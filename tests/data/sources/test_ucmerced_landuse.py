"""UC Merced source on a fake of the official zip layout (nested Images folder, TIFF, odd sizes)."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.records import SceneRecord
from earthgpt.data.sources import get_source
from tests.data.fakes import ucmerced_landuse as fake


def test_fake_ucm_labels_sizes_and_nesting(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    cls = get_source("ucmerced_landuse")
    src = cls(root, split="all")
    assert len(src.categories) == 21 and "mobile home park" in src.categories
    recs = {r.image.path: r for r in src if isinstance(r, SceneRecord)}
    assert recs["Images/denseresidential/denseresidential07.tif"].label == "dense residential"
    short = recs["Images/tenniscourt/tenniscourt99.tif"]
    assert short.label == "tennis court" and (short.image.width, short.image.height) == (24, 23)
    # the folder above UCMerced_LandUse works too, with paths relative to it
    above = {r.image.path for r in cls(tmp_path, split="all")}
    assert "UCMerced_LandUse/Images/agricultural/agricultural00.tif" in above
