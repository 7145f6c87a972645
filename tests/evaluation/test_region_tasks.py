"""EarthGPT-X tasks: oracle = 100 and a dummy floor; `eval score` with regions and masks from other models."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as coco_mask

from earthgpt.evaluation.answerers import DummyAnswerer, ModelAnswerer, OracleAnswerer, Request
from earthgpt.evaluation.cli import ScoreRun, run_score
from earthgpt.evaluation.score_predictions import score_predictions_file
from earthgpt.evaluation.task_scores import score_task
from earthgpt.evaluation.tasks import REGION_SAMPLE_TASKS, REGION_TASKS, TaskData, TaskSpec, get_task, load_task
from earthgpt.evaluation.tasks.parsers import region_answers


class BagOfWords:
    """A stand-in sentence encoder (word counts): identical strings have cosine 1, disjoint ones 0."""

    def encode(self, sentences: list[str]) -> np.ndarray:
        vocab = sorted({w for s in sentences for w in s.lower().split()})
        return np.array([[s.lower().split().count(w) for w in vocab] + [1e-6] for s in sentences], dtype=float)


def _score(data: TaskData, answerer: Any) -> dict[str, float | None]:
    requests = [Request(s.id, s.image, data.root, s.prompt, s.prompts) for s in data.samples]
    responses = dict(zip([s.id for s in data.samples], answerer.predict(requests), strict=True))
    return score_task(data, responses, meteor=False, encoder=BagOfWords()).metrics


def _check(data: TaskData) -> None:
    spec = data.spec
    good, floor = _score(data, OracleAnswerer(data.samples)), _score(data, DummyAnswerer())
    keys = {"referring": ("SS", "S-IoU", "accuracy"), "pixel_grounding": ("gIoU", "cIoU", "mIoU", "Pr@0.9")}
    for key in keys.get(spec.kind, ("BLEU-1", "BLEU-4", "ROUGE-L")):
        assert good[key] == pytest.approx(100.0), (spec.name, key)
        assert (floor[key] or 0.0) < 1.0, (spec.name, key)
    if spec.kind == "region_caption" and len(data.samples) > 1:
        assert good["CIDEr"] > floor["CIDEr"] + 100  # type: ignore[operator]


@pytest.mark.parametrize("spec", REGION_SAMPLE_TASKS, ids=lambda t: t.name)
def test_sample_tasks_oracle_is_100_and_dummy_is_the_floor(spec: TaskSpec, data_root: Path) -> None:
    data = load_task(spec, data_root)
    assert data.samples
    if spec.kind in ("referring", "region_caption"):
        assert all(len(s.prompts) == 1 and s.prompts[0].kind == spec.prompt_kind for s in data.samples)
    else:
        assert all(len(s.masks) == 1 and s.masks[0].to_array().any() for s in data.samples)
    _check(data)


@pytest.mark.parametrize("spec", REGION_TASKS, ids=lambda t: t.name)
def test_dior_rsvg_test_tasks_on_the_fake(spec: TaskSpec, fake_root: Path) -> None:
    data = load_task(spec, fake_root)
    assert data.samples  # the fake's test list holds one expression
    for s in data.samples:
        s.prompts[0].validate(s.image.width, s.image.height, s.id)
    _check(data)


def test_box_task_states_the_paper_values() -> None:
    assert get_task("dior_rsvg_refer_box").paper == {"SS": 98.40, "S-IoU": 97.13}
    assert get_task("dior_rsvg_refer_box").headline == "SS"


def test_prompts_repeat_on_every_load(data_root: Path) -> None:
    spec = get_task("dior_rsvg_sample_refer_scribble")
    assert load_task(spec, data_root).samples == load_task(spec, data_root).samples


def test_region_answers_read_osprey_and_other_forms() -> None:
    assert region_answers("Region 1: ship; Region 2: storage tank.", 2) == ["ship", "storage tank"]
    assert region_answers("<region2>: harbor\n<region1>: ship", 2) == ["ship", "harbor"]
    assert region_answers("a golf field", 1) == ["a golf field"]
    assert region_answers("Region 2: ship", 2) == [None, "ship"]


def _lines(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_score_file_reads_masks_as_rle_or_polygons_and_counts_bad_ones(data_root: Path, tmp_path: Path) -> None:
    data = load_task(get_task("hrsid_seg"), data_root)
    s0, s1, s2, s3 = data.samples[:4]
    ann = json.loads((data_root / "hrsid_modified_coco/subset_offshore_train_30imgs.json").read_text())
    image_id = next(im["id"] for im in ann["images"] if im["file_name"] == s1.id.split("#")[0])
    polygons = [p for a in ann["annotations"] if a["image_id"] == image_id for p in a["segmentation"]]
    uncompressed = {"size": [800, 800], "counts": [0, 640000]}  # every pixel
    rows = [
        {"id": s0.id, "text": "Sure, <seg>.", "masks": [s0.masks[0].to_dict()]},  # compressed RLE
        {"id": s1.id, "text": "Sure, <seg>.", "masks": [polygons]},  # the annotation's own polygons
        {"id": s2.id, "text": "Sure, <seg>.", "masks": [{"size": [400, 400], "counts": [0, 160000]}]},  # bad size
        {"id": s3.id, "text": "Sure, <seg>.", "masks": [uncompressed]},
    ]
    result = score_predictions_file("hrsid_seg", _lines(tmp_path / "p.jsonl", rows), data_root)
    ious = result.details["ious"]
    assert ious[s0.id] == 1.0 and ious[s1.id] == 1.0 and ious[s2.id] == 0.0
    area = int(s3.masks[0].to_array().sum())
    assert ious[s3.id] == pytest.approx(area / 640000)
    rle = coco_mask.frPyObjects(uncompressed, 800, 800)
    assert ious[s3.id] == pytest.approx(coco_mask.iou([s3.masks[0].to_dict()], [rle], [0])[0][0])
    assert result.counts["masks_invalid"] == 1
    assert result.counts["missing"] == len(data.samples) - 4


def test_eval_score_reads_region_answers_beside_or_in_the_text(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from earthgpt.evaluation.metrics import referring

    monkeypatch.setattr(referring, "load_sentence_encoder", BagOfWords)  # MiniLM itself: tests/evaluation/metrics
    (sample,) = load_task(get_task("dior_rsvg_sample_refer_point"), data_root).samples
    for row in ({"id": sample.id, "text": "", "regions": ["golf field"]}, {"id": sample.id, "text": "golf field"}):
        path = _lines(tmp_path / "p.jsonl", [row])
        run = ScoreRun(
            task="dior_rsvg_sample_refer_point", predictions=str(path), data=str(data_root), out=str(tmp_path / "o")
        )
        assert run_score(run) == 0
        metrics = json.loads((tmp_path / "o/metrics.json").read_text())["metrics"]
        assert metrics["accuracy"] == 100.0 and metrics["S-IoU"] == 100.0


class _PromptedModel:
    def __init__(self) -> None:
        self.options: list[dict[str, Any]] = []

    def pixels(self, image: Any, root: Any = None) -> str:
        return "px"

    def image(self, image: Any, root: Any = None) -> str:
        return "rgb"

    def generate(self, pixels: Sequence[Any], dialogues: Sequence[Any], **options: Any) -> list[Any]:
        self.options.append(options)
        from earthgpt.inference.output import Generation

        return [Generation("Region 1: golf field") for _ in dialogues]


def test_model_answerer_passes_the_prompts_of_each_request(data_root: Path) -> None:
    data = load_task(get_task("dior_rsvg_sample_refer_box"), data_root)
    model = _PromptedModel()
    requests = [Request(s.id, s.image, data.root, s.prompt, s.prompts) for s in data.samples]
    ModelAnswerer(model).predict(requests)
    plain = load_task(get_task("rsscn7"), data_root, 1).samples[0]
    ModelAnswerer(model).predict([Request(plain.id, plain.image, None, plain.prompt)])
    assert model.options == [{"prompts": [data.samples[0].prompts]}, {}]


def test_a_real_x_predictor_answers_the_prompted_tasks_through_the_harness(data_root: Path, tmp_path: Path) -> None:
    """The real Predictor (not a stand-in): prompted requests get the full-resolution image their prompts are in."""
    import torch

    from earthgpt.data.tokenizer import train_tokenizer
    from earthgpt.evaluation.harness import evaluate
    from earthgpt.inference.predictor import Predictor
    from earthgpt.models import build_model, tiny_config
    from earthgpt.pipeline import token_ids, x_token_ids

    tok = train_tokenizer(["USER: what is <region1>? ASSISTANT: Region 1: golf field"] * 30, vocab_size=300)
    torch.manual_seed(0)
    predictor = Predictor(build_model(tiny_config(**token_ids(tok), **x_token_ids(tok))), tok, max_new_tokens=4)
    tasks = ["dior_rsvg_sample_refer_box", "dior_rsvg_sample_refer_point", "dior_rsvg_sample_region_caption"]
    summary = evaluate(ModelAnswerer(predictor), tasks, data_root, tmp_path, plots=False, meteor=False)
    for name in tasks:
        assert summary["tasks"][name]["counts"]["samples"] == 1
        assert (tmp_path / name / "predictions.jsonl").read_text(encoding="utf-8").count("\n") == 1


def test_harness_round_trips_masks_through_its_predictions_cache(data_root: Path, tmp_path: Path) -> None:
    from earthgpt.evaluation.harness import evaluate

    specs = [get_task("hrsid_seg"), get_task("dior_rsvg_sample_refer_point")]
    samples = [s for spec in specs for s in load_task(spec, data_root, 4).samples]
    out = tmp_path / "run"
    kwargs: dict[str, Any] = {"limit": 4, "plots": False, "meteor": False, "encoder": BagOfWords()}
    first = evaluate(OracleAnswerer(samples), specs, data_root, out, **kwargs)
    again = DummyAnswerer()
    cached = evaluate(again, specs, data_root, out, **kwargs)  # everything read back from predictions.jsonl
    assert again.calls == []
    for result in (first, cached):
        assert result["tasks"]["hrsid_seg"]["metrics"]["gIoU"] == 100.0
        assert result["tasks"]["dior_rsvg_sample_refer_point"]["metrics"]["SS"] == pytest.approx(100.0)
    line = json.loads((out / "hrsid_seg/predictions.jsonl").read_text().splitlines()[0])
    assert line["masks"][0]["size"] == [800, 800]
