"""Scoring anyone's predictions file: other models' box formats, and bad input counted without a crash."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from earthgpt.evaluation.metrics import detection_ap
from earthgpt.evaluation.score_predictions import score_file
from earthgpt.evaluation.tasks import get_task, load_task
from earthgpt.geometry import HBB, LabeledBox
from earthgpt.geometry.formats import hbb_to_coco, obb_to_dota, to_falcon, to_geochat


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _per_axis(box: object, width: int, height: int) -> object:
    vals = box.as_tuple()  # type: ignore[attr-defined]
    scaled = [v / (width if i % 2 == 0 else height) for i, v in enumerate(vals)]
    return type(box)(*scaled) if isinstance(box, HBB) else type(box)(tuple(scaled))  # type: ignore[call-arg]


def test_falcon_outputs_score_like_ours(data_root: Path, tmp_path: Path) -> None:
    data = load_task(get_task("hit_uav_obb"), data_root, 5)
    rows = []
    for s in data.samples:
        w, h = s.image.width, s.image.height
        text = " ".join(f"<ref>{o.label}</ref>{to_falcon(_per_axis(o.box, w, h))}" for o in s.objects)  # type: ignore[arg-type]
        rows.append({"id": s.id, "text": text})
    res = score_file("hit_uav_obb", _write(tmp_path / "falcon.jsonl", rows), "falcon", data_root, limit=5)
    assert res["metrics"] == {"AP@40": 100.0, "AP@50": 100.0}
    assert res["box_format"] == "falcon" and res["box_scores"] == {"rank": res["counts"]["boxes"]}
    assert "ranked by answer order" in res["scorer"]


def test_geochat_grounding_outputs_score_like_ours(data_root: Path, tmp_path: Path) -> None:
    (s,) = load_task(get_task("dior_rsvg_sample"), data_root).samples
    box = _per_axis(s.box, s.image.width, s.image.height)
    path = _write(tmp_path / "geochat.jsonl", [{"id": s.id, "text": f"The golf field is at {to_geochat(box)}"}])  # type: ignore[arg-type]
    res = score_file("dior_rsvg_sample", path, "geochat", data_root)
    assert res["metrics"]["Pr@0.9"] == 100.0 and res["metrics"]["mIoU"] > 98.0  # a 0-100 grid: within 4 px here


def test_coco_and_dota_pixel_outputs_with_their_own_scores(data_root: Path, tmp_path: Path) -> None:
    hbb = load_task(get_task("hrsid"), data_root, 5)
    rows = [
        {
            "id": s.id,
            "text": json.dumps(
                [{"bbox": hbb_to_coco(o.box), "category_name": o.label, "score": 0.9} for o in s.objects]
            ),
        }  # type: ignore[arg-type]
        for s in hbb.samples
    ]
    res = score_file("hrsid", _write(tmp_path / "coco.jsonl", rows), "coco", data_root, limit=5)
    assert res["metrics"]["AP@50"] == 100.0 and res["box_scores"] == {"given": res["counts"]["boxes"]}
    obb = load_task(get_task("hit_uav_obb"), data_root, 5)
    rows = [
        {
            "id": s.id,
            "text": "\n".join(" ".join(f"{v:.1f}" for v in obb_to_dota(o.box)) + f" {o.label} 0" for o in s.objects),
        }  # type: ignore[arg-type]
        for s in obb.samples
    ]
    res = score_file("hit_uav_obb", _write(tmp_path / "dota.jsonl", rows), "dota", data_root, limit=5)
    assert res["metrics"]["AP@50"] == 100.0


def test_bad_scene_predictions_are_counted_and_stay_in_the_denominator(data_root: Path, tmp_path: Path) -> None:
    s = load_task(get_task("aid"), data_root, 10).samples
    wrong = next(c for c in s[3].categories if c != s[3].group)
    rows: list[object] = [
        {"id": s[0].id, "text": s[0].answer},
        {"id": s[0].id, "text": wrong},  # duplicate: the first line counts
        {"id": s[1].id, "text": s[1].answer.upper() + "."},
        {"id": s[2].id, "text": s[2].answer},
        {"id": s[3].id, "text": wrong},
        {"id": s[4].id, "text": ""},
        {"id": s[5].id, "text": "#$%&"},
        {"id": s[6].id, "text": None},
        {"id": s[9].id, "text": s[9].answer},
        {"id": "not-in-the-task", "text": "airport"},
        '{"id": "broken',
    ]  # s[7] and s[8] are missing
    res = score_file("aid", _write(tmp_path / "p.jsonl", rows), data_root=data_root, limit=10, out_dir=tmp_path / "out")
    assert res["metrics"]["top1"] == 40.0  # 4 of 10: missing and bad answers are misses
    c = res["counts"]
    assert (c["samples"], c["missing"], c["empty"], c["unparsed"]) == (10, 2, 2, 1)
    assert (c["duplicates"], c["unknown_ids"], c["malformed_lines"], c["non_string_text"]) == (1, 1, 1, 1)
    report = (tmp_path / "out" / "report.md").read_text()
    assert "| aid | 10 | 2 | 1 | 1 | 1 | 2 | 1 | 0 | 0 |" in report
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["metrics"]["top1"] == 40.0


def test_bad_boxes_are_dropped_and_missed_objects_still_count(data_root: Path, tmp_path: Path) -> None:
    s = load_task(get_task("hit_uav_hbb"), data_root, 3).samples
    junk = "; car [nan,0.1,0.2,0.3]; car [5,5,9,9]; person [0.1,0.2"
    rows = [{"id": x.id, "text": x.answer + junk} for x in s[:2]]  # the third image has no prediction
    res = score_file("hit_uav_hbb", _write(tmp_path / "p.jsonl", rows), data_root=data_root, limit=3)
    assert res["counts"]["boxes_dropped"] == 6 and res["counts"]["missing"] == 1
    gts = [list(x.objects) for x in s]
    preds = [[LabeledBox(o.label, o.box, 1.0) for o in g] for g in gts[:2]] + [[]]
    expected = detection_ap(preds, gts, classes=s[0].categories)
    assert res["metrics"]["AP@50"] == pytest.approx(100 * expected[0.5].map, abs=1e-3)
    assert res["metrics"]["AP@50"] < 100.0


def test_no_prediction_at_all_scores_zero_without_a_crash(data_root: Path, tmp_path: Path) -> None:
    empty = _write(tmp_path / "p.jsonl", [])
    res = score_file("dior_rsvg_sample", empty, data_root=data_root)
    assert res["metrics"]["mIoU"] == 0.0 and res["counts"]["missing"] == 1
    res = score_file("rsvqa_lr_sample", empty, data_root=data_root, limit=5)
    assert res["metrics"]["OA"] == 0.0 and res["counts"]["missing"] == 5
    res = score_file("hrsid", empty, data_root=data_root, limit=2)
    assert res["metrics"]["AP@50"] == 0.0 and not math.isnan(res["metrics"]["AP@40"])


def test_other_answer_field_and_argument_errors(data_root: Path, tmp_path: Path) -> None:
    s = load_task(get_task("rsscn7"), data_root, 2).samples
    path = _write(tmp_path / "p.jsonl", [{"id": x.id, "answer": x.answer} for x in s])
    assert score_file("rsscn7", path, data_root=data_root, limit=2, text_key="answer")["metrics"]["top1"] == 100.0
    with pytest.raises(ValueError, match="box_format"):
        score_file("rsscn7", path, "yolo", data_root)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match=r"absent\.jsonl"):
        score_file("rsscn7", tmp_path / "absent.jsonl", data_root=data_root)
