"""Exports: an lmms-eval task folder that runs its own hooks, and a VLMEvalKit TSV with base64 images."""

from __future__ import annotations

import base64
import csv
import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType

import yaml
from PIL import Image

from earthgpt.evaluation.export import export_lmms_eval, export_vlmevalkit
from earthgpt.evaluation.tasks import get_task, load_task


class _LmmsLoader(yaml.SafeLoader):
    """Reads lmms-eval's ``!function module.name`` tags as plain strings."""


_LmmsLoader.add_constructor("!function", lambda loader, node: f"!function {loader.construct_scalar(node)}")


def _import(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"exported_{path.parent.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lmms_eval_task_folder_runs_its_hooks_and_scores_with_our_code(data_root: Path, tmp_path: Path) -> None:
    yaml_path = export_lmms_eval("rsvqa_hr_sample", data_root, tmp_path, limit=4)
    config = yaml.load(yaml_path.read_text(), Loader=_LmmsLoader)
    assert config["task"] == "earthgpt_rsvqa_hr_sample" and config["output_type"] == "generate_until"
    assert config["dataset_path"] == "json" and config["test_split"] == "test"
    assert config["doc_to_visual"] == "!function utils.doc_to_visual"
    assert config["metric_list"][0]["aggregation"] == "!function utils.aggregate"
    assert config["generation_kwargs"]["do_sample"] is False
    docs_file = Path(config["dataset_kwargs"]["data_files"]["test"])
    docs = [json.loads(line) for line in docs_file.read_text().splitlines()]
    samples = load_task(get_task("rsvqa_hr_sample"), data_root, 4).samples
    assert [d["id"] for d in docs] == [s.id for s in samples]
    utils = _import(yaml_path.parent / "utils.py")
    assert utils.doc_to_text(docs[0]) == samples[0].prompt
    (image,) = utils.doc_to_visual(docs[0])
    assert image.size == (512, 512)
    items = [utils.process_results(d, [d["answer"]])["earthgpt"] for d in docs]
    assert utils.aggregate(items) == 100.0  # scored by score_file on the same samples
    assert (yaml_path.parent / "predictions.jsonl").is_file()
    assert json.loads((yaml_path.parent / "scores" / "metrics.json").read_text())["counts"]["samples"] == 4


def test_lmms_eval_export_writes_tiles_as_images(data_root: Path, tmp_path: Path) -> None:
    yaml_path = export_lmms_eval("sen2ships", data_root, tmp_path, limit=2)
    docs = [json.loads(x) for x in (yaml_path.parent / "sen2ships.jsonl").read_text().splitlines()]
    samples = load_task(get_task("sen2ships"), data_root, 2).samples
    for doc, s in zip(docs, samples, strict=True):
        with Image.open(doc["image_path"]) as im:
            assert im.size == (s.image.width, s.image.height)  # the tile, not the whole scene


def test_vlmevalkit_tsv_has_base64_images_and_index_references(data_root: Path, tmp_path: Path) -> None:
    path = export_vlmevalkit("rsvqa_hr_sample", data_root, tmp_path / "EarthGPT_RSVQA_HR.tsv", limit=6)
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    samples = load_task(get_task("rsvqa_hr_sample"), data_root, 6).samples
    assert [r["index"] for r in rows] == [str(i) for i in range(6)]
    assert [r["question"] for r in rows] == [s.prompt for s in samples]
    assert [r["answer"] for r in rows] == [s.answer for s in samples]
    assert [r["category"] for r in rows] == [s.group for s in samples]
    first_of: dict[str, int] = {}
    for i, (r, s) in enumerate(zip(rows, samples, strict=True)):
        if s.image.path in first_of:  # VLMEvalKit: a short image field is the index of the row holding it
            assert r["image"] == str(first_of[s.image.path])
        else:
            first_of[s.image.path] = i
            with Image.open(io.BytesIO(base64.b64decode(r["image"]))) as im:
                assert im.format == "PNG" and im.size == (512, 512) and len(r["image"]) > 64
    assert len(first_of) < len(rows)  # questions share images in this sample
