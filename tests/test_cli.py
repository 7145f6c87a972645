"""The `earthgpt` command: options, config files and clear errors."""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from PIL import Image

import earthgpt
from earthgpt.cli import build_parser, main
from earthgpt.errors import ConfigError
from earthgpt.evaluation.cli import EvalRun, ScoreRun
from earthgpt.pipeline import load_train_run
from earthgpt.training.config import TrainConfig
from earthgpt.training.stages import STAGES


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found: argparse.ArgumentParser = action.choices[name]
    return found


def test_train_run_from_yaml_with_flag_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "train.yaml"
    text = "build: runs/data\nout: runs/model\nstage: 1\ninit: runs/init\nsteps: 50\nlr: 0.0001\nbetas: [0.8, 0.9]\n"
    cfg.write_text(text, encoding="utf-8")
    run = load_train_run(cfg, max_steps=200)
    assert (run.build, run.out, run.stage, run.init) == ("runs/data", "runs/model", "1", "runs/init")
    config = run.train_config()
    assert (config.max_steps, config.lr, config.betas, config.warmup_steps) == (200, 0.0001, (0.8, 0.9), 6)
    assert (config.min_lr, config.max_grad_norm, config.base_weights) == (0.0, 1.0, "runs/init")  # the paper recipe
    assert config.out_dir == str(Path("runs/model") / "run")


def test_train_run_errors_name_the_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "train.yaml"
    cfg.write_text("build: x\nout: y\nsteps_: 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{cfg}: unknown training option 'steps_'"):
        load_train_run(cfg)
    with pytest.raises(ConfigError, match="--out"):
        load_train_run(None, build="x")
    with pytest.raises(FileNotFoundError, match="training config"):
        load_train_run(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="unknown stage 3; choose one of scratch, 1, 2"):
        load_train_run(None, build="x", out="y", stage="3")
    with pytest.raises(ConfigError, match="stage 2 continues a model: pass --init"):
        load_train_run(None, build="x", out="y", stage=2)
    with pytest.raises(ConfigError, match=r"TrainConfig\.lr must be a finite number > 0"):
        load_train_run(None, build="x", out="y", lr=-1.0)  # checked before anything runs
    with pytest.raises(ConfigError, match="'out_dir' is set by `earthgpt train` itself"):
        load_train_run(None, build="x", out="y", out_dir="z")


def test_train_flags_come_from_the_config_dataclasses() -> None:
    train = _subparser(build_parser(), "train")
    flags = {opt for action in train._actions for opt in action.option_strings}
    assert {f"--{f.name.replace('_', '-')}" for f in fields(TrainConfig)} - flags == {
        "--out-dir",
        "--task-weights",
        "--extra",
        "--base-weights",
    }
    assert {"--build", "--stage", "--init", "--warmup-fraction", "--steps", "--no-resume"} <= flags
    stage = next(a for a in train._actions if "--stage" in a.option_strings)
    assert tuple(stage.choices or ()) == tuple(STAGES)
    lr = next(a for a in train._actions if "--lr" in a.option_strings)
    assert lr.help is not None and lr.help.startswith("Peak learning rate")  # the field docstring
    args = build_parser().parse_args(["train", "--build", "b", "--out", "o", "--lr", "0.5", "--betas", "0.8", "0.9"])
    run = args.make(args)
    assert run.train == {"lr": 0.5, "betas": (0.8, 0.9)} and run.build == "b"
    args = build_parser().parse_args(["train", "--build", "b", "--out", "o", "--augment", "hflip", "rot90"])
    assert args.make(args).train_config().augment == ["hflip", "rot90"]  # a list field takes several values


def test_train_data_flag_still_works_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    args = build_parser().parse_args(["train", "--data", "b", "--out", "o"])
    with caplog.at_level(logging.WARNING):
        run = args.make(args)
    assert run.build == "b" and "'data' is deprecated for training, use 'build'" in caplog.text


def test_eval_flags_come_from_the_run_dataclasses(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["eval", "--model", "m", "--tasks", "aid", "--data", "d", "--skip-missing"])
    assert args.make(args) == EvalRun(model="m", tasks="aid", data="d", skip_missing=True)
    args = build_parser().parse_args(["eval", "score", "--task", "aid", "--predictions", "p.jsonl", "--data", "d"])
    assert args.make(args) == ScoreRun(task="aid", predictions="p.jsonl", data="d")
    assert main(["eval", "--data", "d"]) == 2
    assert "earthgpt eval: --tasks required" in capsys.readouterr().err


def test_missing_data_root_names_the_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "build.yaml"
    cfg.write_text("sources:\n  - name: rsscn7\n    root: rsscn7\n", encoding="utf-8")
    code = main(
        ["data", "build", "--config", str(cfg), "--data", str(tmp_path / "absent"), "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "--data" in err and "absent" in err


def test_chat_on_a_missing_model_directory_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "x.png"
    Image.new("RGB", (8, 8)).save(image)
    code = main(["chat", "--model", str(tmp_path), "--image", str(image), "hello"])
    assert code == 2 and "not a model directory" in capsys.readouterr().err


def test_unknown_source_lists_the_known_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "build.yaml"
    cfg.write_text("sources:\n  - name: rsscn8\n    root: .\n", encoding="utf-8")
    code = main(["data", "build", "--config", str(cfg), "--data", str(tmp_path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "rsscn8" in err and "rsscn7" in err


def test_top_level_help_lists_every_command_without_importing_torch() -> None:
    # `earthgpt --help` builds no generated flags: the subcommands that need torch for theirs build them on demand.
    code = (
        "import contextlib, io, json, sys\n"
        "from earthgpt.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "print(json.dumps({'help': out.getvalue(), 'heavy': [m for m in ('torch', 'transformers') if m in sys.modules]}))"
    )
    src = str(Path(earthgpt.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    for command in ("list", "data", "train", "model", "chat", "eval", "demo", "scene"):
        assert f"    {command} " in report["help"], command
