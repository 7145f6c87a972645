"""EuroSAT source on fakes of both releases: RGB jpg and 13-band uint16 GeoTIFF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earthgpt.data.imagery import read_raster
from earthgpt.data.records import SceneRecord
from earthgpt.data.sources import get_source
from tests.data.fakes import eurosat as fake


def _records(root: Path, **options: object) -> dict[str, SceneRecord]:
    src = get_source("eurosat")(root, split="all", **options)
    return {r.id: r for r in src if isinstance(r, SceneRecord)}


def test_fake_eurosat_rgb_release(tmp_path: Path) -> None:
    recs = _records(fake.write(tmp_path), release="rgb")
    r = recs["HerbaceousVegetation/HerbaceousVegetation_12"]
    assert r.label == "herbaceous vegetation" and r.image.path.startswith("2750/")
    assert (r.image.bands, r.image.dtype, r.image.sensor) == (3, "uint8", "Sentinel-2 MSI")
    assert recs["SeaLake/SeaLake_3000"].label == "sea lake" and len(r.categories) == 10


def test_fake_eurosat_all_bands_release_keeps_13_uint16_bands(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    recs = _records(root, release="all_bands")
    r = recs["AnnualCrop/AnnualCrop_1"]
    assert r.label == "annual crop" and r.image.path.endswith(".tif")
    assert (r.image.width, r.image.height, r.image.bands, r.image.dtype) == (8, 8, 13, "uint16")
    pixels = read_raster(root / r.image.path)
    assert pixels.shape == (8, 8, 13) and pixels.dtype == np.uint16
    # a patch is in the same split in both releases (the split key is the stem)
    rgb = _records(root, release="rgb")
    assert {k: v.split for k, v in rgb.items()} == {k: v.split for k, v in recs.items()}


def test_eurosat_auto_and_bad_release(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    ms_only = root / fake.MS_DIR
    assert all(r.image.bands == 13 for r in _records(ms_only).values())
    assert all(r.image.bands == 3 for r in _records(root).values())
    with pytest.raises(ValueError, match="release"):
        get_source("eurosat")(root, release="swir")
