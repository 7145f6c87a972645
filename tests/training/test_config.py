"""TrainConfig: validation names the bad field; YAML and JSON round trips keep every resolved value."""

from __future__ import annotations

from pathlib import Path

import pytest

from earthgpt.training.config import ConfigError, TrainConfig


def test_paper_defaults() -> None:
    config = TrainConfig(out_dir="run")
    assert config.betas == (0.9, 0.95)
    assert config.lr == 2e-5
    assert config.min_lr == 0.0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_steps": 0}, "max_steps"),
        ({"batch_size": -1}, "batch_size"),
        ({"grad_accum": 0}, "grad_accum"),
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"min_lr": 1.0}, "min_lr"),
        ({"warmup_steps": 20, "max_steps": 10}, "warmup_steps"),
        ({"betas": (0.9, 1.0)}, "betas"),
        ({"max_grad_norm": 0.0}, "max_grad_norm"),
        ({"stop_at_step": 11, "max_steps": 10}, "stop_at_step"),
        ({"mixed_precision": "fp16"}, "mixed_precision"),
        ({"keep_last": 0}, "keep_last"),
        ({"save_every": -1}, "save_every"),
        ({"extra": {"bad": object()}}, "extra"),
    ],
)
def test_invalid_values_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=f"TrainConfig.{field}"):
        TrainConfig(out_dir="run", **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_save_load_round_trip(tmp_path: Path, suffix: str) -> None:
    config = TrainConfig(
        out_dir=str(tmp_path / "run"),
        max_steps=7,
        warmup_steps=2,
        betas=(0.8, 0.9),
        max_grad_norm=None,
        stop_at_step=3,
        extra={"stage": 2, "note": "x"},
    )
    path = tmp_path / f"config{suffix}"
    config.save(path)
    assert TrainConfig.load(path) == config


def test_unknown_key_names_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("out_dir: run\nlearning_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"config\.yaml.*learning_rate"):
        TrainConfig.load(path)


def test_end_step() -> None:
    assert TrainConfig(out_dir="r", max_steps=9).end_step == 9
    assert TrainConfig(out_dir="r", max_steps=9, stop_at_step=4).end_step == 4
