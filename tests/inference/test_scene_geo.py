"""Scenes on the real sen2ships GeoTIFFs: CRS and transform carried over, pixels to map coordinates, profiles."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.transform
import rasterio.warp

from earthgpt.inference.scene import Answer, SceneJob, open_scene, run_scene
from earthgpt.inference.scene.export import NO_CRS_WARNING
from earthgpt.inference.scene.profiles import S2_DISPLAY_MAX, Display, scene_stretch, to_display
from earthgpt.inference.scene.slicing import read_tile
from tests.inference.fakes import write_geotiff

BUSAN = "sen2ships/sen2ships/busan/busan_rgb.tiff"  # 1042 x 699 RGB uint8, EPSG:3857
KLANG_B04 = "sen2ships/sen2ships/klang/2023-04-08-00_00_2023-04-08-23_59_Sentinel-2_L2A_B04_(Raw).tiff"


class FixedBox:
    """Answers the same normalised box for every tile: [0.25, 0.25, 0.5, 0.5] of the tile's padded square."""

    side = 2048

    def answer(self, tiles: Sequence[np.ndarray], question: str) -> list[Answer]:
        return [Answer("ship [0.250,0.250,0.500,0.500]") for _ in tiles]


def test_crs_and_transform_come_from_the_file(data_root: Path) -> None:
    scene = open_scene(data_root / BUSAN)
    with rasterio.open(data_root / BUSAN) as ds:
        assert scene.crs == ds.crs.to_string() == "EPSG:3857"
        assert scene.transform == tuple(ds.transform)[:6]
        assert (scene.info.width, scene.info.height) == (ds.width, ds.height) == (1042, 699)


def test_a_box_at_a_known_pixel_lands_where_rasterio_puts_it(data_root: Path, tmp_path: Path) -> None:
    job = SceneJob(scene=data_root / BUSAN, out=tmp_path / "busan.geojson")  # one 1042 x 699 tile
    result = run_scene(job, FixedBox(), progress=False)
    # square side 1042, the image 171.5 px below its top: x = 0.25 * 1042, y = 0.25 * 1042 - 171.5
    assert [b.box.as_tuple() for b in result.boxes] == [(260.5, 89.0, 521.0, 349.5)]
    out = json.loads(job.out.read_text())
    assert out["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::3857"
    ring = out["features"][0]["geometry"]["coordinates"][0]
    with rasterio.open(data_root / BUSAN) as ds:
        xs, ys = rasterio.transform.xy(ds.transform, [89.0, 349.5], [260.5, 521.0], offset="ul")
    assert ring[0] == pytest.approx([xs[0], ys[0]], abs=1e-6) and ring[2] == pytest.approx([xs[1], ys[1]], abs=1e-6)

    job84 = SceneJob(scene=data_root / BUSAN, out=tmp_path / "busan84.geojson", crs="EPSG:4326")
    run_scene(job84, FixedBox(), progress=False)
    out84 = json.loads(job84.out.read_text())
    lon, lat = rasterio.warp.transform("EPSG:3857", "EPSG:4326", [xs[0]], [ys[0]])
    assert "crs" not in out84  # RFC 7946: WGS 84 longitude, latitude
    assert out84["features"][0]["geometry"]["coordinates"][0][0] == pytest.approx([lon[0], lat[0]], abs=1e-9)
    assert 128.0 < lon[0] < 130.0 and 34.0 < lat[0] < 36.0  # Busan


def test_sentinel2_reflectance_profile_on_a_raw_band(data_root: Path) -> None:
    path = data_root / KLANG_B04
    scene = open_scene(path)
    assert scene.info.dtype == "uint16" and scene.crs == "EPSG:3857"
    display = Display("sentinel2", (0,), scene_stretch(path, scene.info, Display("sentinel2", (0,), None), None))
    raw = read_tile(scene, (100, 200, 64, 48))
    rgb = to_display(raw, display)
    want = np.clip(raw[:, :, 0].astype(np.float32) / 10000.0 * (255.0 / S2_DISPLAY_MAX), 0, 255).astype(np.uint8)
    assert rgb.shape == (48, 64, 3) and np.array_equal(rgb[:, :, 1], want)


def test_sar_db_and_thermal_stretch_by_scene_percentiles(tmp_path: Path) -> None:
    values = np.arange(1, 101, dtype=np.float32).reshape(1, 10, 10) * 10.0  # amplitudes 10..1000
    path = write_geotiff(tmp_path / "sar.tif", values)
    scene = open_scene(path)
    sar = scene_stretch(path, scene.info, Display("sar", (0,), None), None)
    db = 20.0 * np.log10(values.reshape(-1))
    assert (
        sar is not None
        and sar.low[0] == pytest.approx(np.percentile(db, 2))
        and sar.high[0] == pytest.approx(np.percentile(db, 98))
    )
    thermal = scene_stretch(path, scene.info, Display("thermal", (0,), None), None)
    assert thermal is not None and thermal.low[0] == pytest.approx(np.percentile(values, 2))
    rgb = to_display(read_tile(scene, (0, 0, 10, 10)), Display("thermal", (0,), thermal))
    assert rgb[0, 0, 0] == 0 and rgb[9, 9, 2] == 255 and (rgb[..., 0] == rgb[..., 2]).all()


def test_no_crs_gives_pixel_coordinates_and_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    grey = np.zeros((1, 120, 200), dtype=np.uint8)
    path = write_geotiff(tmp_path / "plain.tif", np.concatenate([grey + 5] * 3), crs=None, tiled=False)
    job = SceneJob(scene=path, out=tmp_path / "plain.geojson")
    with caplog.at_level(logging.WARNING):
        run_scene(job, FixedBox(), progress=False)
    out = json.loads(job.out.read_text())
    assert out["warning"] == NO_CRS_WARNING and "crs" not in out and NO_CRS_WARNING in caplog.text
    # 200 x 120: square side 200, the image 40 px below its top
    assert out["features"][0]["geometry"]["coordinates"][0][0] == [50.0, 10.0]
