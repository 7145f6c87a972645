"""Shared fixtures of the builder tests: the small data root and one uninterrupted reference build of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from earthgpt.data.corpus import build
from earthgpt.data.corpus.runner import BuildResult
from tests.data.corpus.helpers import make_mini_root, mini_config


@pytest.fixture(scope="session")
def mini(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(data root, source roots relative to it) of the small data root."""
    root = tmp_path_factory.mktemp("mini") / "data"
    return root, make_mini_root(data_root, root)


@pytest.fixture(scope="session")
def reference(mini: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """An uninterrupted one-worker build of the small data root (tests must not modify it)."""
    root, roots = mini
    return build(mini_config(root, tmp_path_factory.mktemp("ref") / "out", roots), progress=False)
