"""Stage recipes: the paper's optimiser, and both stages end to end on the tiny EarthGPT with exact resume."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open

from earthgpt.models import EarthGPT
from earthgpt.training import checkpoint as ckpt
from earthgpt.training.config import ConfigError, TrainConfig
from earthgpt.training.distributed import SyntheticImageText, build_tiny_model, collate_image_text
from earthgpt.training.recipes import recipe, run_stage, stage_of, steps_for_epochs

FAST: dict[str, Any] = {"batch_size": 1, "lr": 1e-3, "progress_bar": False, "warmup_steps": 0}


@pytest.fixture(scope="module")
def base_model() -> EarthGPT:
    return build_tiny_model(seed=0, stage=None)


@pytest.fixture(scope="module")
def data(base_model: EarthGPT) -> SyntheticImageText:
    return SyntheticImageText(6, base_model.config.image_size, base_model.config.num_image_tokens)


def test_paper_optimizer_in_both_recipes() -> None:
    for stage in (1, 2):
        config = recipe(stage, "run", max_steps=1000)
        assert (config.lr, config.min_lr, config.betas) == (2e-5, 0.0, (0.9, 0.95))
        assert (config.max_grad_norm, config.weight_decay, config.save_full_model) == (1.0, 0.0, False)
        assert config.warmup_steps == 30  # 3% of the run
        assert recipe(stage, "run", max_steps=200).warmup_steps == 6
        assert recipe(stage, "run", max_steps=200, warmup_fraction=0.1).warmup_steps == 20
        assert recipe(stage, "run", max_steps=200, warmup_steps=7, warmup_fraction=0.1).warmup_steps == 7
    assert stage_of(recipe(1, "r", max_steps=10)) == "1"
    stage2 = recipe(2, "r", max_steps=10, base_weights="runs/stage1/checkpoints/step-00000010", batch_size=4)
    assert stage_of(stage2) == "2" and stage2.batch_size == 4
    assert stage2.base_weights == "runs/stage1/checkpoints/step-00000010"
    with pytest.raises(ConfigError, match=r"recipe\(stage, ...\)"):
        stage_of(TrainConfig(out_dir="r"))


def test_scratch_recipe_keeps_its_own_defaults() -> None:
    config = recipe("scratch", "run")
    assert (config.lr, config.max_steps, config.batch_size, config.warmup_steps) == (1e-3, 200, 8, 10)
    assert config.save_full_model and config.extra["stage"] == "scratch"
    assert recipe("scratch", "run", max_steps=4).warmup_steps == 3  # a default warmup never reaches max_steps
    with pytest.raises(ConfigError, match="warmup_steps=9 exceeds max_steps=4"):
        recipe("scratch", "run", max_steps=4, warmup_steps=9)  # an explicit one is checked, not clipped


def test_steps_for_epochs() -> None:
    assert steps_for_epochs(1000, 1, batch_size=8, grad_accum=4, world_size=2) == 16  # ceil(1000 / 64)
    assert steps_for_epochs(64, 2.5, batch_size=8) == 20


def _trainable(model: torch.nn.Module) -> set[str]:
    return {n for n, p in model.named_parameters() if p.requires_grad}


@pytest.fixture(scope="module")
def stage1_run(tmp_path_factory: pytest.TempPathFactory, base_model: EarthGPT, data: SyntheticImageText) -> Any:
    """Two stage-1 steps: (model before, model after, result)."""
    model = copy.deepcopy(base_model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = tmp_path_factory.mktemp("stage1")
    result = run_stage(model, data, collate_image_text, recipe(1, str(out), max_steps=2, **FAST))
    return before, model, result


def test_stage1_trains_and_saves_exactly_the_stage_table(stage1_run: Any) -> None:
    before, model, result = stage1_run
    trainable = _trainable(model)
    assert trainable and not any(n.startswith("vision.vit.") for n in trainable)
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed == trainable
    assert result.checkpoint_dir is not None
    with safe_open(str(result.checkpoint_dir / ckpt.MODEL_FILE), framework="pt") as handle:
        assert set(handle.keys()) == trainable
    assert TrainConfig.load(result.checkpoint_dir / ckpt.CONFIG_FILE).extra["stage"] == "1"


def test_stage2_from_stage1_with_exact_resume(
    tmp_path: Path, base_model: EarthGPT, data: SyntheticImageText, stage1_run: Any
) -> None:
    """Stage 2 starts from the stage-1 checkpoint, trains only the adapters, and resumes bit-identically."""
    _, stage1_model, stage1 = stage1_run
    init = stage1.checkpoint_dir

    def stage2(out: str, model: EarthGPT, **changes: Any) -> Any:
        config = recipe(2, out, max_steps=2, base_weights=str(init), **(FAST | changes))
        return run_stage(model, data, collate_image_text, config, init_from=init)

    straight_model = copy.deepcopy(base_model)
    straight = stage2(str(tmp_path / "a"), straight_model)
    trainable = _trainable(straight_model)
    assert trainable and all(n.endswith(("adapter_scale", "adapter_bias")) for n in trainable)
    stage1_state = stage1_model.state_dict()
    for name, value in straight_model.state_dict().items():  # stage-1 weights loaded and kept frozen
        if name in stage1_state:
            assert torch.equal(value, stage1_state[name]), name
    first = stage2(str(tmp_path / "b"), copy.deepcopy(base_model), stop_at_step=1)
    resumed_model = copy.deepcopy(base_model)
    second = stage2(str(tmp_path / "b"), resumed_model, resume=True)
    assert first.losses + second.losses == straight.losses
    for key, value in straight_model.state_dict().items():
        assert torch.equal(value, resumed_model.state_dict()[key]), key
