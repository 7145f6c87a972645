"""The harness end to end: the oracle scores perfectly, a shuffled oracle and a dummy lower; runs resume."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from earthgpt.evaluation.answerers import DummyAnswerer, OracleAnswerer, Request
from earthgpt.evaluation.harness import PREDICTIONS_FILE, evaluate, predict_task
from earthgpt.evaluation.metrics import caption_scores
from earthgpt.evaluation.metrics.coco_java import MeteorScorer
from earthgpt.evaluation.tasks import PAPER_TASKS, SAMPLE_TASKS, Sample, TaskDataError, TaskSpec, get_task, load_task
from earthgpt.inference.output import Generation

LIMIT = 6


class FixedMeteor(MeteorScorer):
    """A METEOR stand-in without Java (starting the jar takes tens of seconds): every caption scores 0.5."""

    def __init__(self) -> None:
        self.calls = 0

    def score(self, hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> tuple[float, list[float]]:
        self.calls += 1
        return 0.5, [0.5] * len(hypotheses)

    def close(self) -> None:
        pass


def _samples(specs: Sequence[TaskSpec], root: Path, limit: int | None = LIMIT) -> list[Sample]:
    return [s for spec in specs for s in load_task(spec, root, limit).samples]


def _assert_perfect(spec: TaskSpec, result: dict, samples: list[Sample], meteor: MeteorScorer | bool) -> None:
    m, c = result["metrics"], result["counts"]
    assert (c["missing"], c["empty"], c["unparsed"], c["boxes_dropped"]) == (0, 0, 0, 0), spec.name
    if spec.kind in ("scene", "vqa", "detection"):
        assert all(v == 100.0 for v in m.values()), (spec.name, m)
    elif spec.kind == "grounding":
        assert all(m[f"Pr@{t}"] == 100.0 for t in ("0.5", "0.6", "0.7", "0.8", "0.9")), m
        assert m["mIoU"] > 99.0 and m["cIoU"] > 99.0  # three decimals in the box text: within a pixel
    else:
        # A reference scored against itself (its references include it): exactly what the metric gives.
        own = caption_scores(
            {s.id: s.references[0] for s in samples}, {s.id: s.references for s in samples}, meteor=meteor
        )
        assert m["BLEU-1"] == pytest.approx(100 * own.bleu[0]) and m["BLEU-4"] == pytest.approx(100 * own.bleu[3])
        assert m["CIDEr"] == pytest.approx(100 * own.cider_d) and m["ROUGE-L"] == pytest.approx(100 * own.rouge_l)
        assert m["METEOR"] == pytest.approx(100 * own.meteor)  # type: ignore[operator]


def _total(metrics: dict) -> float:
    """The sum of a task's metrics (a one-image caption corpus has CIDEr 0 whatever the caption)."""
    return sum(v for v in metrics.values() if v is not None)


def _oracle_and_shuffled(specs: Sequence[TaskSpec], root: Path, tmp: Path) -> tuple[dict, dict]:
    samples = _samples(specs, root)
    meteor = FixedMeteor()
    good = evaluate(OracleAnswerer(samples), specs, root, tmp / "oracle", LIMIT, plots=False, meteor=meteor)
    bad = evaluate(
        OracleAnswerer(samples, shuffle=True), specs, root, tmp / "shuffled", LIMIT, plots=False, meteor=meteor
    )
    for spec in specs:
        mine = load_task(spec, root, LIMIT).samples
        _assert_perfect(spec, good["tasks"][spec.name], mine, meteor)
        assert _total(bad["tasks"][spec.name]["metrics"]) < _total(good["tasks"][spec.name]["metrics"]), spec.name
    assert meteor.calls == 3 * sum(s.kind == "caption" for s in specs)  # two runs and the check: never a new jar
    return good, bad


def test_oracle_is_perfect_and_shuffled_oracle_lower_on_the_real_data(data_root: Path, tmp_path: Path) -> None:
    good, _ = _oracle_and_shuffled(SAMPLE_TASKS, data_root, tmp_path)
    assert set(good["tasks"]) == {t.name for t in SAMPLE_TASKS}
    assert good["tasks"]["hit_uav_obb"]["box_scores"] == {"logprob": good["tasks"]["hit_uav_obb"]["counts"]["boxes"]}


def test_oracle_is_perfect_and_shuffled_oracle_lower_on_the_paper_fakes(
    fake_root: Path, fake_paper_tasks: list[TaskSpec], tmp_path: Path
) -> None:
    assert fake_paper_tasks == list(PAPER_TASKS)  # every paper task as registered: no split or exclusion opened
    good, _ = _oracle_and_shuffled(fake_paper_tasks, fake_root, tmp_path)
    assert set(good["tasks"]) == {t.name for t in PAPER_TASKS}
    assert good["tasks"]["mar20_obb"]["spec"]["table"] == "Tab. IX"
    crsvqa = good["tasks"]["crsvqa"]
    assert crsvqa["spec"]["split"] == "test" and crsvqa["counts"]["samples"] == 2  # the one test image, two pairs
    assert set(crsvqa["metrics"]) == {"OA"}  # CRSVQA has no question types: no per-type rows, no AA
    hr = good["tasks"]["rsvqa_hr_test2"]
    assert hr["counts"]["excluded_questions"] == {"area": 1, "count": 1}
    assert (hr["metrics"]["presence"], hr["metrics"]["comparison"], hr["metrics"]["OA"]) == (100.0, 100.0, 100.0)


def test_dummy_scores_the_floor_on_the_paper_vqa_fakes(
    fake_root: Path, fake_paper_tasks: list[TaskSpec], tmp_path: Path
) -> None:
    specs = [t for t in fake_paper_tasks if t.name in ("crsvqa", "rsvqa_hr_test2")]
    res = evaluate(DummyAnswerer(), specs, fake_root, tmp_path, LIMIT, plots=False)["tasks"]
    assert res["crsvqa"]["metrics"]["OA"] == 0.0 and res["crsvqa"]["counts"]["samples"] == 2
    assert set(res["rsvqa_hr_test2"]["metrics"].values()) == {0.0}  # presence, comparison, OA, AA
    assert res["rsvqa_hr_test2"]["counts"]["samples"] == 3


def test_oracle_captions_with_the_real_meteor_jar(data_root: Path, tmp_path: Path) -> None:
    """The one run of the METEOR jar here: the oracle's captions score METEOR 100 (each is one of its references)."""
    spec = get_task("rsicd_sample")
    samples = _samples([spec], data_root, None)
    res = evaluate(OracleAnswerer(samples), [spec], data_root, tmp_path, plots=False)["tasks"][spec.name]
    assert res["metrics"]["METEOR"] == pytest.approx(100.0)
    assert res["metrics"]["BLEU-4"] == pytest.approx(100.0) and res["metrics"]["ROUGE-L"] == pytest.approx(100.0)
    assert res["metrics"]["SPICE"] is None and any("SPICE" in n for n in res["details"]["notes"])


def test_dummy_scores_the_floor_and_every_sample_counts(data_root: Path, tmp_path: Path) -> None:
    specs = [get_task(n) for n in ("aid", "hit_uav_hbb", "dior_rsvg_sample", "rsvqa_lr_sample")]
    res = evaluate(DummyAnswerer(), specs, data_root, tmp_path, LIMIT, plots=False)["tasks"]
    assert res["aid"]["metrics"]["top1"] == 0.0
    assert res["aid"]["counts"]["unparsed"] == res["aid"]["counts"]["samples"] == LIMIT
    assert res["hit_uav_hbb"]["metrics"] == {"AP@40": 0.0, "AP@50": 0.0}
    assert res["hit_uav_hbb"]["box_scores"] == {}
    assert res["dior_rsvg_sample"]["metrics"]["mIoU"] == 0.0
    assert res["rsvqa_lr_sample"]["metrics"]["OA"] == 0.0


def test_report_and_metrics_files_with_figures(data_root: Path, tmp_path: Path) -> None:
    specs = [get_task("rsscn7"), get_task("hit_uav_obb")]
    samples = _samples(specs, data_root, 3)
    evaluate(OracleAnswerer(samples), specs, data_root, tmp_path, 3, model_name="oracle")
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["model"] == "oracle" and saved["tasks"]["rsscn7"]["metrics"]["top1"] == 100.0
    report = (tmp_path / "report.md").read_text()
    assert "| rsscn7 | 3 | 100.00 |" in report
    assert "mean log-probability" in report and "logprob" in report
    for fig in ("rsscn7_confusion.png", "rsscn7_examples.png", "hit_uav_obb_pr.png", "hit_uav_obb_examples.png"):
        assert (tmp_path / "figures" / fig).stat().st_size > 1000
        assert f"figures/{fig}" in report


def test_paper_table_layout_in_the_report(fake_root: Path, fake_paper_tasks: list[TaskSpec], tmp_path: Path) -> None:
    specs = [t for t in fake_paper_tasks if t.table in ("Tab. III", "Tab. VIII")]
    evaluate(OracleAnswerer(_samples(specs, fake_root)), specs, fake_root, tmp_path, plots=False, model_name="m")
    report = (tmp_path / "report.md").read_text()
    assert "| Method | clrs | nasc_tg2 |" in report
    assert "| EarthGPT (paper) | 77.37 | 74.72 |" in report
    assert "| m (this run) | 100.00 | 100.00 |" in report
    assert "| Method | AP@40 | AP@50 |\n|---|---|---|\n| EarthGPT (paper) | 90.47 | 90.11 |" in report


class _Counting:
    """Records the ids asked; answers like the oracle."""

    def __init__(self, samples: list[Sample]) -> None:
        self.oracle = OracleAnswerer(samples)
        self.asked: list[str] = []

    def predict(self, requests: Sequence[Request]) -> list[Generation]:
        self.asked += [r.id for r in requests]
        return self.oracle.predict(requests)


def test_a_stopped_run_resumes_and_predicts_only_what_is_missing(data_root: Path, tmp_path: Path) -> None:
    spec = get_task("rsscn7")
    data = load_task(spec, data_root, 8)
    path = tmp_path / spec.name / PREDICTIONS_FILE
    first = _Counting(data.samples)
    evaluate(first, [spec], data_root, tmp_path, 8, batch_size=3, plots=False)
    assert len(first.asked) == 8
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:5]) + "\n" + lines[5][:20])  # lost 2 lines, the 6th cut mid-write
    second = _Counting(data.samples)
    res = evaluate(second, [spec], data_root, tmp_path, 8, batch_size=3, plots=False)
    assert sorted(second.asked) == sorted(s.id for s in data.samples[5:])
    assert res["tasks"]["rsscn7"]["metrics"]["top1"] == 100.0
    third = _Counting(data.samples)
    evaluate(third, [spec], data_root, tmp_path, 8, plots=False)
    assert third.asked == []


def test_a_cached_answer_to_another_prompt_is_asked_again(data_root: Path, tmp_path: Path) -> None:
    data = load_task(get_task("rsscn7"), data_root, 2)
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": data.samples[0].id, "prompt": "old prompt", "text": "grass"}) + "\n")
    dummy = DummyAnswerer("field")
    responses, asked = predict_task(dummy, data, path)
    assert asked == 2 and responses[data.samples[0].id].text == "field"


def test_a_predictor_returning_the_wrong_number_of_responses_is_an_error(data_root: Path, tmp_path: Path) -> None:
    class Short:
        def predict(self, requests: Sequence[Request]) -> list[Generation]:
            return [Generation("x")]

    data = load_task(get_task("rsscn7"), data_root, 3)
    with pytest.raises(RuntimeError, match="exactly one response per request"):
        predict_task(Short(), data, tmp_path / "p.jsonl", batch_size=3)


def test_absent_data_fails_fast_or_is_listed(data_root: Path, tmp_path: Path) -> None:
    dummy = DummyAnswerer()
    with pytest.raises(TaskDataError, match="MAR20"):
        evaluate(dummy, "rsscn7,mar20_hbb", data_root, tmp_path, 2, plots=False)
    assert dummy.calls == []  # nothing predicted before the error
    res = evaluate(dummy, "rsscn7,mar20_hbb", data_root, tmp_path, 2, plots=False, skip_missing=True)
    assert set(res["tasks"]) == {"rsscn7"} and "mar20_hbb" in res["missing_data"]
    assert "## Tasks not run (data absent)" in (tmp_path / "report.md").read_text()
