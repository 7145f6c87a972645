"""`earthgpt eval --skip-missing` on a partial data root: present tasks run, the rest are listed with their folder."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from earthgpt.cli import main
from earthgpt.evaluation.tasks import GROUPS, TASKS


@pytest.fixture()
def partial_root(data_root: Path, tmp_path: Path) -> Path:
    """A data root holding only RSSCN7 (the other sample datasets are absent)."""
    root = tmp_path / "partial"
    root.mkdir()
    (root / "rsscn7").symlink_to(data_root / "rsscn7", target_is_directory=True)
    return root


def test_without_skip_missing_the_first_absent_task_stops_the_run(
    partial_root: Path, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["eval", "--model", str(tiny_model_dir), "--tasks", "samples", "--data", str(partial_root)]
    assert main([*args, "--out", str(tmp_path / "eval")]) == 2
    assert str(partial_root / "aid_150px") in capsys.readouterr().err


def test_skip_missing_runs_what_is_present_and_lists_the_rest(
    partial_root: Path, tiny_model_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "eval"
    args = [
        "eval",
        "--model",
        str(tiny_model_dir),
        "--tasks",
        "samples",
        "--data",
        str(partial_root),
        "--out",
        str(out),
    ]
    with caplog.at_level(logging.WARNING):
        assert main([*args, "--limit", "2", "--skip-missing", "--max-new-tokens", "4"]) == 0
    summary = json.loads((out / "metrics.json").read_text())
    skipped = [t for t in GROUPS["samples"] if t != "rsscn7"]
    assert list(summary["tasks"]) == ["rsscn7"] and summary["tasks"]["rsscn7"]["counts"]["samples"] == 2
    assert sorted(summary["missing_data"]) == sorted(skipped)
    report = (out / "report.md").read_text()
    for name in skipped:
        folder = partial_root / TASKS[name].data_dir
        assert f"skipped {name}: no data at {folder}" in caplog.text
        line = next(x for x in report.splitlines() if x.startswith(f"- {name}: "))
        assert str(folder) in line
