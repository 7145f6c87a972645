"""Scene runs on generated GeoTIFFs: tiles, the merge across tile borders (HBB and OBB), nodata, resume."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from earthgpt.geometry import HBB, OBB, box_iou, obb_from_rotated
from earthgpt.inference.scene import SceneJob, outputs, run_scene, tile_windows
from tests.inference.fakes import ValueDetector, draw_objects, write_geotiff

SIZE = (260, 180)  # w, h: with 100 px tiles at overlap 0.4, windows start at x 0, 60, 120, 160 and y 0, 60, 80


def test_tile_windows_cover_the_raster_and_end_at_its_edge() -> None:
    windows = tile_windows(*SIZE, tile=100, overlap=0.4)
    assert sorted({x for x, _, _, _ in windows}) == [0, 60, 120, 160]
    assert sorted({y for _, y, _, _ in windows}) == [0, 60, 80]
    assert all(w == 100 and h == 100 for _, _, w, h in windows) and len(windows) == 12
    assert tile_windows(50, 30, tile=100, overlap=0.2) == [(0, 0, 50, 30)]
    with pytest.raises(ValueError, match="overlap"):
        tile_windows(50, 30, tile=100, overlap=1.0)


def _scene(tmp_path: Path, objects: list[tuple[int, list[tuple[float, float]]]], nodata: float | None = None) -> Path:
    grey = draw_objects(SIZE, objects)
    return write_geotiff(tmp_path / "scene.tif", np.stack([grey, grey, grey]), nodata=nodata)


def _rect(x: float, y: float, w: float, h: float) -> list[tuple[float, float]]:
    return [(x, y), (x + w - 1, y), (x + w - 1, y + h - 1), (x, y + h - 1)]


def test_hbb_boxes_across_tile_borders_merge_to_one_per_object(tmp_path: Path) -> None:
    objects = [(40, _rect(90, 20, 12, 10)), (200, _rect(150, 70, 14, 16)), (41, _rect(10, 150, 8, 8))]
    job = SceneJob(scene=_scene(tmp_path, objects), out=tmp_path / "out.geojson", tile=100, overlap=0.4)
    model = ValueDetector("hbb")
    result = run_scene(job, model, progress=False)
    raw = [b for r in _journal(job)[1:] for b in r["boxes"]]
    assert len(raw) > len(objects)  # objects in the overlaps are seen by several tiles
    expected = {"ship": [HBB(90, 20, 102, 30), HBB(10, 150, 18, 158)], "plane": [HBB(150, 70, 164, 86)]}
    got: dict[str, list[HBB]] = {}
    for b in result.boxes:
        assert isinstance(b.box, HBB)
        got.setdefault(b.label, []).append(b.box)
    assert sorted(got) == sorted(expected)
    for label, boxes in expected.items():
        assert len(got[label]) == len(boxes)
        for want in boxes:  # 3 decimals of a 100 px tile: 0.05 px
            assert any(max(abs(a - b) for a, b in zip(g.as_tuple(), want.as_tuple(), strict=True)) <= 0.06
                       for g in got[label])  # fmt: skip
    summary = json.loads(outputs(job.out)["summary"].read_text())
    assert summary["per_class"] == {"plane": 1, "ship": 2} and summary["tiles"]["total"] == 12
    assert model.batches == [8, 4]  # batched: 12 tiles at batch size 8


def test_obb_merge_across_tile_borders_is_exact_polygon_nms(tmp_path: Path) -> None:
    # across x = 100 (right edge of the first column of tiles) and x = 160: whole in two tiles, cut in others
    truth = [obb_from_rotated(100, 100, 24, 8, 30.0, degrees=True), obb_from_rotated(160, 120, 20, 10, -50.0, True)]
    objects = [(30 + 20 * k, [p for p in o.corners()]) for k, o in enumerate(truth)]
    job = SceneJob(scene=_scene(tmp_path, objects), out=tmp_path / "out.geojson", tile=100, overlap=0.4, boxes="obb")
    result = run_scene(job, ValueDetector("obb"), progress=False)
    raw = [b for r in _journal(job)[1:] for b in r["boxes"]]
    assert len(raw) >= 2 * len(truth)  # each rotated object lies across a tile border, in 2+ tiles
    assert len(result.boxes) == len(truth) and all(isinstance(b.box, OBB) for b in result.boxes)
    for want in truth:  # pixel-cell hull of a drawn polygon: the same object within a pixel
        assert max(box_iou(b.box, want) for b in result.boxes) > 0.7
    dota = outputs(job.out)["dota"].read_text().splitlines()
    assert len(dota) == 2 and all(line.endswith(" ship 0") and len(line.split()) == 10 for line in dota)


def test_nodata_tiles_are_skipped_not_answered(tmp_path: Path) -> None:
    grey = draw_objects(SIZE, [(40, _rect(20, 20, 10, 10))])
    grey[:, 120:] = 255  # the right part is nodata
    path = write_geotiff(tmp_path / "scene.tif", np.stack([grey, grey, grey]), nodata=255)
    job = SceneJob(scene=path, out=tmp_path / "out.geojson", tile=100, overlap=0.4)
    result = run_scene(job, ValueDetector(), progress=False)
    nodata_windows = [w for w in tile_windows(*SIZE, 100, 0.4) if w[0] >= 120]
    assert result.nodata == len(nodata_windows) == 6 and result.answered == 6
    assert [b.label for b in result.boxes] == ["ship"]


def _journal(job: SceneJob) -> list[dict]:
    return [json.loads(line) for line in outputs(job.out)["journal"].read_text().splitlines()]


def _files(job: SceneJob) -> dict[str, bytes]:
    return {k: p.read_bytes() for k, p in outputs(job.out).items()}


def test_a_killed_run_resumes_to_the_same_bytes(tmp_path: Path) -> None:
    objects = [(40, _rect(90, 20, 12, 10)), (200, _rect(150, 70, 14, 16))]
    path = _scene(tmp_path, objects)
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    job_a = SceneJob(scene=path, out=tmp_path / "a" / "r.geojson", tile=100, overlap=0.4, batch_size=3)
    job_b = SceneJob(scene=path, out=tmp_path / "b" / "r.geojson", tile=100, overlap=0.4, batch_size=3)
    run_scene(job_a, ValueDetector(), progress=False)
    with pytest.raises(RuntimeError, match="killed"):
        run_scene(job_b, ValueDetector(fail_after=7), progress=False)
    journal = outputs(job_b.out)["journal"]
    assert len(journal.read_text().splitlines()) == 1 + 6  # two finished batches of 3
    with journal.open("a") as f:
        f.write('{"i": 6, "window": [0, 6')  # a kill in the middle of writing a record
    resumed = ValueDetector()
    result = run_scene(job_b, resumed, progress=False)
    assert resumed.seen == 12 - 6 and result.complete
    assert _files(job_a) == _files(job_b)


def test_max_tiles_stops_and_the_next_call_continues(tmp_path: Path) -> None:
    path = _scene(tmp_path, [(40, _rect(90, 20, 12, 10))])
    job = SceneJob(scene=path, out=tmp_path / "r.geojson", tile=100, overlap=0.4, max_tiles=5)
    first = run_scene(job, ValueDetector(), progress=False)
    assert (first.done, first.complete, outputs(job.out)["geojson"].exists()) == (5, False, False)
    second = run_scene(job, ValueDetector(), progress=False)
    assert (second.done, second.complete) == (10, False)
    assert run_scene(job, ValueDetector(), progress=False).complete
    other = SceneJob(scene=path, out=job.out, tile=80, overlap=0.4)
    with pytest.raises(ValueError, match="other settings"):
        run_scene(other, ValueDetector(), progress=False)


def test_ask_answers_every_tile(tmp_path: Path) -> None:
    path = _scene(tmp_path, [(40, _rect(90, 20, 12, 10))])
    job = SceneJob(scene=path, out=tmp_path / "r.geojson", task="ask", question="any ship?", tile=200, overlap=0.0)
    run_scene(job, ValueDetector(), progress=False)
    features = json.loads(job.out.read_text())["features"]
    assert [f["properties"]["window"] for f in features] == [[0, 0, 200, 180], [60, 0, 200, 180]]
    assert all(f["properties"]["answer"].startswith("ship [") for f in features)
    x0, y0 = features[1]["geometry"]["coordinates"][0][0]
    assert math.isclose(x0, 500000.0 + 600.0) and math.isclose(y0, 4000000.0)


_KILLED_RUN = """
import sys, time
from pathlib import Path
from earthgpt.inference.scene import SceneJob, run_scene
from tests.inference.fakes import ValueDetector

class Slow(ValueDetector):
    def answer(self, tiles, question):
        time.sleep(0.3)
        return super().answer(tiles, question)

run_scene(SceneJob(scene=Path(sys.argv[1]), out=Path(sys.argv[2]), tile=100, overlap=0.4, batch_size=2), Slow())
"""


def test_a_sigkilled_process_resumes_to_the_same_bytes(tmp_path: Path) -> None:
    path = _scene(tmp_path, [(40, _rect(90, 20, 12, 10)), (200, _rect(150, 70, 14, 16))])
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    job_a = SceneJob(scene=path, out=tmp_path / "a" / "r.geojson", tile=100, overlap=0.4, batch_size=2)
    job_b = SceneJob(scene=path, out=tmp_path / "b" / "r.geojson", tile=100, overlap=0.4, batch_size=2)
    run_scene(job_a, ValueDetector(), progress=False)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)])}
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, str(path), str(job_b.out)], env=env,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    journal = outputs(job_b.out)["journal"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.is_file() and len(journal.read_text().splitlines()) >= 1 + 4:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = len(journal.read_text().splitlines()) - 1
    assert 4 <= finished < 12 and not job_b.out.exists()  # killed mid-scene
    resumed = ValueDetector()
    assert run_scene(job_b, resumed, progress=False).complete and resumed.seen == 12 - finished
    assert _files(job_a) == _files(job_b)
