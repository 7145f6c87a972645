"""The `earthgpt` command: options, config files and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from earthgpt.cli import main
from earthgpt.pipeline import load_train_run


def test_train_run_from_yaml_with_flag_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "train.yaml"
    cfg.write_text("data: runs/data\nout: runs/model\nstage: 1\nsteps: 50\nlr: 0.0001\n", encoding="utf-8")
    run = load_train_run(cfg, steps=7)
    assert (run.data, run.out, run.stage, run.steps, run.lr) == ("runs/data", "runs/model", "1", 7, 0.0001)


def test_train_run_errors_name_the_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "train.yaml"
    cfg.write_text("data: x\nout: y\nsteps_: 5\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"unknown training option\(s\) \['steps_'\]"):
        load_train_run(cfg)
    with pytest.raises(ValueError, match="--out"):
        load_train_run(None, data="x")
    with pytest.raises(FileNotFoundError, match="training config"):
        load_train_run(tmp_path / "nope.yaml")
    with pytest.raises(ValueError, match="stage must be"):
        load_train_run(None, data="x", out="y", stage="3")


def test_missing_data_root_names_the_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "build.yaml"
    cfg.write_text("sources:\n  - name: rsscn7\n    root: rsscn7\n", encoding="utf-8")
    code = main(
        ["data", "build", "--config", str(cfg), "--data", str(tmp_path / "absent"), "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "--data" in err and "absent" in err


def test_chat_on_a_missing_model_directory_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["chat", "--model", str(tmp_path), "--image", str(tmp_path / "x.png"), "hello"])
    assert code == 2 and "not a model directory" in capsys.readouterr().err


def test_unknown_source_lists_the_known_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "build.yaml"
    cfg.write_text("sources:\n  - name: rsscn8\n    root: .\n", encoding="utf-8")
    code = main(["data", "build", "--config", str(cfg), "--data", str(tmp_path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "rsscn8" in err and "rsscn7" in err
