"""Every bench script runs as ``python bench/X.py`` from the repository root and imports this checkout's code.

Each script only parses ``--help`` here (the benches themselves are minutes of timing, never run in tests). The
child's PYTHONPATH holds a decoy ``earthgpt`` package that fails on import: a script that would pick up an
installed copy instead of the checkout's ``src`` fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHES = sorted(p.name for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="module")
def decoy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("decoy")
    (folder / "earthgpt").mkdir()
    (folder / "earthgpt" / "__init__.py").write_text('raise ImportError("the installed earthgpt, not the checkout")\n')
    return folder


def test_every_bench_is_listed() -> None:
    assert {"train_speed.py", "mfu.py", "caption_metrics.py", "detection_ap.py"} <= set(BENCHES)


@pytest.mark.parametrize("script", BENCHES)
def test_bench_parses_help_from_the_root(script: str, decoy: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(decoy)}
    done = subprocess.run(
        [sys.executable, f"bench/{script}", "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage:") and script in done.stdout


def test_cnn_baseline_trains_the_steps_asked_and_scores_both_test_splits(decoy: Path, data_root: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(decoy)}
    argv = [sys.executable, "bench/cnn_baseline.py", "--data", str(data_root), "--steps", "2", "--minutes", "5",
            "--threads", "1", "--batch-size", "4"]  # fmt: skip
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["steps"] == 2 and result["samples_seen"] == 8 and 0 < result["minutes"] < 5
    assert result["test_images"] == {"rsscn7": 32, "aid": 309} and result["train_images"] == 1369
    assert 1e6 < result["parameters"] < 1e7  # a small ConvNeXt: a few million
    for key in ("top1_rsscn7", "top1_aid"):
        assert 0 <= result[key] <= 100
