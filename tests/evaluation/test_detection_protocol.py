"""The AP protocol on real HIT-UAV: every image kept, difficult objects and DontCare ignored, labels matched."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from earthgpt.data.records import ANY_CLASS
from earthgpt.evaluation.report import render_report
from earthgpt.evaluation.task_scores import score_task
from earthgpt.evaluation.tasks import get_task, load_task
from earthgpt.evaluation.tasks.boxtext import canonical_label
from earthgpt.geometry.formats import hbb_to_coco
from earthgpt.inference.output import Generation


def _coco_answer(boxes: list[tuple[list[float], str, float]]) -> Generation:
    return Generation(json.dumps([{"bbox": b, "category_name": c, "score": s} for b, c, s in boxes]))


def test_val_keeps_the_images_without_objects_and_the_dontcare_regions(data_root: Path) -> None:
    data = load_task(get_task("hit_uav_hbb"), data_root)
    assert len(data.samples) == 150 and sum(not s.objects for s in data.samples) == 2
    assert [o.label for s in data.samples for o in s.ignored] == [ANY_CLASS, ANY_CLASS]  # 2 DontCare in val
    assert "ignored_region" not in data.skips and "empty_annotation" not in data.skips


def test_train_difficult_objects_are_ignored_not_ground_truth(data_root: Path) -> None:
    spec = replace(get_task("hit_uav_hbb"), split="train")
    data = load_task(spec, data_root)
    hard = [o for s in data.samples for o in s.ignored if o.label != ANY_CLASS]
    assert len(hard) == 23  # the <difficult>1</difficult> objects of normal_xml (23, in 19 train images)
    # an oracle that also boxes the difficult objects loses nothing; boxing them is no false positive
    oracle = {s.id: Generation(s.answer) for s in data.samples}
    base = score_task(data, oracle, meteor=False)
    with_hard = {
        s.id: _coco_answer(
            [(hbb_to_coco(o.box), o.label, 0.5) for o in s.objects]
            + [(hbb_to_coco(o.box), o.label, 0.9) for o in s.ignored if o.label != ANY_CLASS]
        )
        for s in data.samples
    }
    scored = score_task(data, with_hard, box_format="coco", meteor=False)
    assert base.metrics["AP@50"] == scored.metrics["AP@50"] == 100.0
    assert scored.details["difficult_objects"] == 23


def test_a_false_positive_on_an_image_without_objects_costs_ap(data_root: Path) -> None:
    data = load_task(get_task("hit_uav_hbb"), data_root)
    empty = next(s for s in data.samples if not s.objects)
    answers = {
        s.id: _coco_answer([(hbb_to_coco(o.box), o.label, 0.5) for o in s.objects]) for s in data.samples if s.objects
    }
    answers[empty.id] = _coco_answer([([5.0, 5.0, 20.0, 20.0], "person", 0.9)])  # ranked first, a false positive
    res = score_task(data, answers, box_format="coco", meteor=False)
    n = res.details["num_gts"]["person"]
    # precision after the k-th true positive is k / (k + 1), rising: the envelope is n / (n + 1) at every recall
    want = 100.0 * n / (n + 1)
    assert res.details["per_class"]["AP@50"]["person"] == pytest.approx(want, abs=1e-3)
    assert res.details["per_class"]["AP@50"]["car"] == 100.0


def test_the_dataset_spelling_of_a_class_matches_and_unknown_labels_are_reported(data_root: Path) -> None:
    data = load_task(get_task("hit_uav_hbb"), data_root)
    cats = data.samples[0].categories
    aliases = data.samples[0].aliases
    assert canonical_label("OtherVehicle", cats, aliases) == "other vehicle"
    assert canonical_label("other_vehicles", cats, aliases) == "other vehicle"
    spelled = {"person": "Person", "car": "Car", "bicycle": "Bicycle", "other vehicle": "OtherVehicle"}
    answers = {
        s.id: _coco_answer(
            [(hbb_to_coco(o.box), spelled[o.label], 0.5) for o in s.objects] + [([1, 1, 9, 9], "tank", 0.1)]
        )
        for s in data.samples
    }
    res = score_task(data, answers, box_format="coco", meteor=False)
    assert res.metrics["AP@50"] == 100.0
    assert res.details["unknown_label_boxes"] == 150 and res.details["unknown_labels"] == {"tank": 150}
    report = render_report([res])
    assert "WARNING: 150 predicted box(es) name no class of the task" in report and "'tank' 150" in report
    assert "2 of them without ground truth" in report
