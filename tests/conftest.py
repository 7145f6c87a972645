"""Shared fixtures: where the real remote-sensing data lives, and a fixed seed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO_ROOT = Path(__file__).resolve().parents[1]

# Property tests draw the same examples on every run: a red run can be reproduced, a green one stays green.
settings.register_profile("deterministic", derandomize=True, deadline=None, database=None)
settings.load_profile("deterministic")


def shared_data_root() -> Path | None:
    """The real data folder: $EARTHGPT_DATA, else ../shared/data beside the repository; None if absent."""
    env = os.environ.get("EARTHGPT_DATA")
    candidate = Path(env) if env else REPO_ROOT.parent / "shared" / "data"
    return candidate.resolve() if candidate.is_dir() else None


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real RS data (../shared/data or $EARTHGPT_DATA); tests that need it skip with the reason if absent."""
    root = shared_data_root()
    if root is None:
        pytest.skip("real RS data not found: set EARTHGPT_DATA or place the shared data at ../shared/data")
    return root


def write_tiny_model(root: Path) -> Path:
    """A random-weight tiny model directory ``root/model`` with its tokenizer, and a black ``root/scene.png``."""
    import numpy as np
    import torch
    from PIL import Image

    from earthgpt.data.tokenizer import train_tokenizer
    from earthgpt.models import build_model, tiny_config
    from earthgpt.pipeline import token_ids

    tok = train_tokenizer(
        ["USER: what is here? ASSISTANT: a harbour with ships, grass field forest"] * 30, vocab_size=300
    )
    torch.manual_seed(0)
    out = root / "model"
    build_model(tiny_config(**token_ids(tok))).save_pretrained(out)
    tok.save_pretrained(out)
    Image.fromarray(np.zeros((32, 32, 3), dtype=np.uint8)).save(root / "scene.png")
    return out


@pytest.fixture()
def tiny_model_dir(tmp_path: Path) -> Path:
    """A random-weight tiny model directory with its tokenizer, and a black ``scene.png`` beside it."""
    return write_tiny_model(tmp_path)


SCENES_CONFIG = """\
data_root: {root}
out_dir: {out}
seed: 0
paraphrase: false
sources:
  - name: rsscn7
    root: rsscn7
    splits: [train]
instructions: {{decimals: 3, referring: false, hbb_from_obb: false, paraphrase_seed: null}}
"""
"""A small real corpus (the RSSCN7 train split, 178 conversations, built in about 2 s) for step-counted runs."""


def write_scenes_config(folder: Path, data_root: Path) -> Path:
    """The ``SCENES_CONFIG`` build config in ``folder/scenes.yaml``."""
    path = folder / "scenes.yaml"
    path.write_text(SCENES_CONFIG.format(root=data_root, out=folder / "data"), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def shipped_run(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> tuple[Path, Path]:
    """(a tiny model trained 3 steps on real RSSCN7 scenes, the same model shipped in bf16): about 15 s, once."""
    from earthgpt.data.corpus import build, load_config
    from earthgpt.models.shipped import ship_model
    from earthgpt.pipeline import TrainRun, train_from_build

    folder = tmp_path_factory.mktemp("shipped")
    build(load_config(write_scenes_config(folder, data_root)))
    run = folder / "run"
    train_from_build(TrainRun(build=str(folder / "data"), out=str(run), max_length=400,
                              train={"max_steps": 3, "batch_size": 4}))  # fmt: skip
    return run, ship_model(run, folder / "earthgpt-tiny")
