"""`earthgpt scene --task segment`: tile masks shifted into scene pixels and unioned per class across tile overlaps,
exported as GeoJSON / COCO / summary, resumable; the real command with a tiny EarthGPT-X model on sen2ships."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
import torch

from earthgpt.cli import main
from earthgpt.data.instructions.templates import SEGMENT_CLASS, SEGMENT_EXPRESSION
from earthgpt.data.tokenizer import train_tokenizer
from earthgpt.geometry.masks import mask_geometry
from earthgpt.geometry.prompts import RleMask
from earthgpt.inference.output import Generation
from earthgpt.inference.scene import PredictorTiles, SceneJob, outputs, run_scene, tile_windows
from earthgpt.inference.scene.merge import merge_masks, tile_mask_geometry
from earthgpt.inference.scene.predict import NoMaskDecoderError
from earthgpt.models import build_model, tiny_config
from earthgpt.pipeline import token_ids, x_token_ids
from tests.inference.fakes import ValueSegmenter, draw_objects, write_geotiff

BUSAN = "sen2ships/sen2ships/busan/busan_rgb.tiff"
SIZE = (260, 180)  # w, h: with 100 px tiles at overlap 0.4, windows start at x 0, 60, 120, 160 and y 0, 60, 80


def _mask(h: int, w: int, rows: slice, cols: slice) -> RleMask:
    m = np.zeros((h, w), dtype=bool)
    m[rows, cols] = True
    return RleMask.from_array(m)


def test_masks_overlapping_across_a_tile_border_union_into_one_polygon() -> None:
    # tile A at x 0..10, tile B at x 8..18: A's rows 2-4 x cols 6-9 (12 px) and B's rows 3-5 x its cols 0-2 =
    # scene cols 8-10 (9 px) share rows 3-4 x cols 8-9 (4 px): one object of 12 + 9 - 4 = 17 px
    a = tile_mask_geometry(_mask(10, 10, slice(2, 5), slice(6, 10)), (0, 0, 10, 10))
    b = tile_mask_geometry(_mask(10, 10, slice(3, 6), slice(0, 3)), (8, 0, 10, 10))
    apart = tile_mask_geometry(_mask(10, 10, slice(8, 10), slice(5, 7)), (8, 0, 10, 10))  # 4 px at x 13-14, y 8-9
    other = tile_mask_geometry(_mask(10, 10, slice(2, 5), slice(6, 10)), (0, 0, 10, 10))
    regions = merge_masks([("ship", a), ("ship", b), ("ship", apart), ("tank", other)])
    assert [(r.label, r.pixels) for r in regions] == [("ship", 17), ("ship", 4), ("tank", 12)]
    assert regions[0].polygon.bounds == (6.0, 2.0, 11.0, 6.0)
    want = shapely.Polygon([(6, 2), (10, 2), (10, 3), (11, 3), (11, 6), (8, 6), (8, 5), (6, 5)])
    assert regions[0].polygon.symmetric_difference(want).area == 0
    assert regions[1].polygon.bounds == (13.0, 8.0, 15.0, 10.0)
    reversed_order = merge_masks([("tank", other), ("ship", apart), ("ship", b), ("ship", a)])
    assert [r.polygon.wkt for r in reversed_order] == [r.polygon.wkt for r in regions]  # order-free output


def test_a_mask_geometry_keeps_its_holes_and_a_wrong_size_mask_is_refused() -> None:
    ring = np.ones((5, 5), dtype=bool)
    ring[2, 2] = False
    g = mask_geometry(ring)
    assert g.area == 24 and len(g.interiors) == 1
    assert mask_geometry(np.zeros((3, 3))).is_empty
    with pytest.raises(ValueError, match="the tile's own pixels"):
        tile_mask_geometry(_mask(8, 10, slice(0, 1), slice(0, 1)), (0, 0, 10, 10))


def _rect(x: float, y: float, w: float, h: float) -> list[tuple[float, float]]:
    return [(x, y), (x + w - 1, y), (x + w - 1, y + h - 1), (x, y + h - 1)]


def _scene(tmp_path: Path, nodata_from_x: int | None = None) -> Path:
    # ship 1 lies across the first column's right edge (x 90..101): cut in the tiles at x 0, whole in those at x 60
    objects = [(40, _rect(90, 20, 12, 10)), (200, _rect(150, 70, 14, 16)), (41, _rect(10, 150, 8, 8))]
    grey = draw_objects(SIZE, objects)
    if nodata_from_x is not None:
        grey[:, nodata_from_x:] = 255
    return write_geotiff(tmp_path / "scene.tif", np.stack([grey, grey, grey]), nodata=nodata_from_x and 255)


def test_a_segment_run_unions_each_object_across_tiles(tmp_path: Path) -> None:
    job = SceneJob(scene=_scene(tmp_path), out=tmp_path / "out.geojson", task="segment", classes=("ship", "harbor"),
                   tile=100, overlap=0.4)  # fmt: skip
    model = ValueSegmenter()
    result = run_scene(job, model, progress=False)
    questions = {q for q, _ in model.asked}
    assert questions == {SEGMENT_CLASS.format(label="ship"), SEGMENT_CLASS.format(label="harbor")}
    assert {shape for _, shape in model.asked} == {(100, 100, 3)} and len(model.asked) == 2 * 12
    assert [(r.label, r.pixels, r.polygon.bounds) for r in result.regions] == [
        ("ship", 12 * 10, (90.0, 20.0, 102.0, 30.0)),
        ("ship", 8 * 8, (10.0, 150.0, 18.0, 158.0)),
    ]
    files = outputs(job.out)
    assert not files["dota"].exists() and "dota" not in result.files
    gj = json.loads(files["geojson"].read_text())
    assert gj["crs"]["properties"]["name"].endswith("32633") and len(gj["features"]) == 2
    ring = gj["features"][0]["geometry"]["coordinates"][0]
    xs, ys = {p[0] for p in ring}, {p[1] for p in ring}  # 10 m pixels from (500000, 4000000), y down
    assert (min(xs), max(xs), min(ys), max(ys)) == (500900.0, 501020.0, 4000000.0 - 300, 4000000.0 - 200)
    assert shapely.Polygon(ring).exterior.is_ccw and ring[0] == ring[-1]
    props = gj["features"][0]["properties"]
    assert props["label"] == "ship" and props["area_px"] == 120
    assert math.isclose(props["area_m2"], 120 * 100.0, rel_tol=2e-3)  # UTM scale 0.9996 on its central meridian
    summary = json.loads(files["summary"].read_text())
    assert summary["per_class"] == {"ship": 2} and summary["area_px"] == {"per_class": {"ship": 184}, "total": 184}
    assert math.isclose(summary["area_m2"]["total"], 184 * 100.0, rel_tol=2e-3)
    coco = json.loads(files["coco"].read_text())
    anns = coco["annotations"]
    assert [a["area"] for a in anns] == [120.0, 64.0] and anns[0]["bbox"] == [90.0, 20.0, 12.0, 10.0]
    assert sorted(anns[0]["segmentation"][0]) == sorted([90.0, 20.0, 102.0, 20.0, 102.0, 30.0, 90.0, 30.0])
    assert coco["categories"] == [{"id": 1, "name": "ship"}]


def test_segment_needs_what_to_segment_and_a_query_is_its_own_class(tmp_path: Path) -> None:
    path = _scene(tmp_path)
    with pytest.raises(ValueError, match="--class NAME"):
        run_scene(SceneJob(scene=path, out=tmp_path / "a.geojson", task="segment"), ValueSegmenter(), False)
    with pytest.raises(ValueError, match="for --task segment"):
        run_scene(SceneJob(scene=path, out=tmp_path / "b.geojson", classes=("ship",)), ValueSegmenter(), False)
    model = ValueSegmenter()
    job = SceneJob(scene=path, out=tmp_path / "c.geojson", task="segment", query="the ships", tile=200)
    result = run_scene(job, model, progress=False)
    assert {q for q, _ in model.asked} == {SEGMENT_EXPRESSION.format(expression="the ships")}
    assert result.regions == []  # the stand-in segments only for "every ship"
    summary = json.loads(outputs(job.out)["summary"].read_text())
    assert summary["objects"] == 0 and summary["area_px"] == {"per_class": {}, "total": 0}


def test_nodata_tiles_are_skipped_not_segmented(tmp_path: Path) -> None:
    job = SceneJob(scene=_scene(tmp_path, nodata_from_x=120), out=tmp_path / "out.geojson", task="segment",
                   classes=("ship",), tile=100, overlap=0.4)  # fmt: skip
    model = ValueSegmenter()
    result = run_scene(job, model, progress=False)
    nodata_windows = [w for w in tile_windows(*SIZE, 100, 0.4) if w[0] >= 120]
    assert result.nodata == len(nodata_windows) == 6 and model.seen == result.answered == 6
    assert [r.pixels for r in result.regions] == [120, 64]


def test_a_killed_segment_run_resumes_to_the_same_bytes(tmp_path: Path) -> None:
    def job(name: str) -> SceneJob:
        return SceneJob(scene=_scene(tmp_path), out=tmp_path / name / "out.geojson", task="segment",
                        classes=("ship",), tile=100, overlap=0.4, batch_size=3)  # fmt: skip

    job_a, job_b = job("a"), job("b")
    run_scene(job_a, ValueSegmenter(), progress=False)
    with pytest.raises(RuntimeError, match="killed"):
        run_scene(job_b, ValueSegmenter(fail_after=7), progress=False)  # batches of 3: 6 tiles journalled
    lines = outputs(job_b.out)["journal"].read_text().splitlines()
    assert len(lines) == 1 + 6 and not job_b.out.exists()
    assert any(json.loads(line)["segments"][0]["masks"] for line in lines[1:])  # the journal holds the masks
    resumed = ValueSegmenter()
    assert run_scene(job_b, resumed, progress=False).complete and resumed.seen == 12 - 6
    for key in ("geojson", "coco", "summary", "journal"):
        assert outputs(job_b.out)[key].read_bytes() == outputs(job_a.out)[key].read_bytes(), key


# --- the real command: a tiny random-weight EarthGPT-X on a real sen2ships GeoTIFF ---


def _model(tmp_path_factory: pytest.TempPathFactory, x: bool) -> Path:
    tok = train_tokenizer(["USER: Please segment every ship in this RS image. ASSISTANT: Sure, <seg>."] * 30, 300)
    torch.manual_seed(0)
    model = build_model(tiny_config(**token_ids(tok), **(x_token_ids(tok) if x else {})))
    out = tmp_path_factory.mktemp("tiny_x" if x else "tiny")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def x_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _model(tmp_path_factory, x=True)


def _busan_args(data_root: Path, model: Path, out: Path) -> list[str]:
    return ["scene", str(data_root / BUSAN), "--model", str(model), "--out", str(out), "--task", "segment",
            "--class", "ship", "--tile", "600", "--overlap", "0", "--max-new-tokens", "4", "--quiet"]  # fmt: skip


def test_the_command_segments_a_real_sen2ships_scene(x_model_dir: Path, data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "busan.geojson"
    assert main(_busan_args(data_root, x_model_dir, out)) == 0
    gj = json.loads(out.read_text())
    assert gj["type"] == "FeatureCollection" and gj["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::3857"
    for f in gj["features"]:  # whatever random weights segment: valid closed polygons labelled ship
        assert f["geometry"]["type"] == "Polygon" and f["properties"]["label"] == "ship"
        assert all(r[0] == r[-1] and len(r) >= 4 for r in f["geometry"]["coordinates"])
    records = [json.loads(line) for line in outputs(out)["journal"].read_text().splitlines()[1:]]
    assert [tuple(r["window"]) for r in records] == tile_windows(1042, 699, 600, 0.0)  # 2 x 2 windows
    for r in records:  # one answer per class per tile; each mask, if any, in the tile's pixels
        (seg,) = r["segments"]
        assert seg["label"] == "ship" and all(m["size"] == [600, 600] for m in seg["masks"])
    summary = json.loads(outputs(out)["summary"].read_text())
    assert summary["tiles"] == {"answered": 4, "nodata": 0, "total": 4} and "area_px" in summary


def test_injected_masks_land_at_rasterios_map_coordinates(x_model_dir: Path, data_root: Path, tmp_path: Path) -> None:
    """A stand-in answers at the Predictor boundary with a 15 x 10 px mask at tile pixel (30, 40) of every tile."""
    import rasterio
    from pyproj import Transformer

    tiles = PredictorTiles(x_model_dir, batch_size=4, max_new_tokens=4, masks=True)
    seen: list[tuple[Any, str]] = []

    def stand_in(images: Sequence[Any], dialogues: Sequence[Any], **_: Any) -> list[Generation]:
        seen.extend((im, d[-1].text) for im, d in zip(images, dialogues, strict=True))
        return [Generation("Sure, <seg>.", masks=[_mask(*im.shape[:2], slice(40, 50), slice(30, 45))]) for im in images]

    tiles.predictor.generate = stand_in  # type: ignore[method-assign]
    scene = data_root / BUSAN
    job = SceneJob(scene=scene, out=tmp_path / "m.geojson", task="segment", classes=("ship",), tile=600, overlap=0.0)
    result = run_scene(job, tiles, progress=False)
    assert all(isinstance(im, np.ndarray) and im.shape == (600, 600, 3) for im, _ in seen) and len(seen) == 4
    assert {q for _, q in seen} == {SEGMENT_CLASS.format(label="ship")}
    windows = tile_windows(1042, 699, 600, 0.0)
    assert sorted(r.polygon.bounds for r in result.regions) == sorted(
        (x + 30.0, y + 40.0, x + 45.0, y + 50.0) for x, y, _, _ in windows
    )
    with rasterio.open(scene) as ds:
        t = ds.transform
    x, y = windows[1][:2]  # the second tile's square: scene pixels (x + 30, y + 40)..(x + 45, y + 50)
    corners = [t @ (x + c, y + r) for c, r in ((30, 40), (45, 40), (45, 50), (30, 50))]
    feature = next(f for f in json.loads(job.out.read_text())["features"] if f["properties"]["pixel_bbox"][0] == x + 30)
    ring = feature["geometry"]["coordinates"][0]
    assert len(ring) == 5 and all(any(np.allclose(p, c, rtol=0, atol=1e-6) for p in ring) for c in corners)
    props = feature["properties"]
    assert props["area_px"] == 150
    map_area = 150 * abs(t.a * t.e)  # Web Mercator square metres; the ground is cos^2(35.5 N) ~ 0.66 of them
    assert 0.6 * map_area < props["area_m2"] < 0.72 * map_area
    wgs = SceneJob(scene=scene, out=tmp_path / "w.geojson", task="segment", classes=("ship",), tile=600, overlap=0.0,
                   crs="EPSG:4326")  # fmt: skip
    run_scene(wgs, tiles, progress=False)
    lonlat = json.loads(wgs.out.read_text())
    assert "crs" not in lonlat
    f4326 = next(f for f in lonlat["features"] if f["properties"]["pixel_bbox"][0] == x + 30)
    to_wgs = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    for c in corners:
        assert any(np.allclose(p, to_wgs.transform(*c), rtol=0, atol=1e-9) for p in f4326["geometry"]["coordinates"][0])


def test_a_model_without_the_mask_decoder_is_refused(
    tmp_path_factory: pytest.TempPathFactory, data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = _model(tmp_path_factory, x=False)
    with pytest.raises(NoMaskDecoderError, match="model init --x"):
        PredictorTiles(plain, masks=True)
    out = tmp_path / "r.geojson"
    assert main(_busan_args(data_root, plain, out)) == 2
    err = capsys.readouterr().err
    assert str(plain) in err and "mask decoder" in err and "x stage" in err and "earthgpt model init --x" in err
    assert not out.exists() and not outputs(out)["journal"].exists()
