"""MAR20 as the paper scores it (one class, airplane) beside the 20-type variant; paper rows ranked otherwise marked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from earthgpt.evaluation.report import render_report
from earthgpt.evaluation.task_scores import score_task
from earthgpt.evaluation.tasks import get_task, load_task
from earthgpt.geometry.formats import hbb_to_coco
from earthgpt.inference.output import Generation


def _answers(samples: list, label: str | None) -> dict[str, Generation]:
    return {
        s.id: Generation(
            json.dumps([{"bbox": hbb_to_coco(o.box), "category_name": label or o.label} for o in s.objects])
        )
        for s in samples
    }


@pytest.mark.parametrize("label", ["airplane", "Plane", "aircraft", None])  # None: the fine-grained type
def test_paper_task_scores_one_class_airplane(fake_root: Path, label: str | None) -> None:
    data = load_task(get_task("mar20_hbb"), fake_root)
    assert data.samples[0].categories == ("airplane",)
    assert {o.label for s in data.samples for o in s.objects} == {"airplane"}
    types = load_task(get_task("mar20_types_hbb"), fake_root)
    fine = {s.id: [o.label for o in s.objects] for s in types.samples}
    answers = {
        s.id: Generation(
            json.dumps(
                [{"bbox": hbb_to_coco(o.box), "category_name": label or fine[s.id][k]} for k, o in enumerate(s.objects)]
            )
        )
        for s in data.samples
    }
    res = score_task(data, answers, box_format="coco", meteor=False)
    assert res.metrics["AP@50"] == 100.0 and res.details["unknown_label_boxes"] == 0


def test_the_20_type_variant_stays_fine_grained(fake_root: Path) -> None:
    data = load_task(get_task("mar20_types_hbb"), fake_root)
    assert len(data.samples[0].categories) == 20 and get_task("mar20_types_hbb").table == ""
    generic = score_task(data, _answers(data.samples, "airplane"), box_format="coco", meteor=False)
    assert generic.metrics["AP@50"] == 0.0 and generic.details["unknown_label_boxes"] > 0
    assert score_task(data, _answers(data.samples, None), box_format="coco", meteor=False).metrics["AP@50"] == 100.0


def test_paper_rows_ranked_without_a_clip_score_are_marked(fake_root: Path) -> None:
    data = load_task(get_task("mar20_hbb"), fake_root)
    res = score_task(data, _answers(data.samples, "airplane"), box_format="coco", meteor=False)
    report = render_report([res], model_name="m")
    assert "| m (this run) * |" in report
    assert "not by the paper's RemoteCLIP score" in report and "rank" in report
