"""Fake EuroSAT, both releases: ``2750/<Class>/<Class>_<n>.jpg`` (RGB) and the 13-band uint16 GeoTIFFs under
``ds/images/remote_sensing/otherDatasets/sentinel_2/tif/<Class>/<Class>_<n>.tif`` (UTM CRS, 10 m pixels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from PIL import Image

SOURCE = "eurosat"
MS_DIR = "ds/images/remote_sensing/otherDatasets/sentinel_2/tif"
FILES = ("AnnualCrop/AnnualCrop_1", "HerbaceousVegetation/HerbaceousVegetation_12", "SeaLake/SeaLake_3000")
SIZE = 8  # 64 in the real set


def write(root: Path) -> Path:
    out = root / "EuroSAT"
    rng = np.random.default_rng(5)
    for stem in FILES:
        jpg = out / "2750" / f"{stem}.jpg"
        jpg.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)).save(jpg)
        tif = out / MS_DIR / f"{stem}.tif"
        tif.parent.mkdir(parents=True, exist_ok=True)
        bands = rng.integers(0, 4000, (13, SIZE, SIZE), dtype=np.uint16)  # [C, H, W], raw reflectance counts
        profile = {
            "driver": "GTiff",
            "width": SIZE,
            "height": SIZE,
            "count": 13,
            "dtype": "uint16",
            "crs": "EPSG:32632",
            "transform": Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0),  # 10 m UTM pixels
        }
        with rasterio.open(tif, "w", **profile) as dst:
            dst.write(bands)
    return out
