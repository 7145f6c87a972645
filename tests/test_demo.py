"""`make demo`'s job: the default (shipped) model answers about three held-out real images with the truth beside
each and draws the detection; `--train` builds a recipe, trains it resumably, ships it and asks that model."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from earthgpt.demo import DETECT_TASK, SCENE_TASK, VQA_TASK, run_demo
from earthgpt.models.shipped import MODEL_ENV
from tests.conftest import write_scenes_config


def _check_answers(lines: list[str], out: Path) -> None:
    assert [line.split("]")[0] for line in lines] == [f"\n[{t}" for t in (SCENE_TASK, VQA_TASK, DETECT_TASK)]
    for line in lines:
        assert "\nUSER: " in line and "\nEARTHGPT: " in line and ") truth: " in line
        assert "(ends with </s>)" in line or "-token limit)" in line
    assert "USER: What is the category of this RS image?" in lines[0] and "rsscn7/" in lines[0]
    assert "Detect all objects shown in the RS image and describe using horizontal bounding boxes" in lines[2]
    with Image.open(out / "detection.png") as im:
        assert im.size == (640, 512)  # drawn on the HIT-UAV frame itself


def test_demo_answers_with_the_default_model(
    shipped_run: tuple[Path, Path], data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MODEL_ENV, str(shipped_run[1]))
    lines = list(run_demo(data_root, tmp_path))
    assert lines[0] == f"model: {shipped_run[1]} (retrain it with `make demo TRAIN=1`)"
    _check_answers(lines[1:], tmp_path)
    assert not (tmp_path / "train").exists()  # nothing trained
    with pytest.raises(ValueError, match="pass it with --train"):
        list(run_demo(data_root, tmp_path, steps=5))


def test_demo_train_builds_trains_resumes_and_ships(data_root: Path, tmp_path: Path) -> None:
    train = tmp_path / "train.yaml"
    train.write_text("stage: scratch\nsize: tiny\nvocab_size: 600\nmax_length: 400\nbatch_size: 2\nsave_every: 1\n")
    data = write_scenes_config(tmp_path, data_root)
    out = tmp_path / "demo"
    first = list(run_demo(data_root, out, train=True, steps=2, data_config=data, train_config=train))
    assert first[0] == f"corpus: 178 conversations in {out / 'data'}"
    assert first[1].startswith("trained steps 1-2: loss ")
    assert first[2] == f"model: shipped to {out / 'model'}"
    _check_answers(first[3:], out)
    again = list(run_demo(data_root, out, train=True, steps=3, data_config=data, train_config=train))
    assert again[1].startswith("trained steps 3-3: loss ")  # continued from the step-2 checkpoint
