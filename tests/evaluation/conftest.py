"""Fixtures of the evaluation tests: the paper's benchmarks on fake data in their real on-disk formats."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from earthgpt.evaluation.tasks import PAPER_TASKS, TaskSpec


@pytest.fixture(scope="session")
def fake_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding every paper task's fake dataset at ``<root>/<task.data_dir>``."""
    base = tmp_path_factory.mktemp("fake_data")
    root = base / "root"
    root.mkdir()
    for spec in PAPER_TASKS:
        link = root / spec.data_dir
        if link.exists():
            continue
        fake = importlib.import_module(f"tests.data.fakes.{spec.source}")
        folder = fake.write(base / f"written_{spec.data_dir}")
        os.symlink(folder, link)
    return root


@pytest.fixture(scope="session")
def fake_paper_tasks() -> list[TaskSpec]:
    """The paper's task specs, unchanged: every one of them has samples to score on its fake."""
    return list(PAPER_TASKS)
