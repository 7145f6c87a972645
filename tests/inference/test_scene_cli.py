"""`earthgpt scene` end to end with a tiny random-weight model, and its errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from earthgpt.cli import main
from earthgpt.data.tokenizer import train_tokenizer
from earthgpt.inference.scene import PredictorTiles, SceneJob, open_scene, outputs, run_scene, tile_windows
from earthgpt.inference.scene.profiles import Display, to_display
from earthgpt.inference.scene.slicing import read_tile
from earthgpt.models import build_model, tiny_config
from earthgpt.pipeline import token_ids
from tests.inference.fakes import ValueDetector, write_geotiff

BUSAN = "sen2ships/sen2ships/busan/busan_rgb.tiff"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny EarthGPT with random weights (trained 0 steps) and its tokenizer, saved as a model directory."""
    tok = train_tokenizer(["USER: Detect all objects ASSISTANT: ship [0.100,0.200,0.300,0.400]"] * 30, vocab_size=300)
    torch.manual_seed(0)
    model = build_model(tiny_config(**token_ids(tok)))
    out = tmp_path_factory.mktemp("tiny_model")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def test_cli_runs_the_model_on_every_tile_in_batches(model_dir: Path, tmp_path: Path) -> None:
    rgb = np.random.default_rng(0).integers(0, 255, (3, 200, 300), dtype=np.uint8)
    scene = write_geotiff(tmp_path / "scene.tif", rgb)
    out = tmp_path / "r.geojson"
    argv = ["scene", str(scene), "--model", str(model_dir), "--out", str(out), "--batch-size", "3",
            "--max-new-tokens", "6", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    records = [json.loads(line) for line in outputs(out)["journal"].read_text().splitlines()[1:]]
    windows = tile_windows(300, 200, 160, 0.2)  # the tiny model's 160 px input is the tile
    assert [tuple(r["window"]) for r in records] == windows and len(windows) == 6  # x 0, 128, 140; y 0, 40
    tiles = PredictorTiles(model_dir, batch_size=6, max_new_tokens=6)
    info = open_scene(scene)
    images = [to_display(read_tile(info, w), Display("rgb8", (0, 1, 2), None)) for w in windows]
    assert [r["text"] for r in records] == [a.text for a in tiles.answer(images, _question())]
    out_json = json.loads(out.read_text())
    assert out_json["type"] == "FeatureCollection" and out_json["crs"]["properties"]["name"].endswith("32633")
    assert json.loads(outputs(out)["summary"].read_text())["tiles"] == {"answered": 6, "nodata": 0, "total": 6}


def _question() -> str:
    from earthgpt.data.instructions.templates import DETECT_HBB

    return DETECT_HBB


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    return capsys.readouterr().err


def test_bad_scenes_give_a_clear_cli_error(
    model_dir: Path, data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "r.geojson")
    text = tmp_path / "notes.tif"
    text.write_text("not an image")
    err = _error(capsys, ["scene", str(text), "--model", str(model_dir), "--out", out])
    assert str(text) in err and "cannot read the TIFF header" in err
    cut = tmp_path / "cut.tif"
    cut.write_bytes((data_root / BUSAN).read_bytes()[:50_000])
    err = _error(capsys, ["scene", str(cut), "--model", str(model_dir), "--out", out])
    assert str(cut) in err and "truncated" in err and "copy the file again" in err
    jpg = tmp_path / "scene.jpg"
    jpg.write_bytes(b"\xff\xd8\xff")
    assert "gdal_translate" in _error(capsys, ["scene", str(jpg), "--model", str(model_dir), "--out", out])
    err = _error(
        capsys, ["scene", str(data_root / BUSAN), "--model", str(model_dir), "--out", out, "--task", "segment"]
    )
    assert "--class NAME" in err and "--query" in err
    err = _error(capsys, ["scene", str(data_root / BUSAN), "--model", str(tmp_path), "--out", out, "--bands", "4,3,2"])
    assert "must name 1 or 3 of the bands 1..3" in err
    assert not Path(out).exists()


def test_a_header_claiming_60000_px_is_read_by_window(model_dir: Path, tmp_path: Path) -> None:
    """Decided: a scene larger than the pixel budget is fine, since no read decodes more than a tile (or the
    1024 px statistics view); a sparse 60000 x 60000 GeoTIFF of a few KB is planned and read tile by tile."""
    import rasterio

    path = tmp_path / "huge.tif"
    profile = {"driver": "GTiff", "width": 60000, "height": 60000, "count": 1, "dtype": "uint16", "tiled": True,
               "blockxsize": 256, "blockysize": 256, "compress": "deflate", "nodata": 0, "crs": "EPSG:32633",
               "transform": rasterio.transform.from_origin(0.0, 0.0, 10.0, 10.0), "sparse_ok": True}  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(np.full((1, 20, 20), 500, dtype=np.uint16), window=rasterio.windows.Window(30, 30, 20, 20))
    assert path.stat().st_size < 1_000_000
    job = SceneJob(scene=path, out=tmp_path / "huge.geojson", tile=100, overlap=0.0, max_tiles=3)
    result = run_scene(job, ValueDetector(side=100), progress=False)
    assert (result.tiles, result.done, result.answered, result.nodata) == (600 * 600, 3, 1, 2)
