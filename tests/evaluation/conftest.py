"""Fixtures of the evaluation tests: the paper's benchmarks on fake data in their real on-disk formats."""

from __future__ import annotations

import dataclasses
import importlib
import os
from pathlib import Path

import pytest

from earthgpt.evaluation.tasks import PAPER_TASKS, TaskSpec

# The fakes hold no CRSVQA image in the 10% test split and no RSVQA-HR test-2 question outside counting:
# those two tasks run on fakes with the split (resp. exclusion) opened up; every other paper task runs as is.
FAKE_OVERRIDES: dict[str, dict[str, object]] = {
    "crsvqa": {"split": "all"},
    "rsvqa_hr_test2": {"exclude_qtypes": ()},
}


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
    """The paper's task specs as they run on the fakes (see FAKE_OVERRIDES)."""
    return [dataclasses.replace(t, **FAKE_OVERRIDES.get(t.name, {})) for t in PAPER_TASKS]  # type: ignore[arg-type]
