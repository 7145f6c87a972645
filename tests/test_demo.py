"""`make demo`'s job: the default (shipped) model answers about three held-out real images with the truth beside
each and draws the detection; `--train` builds a recipe, trains it resumably, ships it and asks that model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from earthgpt.demo import DETECT_TASK, SCENE_TASK, TRAIN_CONFIGS, VQA_TASK, run_demo
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
    """Two phases, the second continuing the first (as the shipped recipe): each resumes, the last is shipped."""
    from earthgpt.models import load_pretrained

    train = tmp_path / "train.yaml"
    train.write_text("stage: scratch\nsize: tiny\nvocab_size: 600\nmax_length: 400\nbatch_size: 2\nsave_every: 1\n")
    more = tmp_path / "more.yaml"
    more.write_text("stage: scratch\nmax_length: 400\nbatch_size: 2\nsave_every: 1\nseed: 1\nlr: 1.0e-4\n")
    data = write_scenes_config(tmp_path, data_root)
    out = tmp_path / "demo"
    phases = [train, more]
    first = list(run_demo(data_root, out, train=True, steps=2, data_config=data, train_configs=phases))
    assert first[0] == f"corpus: 178 conversations in {out / 'data'}"
    assert first[1].startswith("trained steps 1-2: loss ") and first[1].endswith("(train.yaml)")
    assert first[2].startswith("trained steps 1-2: loss ") and first[2].endswith("(more.yaml)")
    assert first[3] == f"model: shipped to {out / 'model'}"
    _check_answers(first[4:], out)
    shipped, phase1 = load_pretrained(out / "model").state_dict(), load_pretrained(out / "train").state_dict()
    phase2 = load_pretrained(out / "train-2").state_dict()
    name = "llm.lm_head.weight"
    assert torch.equal(shipped[name], phase2[name].bfloat16().float())  # the last phase is shipped
    assert not torch.equal(phase1[name], phase2[name])  # ... and it trained on from the first
    again = list(run_demo(data_root, out, train=True, steps=3, data_config=data, train_configs=phases))
    assert again[1].startswith("trained steps 3-3: loss ")  # each phase continues from its step-2 checkpoint
    assert again[2].startswith("trained steps 3-3: loss ")


def test_the_shipped_phases_share_the_held_out_chosen_task_shares_and_augmentation() -> None:
    """Phase 2 keeps phase 1's data recipe (the bench/recipe.py decision); only its schedule and seed differ."""
    import yaml

    root = Path(__file__).resolve().parents[1]
    first, second = (yaml.safe_load((root / p).read_text(encoding="utf-8")) for p in TRAIN_CONFIGS)
    for key in ("task_weights", "augment", "length_window", "max_length", "batch_size"):
        assert first[key] == second[key], key
    assert second["seed"] != first["seed"] and second["lr"] < first["lr"]
