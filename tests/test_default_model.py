"""Without --model, `earthgpt chat`, `eval`, `serve` and `scene` use the default model ($EARTHGPT_MODEL, else the
shipped models/earthgpt-tiny); a default that is not a model directory is one line naming it and the fixes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from earthgpt.cli import build_parser, main
from earthgpt.models.shipped import MODEL_ENV

SCENE = "rsscn7/aGrass/a001.jpg"


@pytest.fixture()
def default_model(shipped_run: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(MODEL_ENV, str(shipped_run[1]))
    return shipped_run[1]


def test_chat_without_model_answers_with_the_default(
    default_model: Path, data_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["chat", "--image", str(data_root / SCENE), "--max-new-tokens", "4", "What is here?"]) == 0
    assert capsys.readouterr().out.startswith("USER: What is here?\nEARTHGPT: ")


def test_eval_without_model_scores_the_default(default_model: Path, data_root: Path, tmp_path: Path) -> None:
    argv = ["eval", "--tasks", "rsscn7", "--limit", "3", "--data", str(data_root), "--out", str(tmp_path),
            "--max-new-tokens", "8"]  # fmt: skip
    assert main(argv) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["model"] == default_model.name and metrics["tasks"]["rsscn7"]["counts"]["samples"] == 3


def test_serve_without_model_loads_the_default(default_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    assert main(["serve", "--port", "8123"]) == 0
    assert served["port"] == 8123 and served["app"] is not None


@pytest.mark.parametrize("command", ["chat", "eval", "serve", "scene", "demo"])
def test_help_says_what_model_defaults_to(command: str) -> None:
    parser = build_parser(only=command)
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]  # type: ignore[union-attr]
    assert "$EARTHGPT_MODEL, else the shipped models/earthgpt-tiny" in " ".join(sub.format_help().split())


@pytest.mark.parametrize(
    "argv",
    [
        ["chat", "--image", "IMAGE", "hello"],
        ["eval", "--tasks", "rsscn7", "--data", "DATA"],
        ["serve"],
        ["scene", "IMAGE", "--out", "OUT"],
        ["demo", "--data", "DATA"],
    ],
)
def test_a_missing_default_model_is_named_with_the_fixes(
    argv: list[str],
    tmp_path: Path,
    data_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "no-model"))
    subs = {"IMAGE": str(data_root / SCENE), "DATA": str(data_root), "OUT": str(tmp_path / "o.geojson")}
    assert main([subs.get(a, a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert f"$EARTHGPT_MODEL={tmp_path / 'no-model'} is not a model directory" in err and "--model DIR" in err
