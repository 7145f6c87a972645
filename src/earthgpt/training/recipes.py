"""The two training stages of the paper as ready TrainConfigs, and how a stage is applied before training.

Stage 1, cross-modal mutual comprehension (Section III-C), trains on image-caption pairs (the paper: LAION-400M
and COCO Caption; here any caption records). Stage 2, unified instruction tuning (Section III-D), trains on
instruction conversations (the paper: MMRS-1M) with the stage-1 weights frozen and new scale/bias adapters (Eq. 15).
Which parameters train in each stage is the table in ``earthgpt.training.stages``; :func:`run_stage` applies it.
Both stages use the optimiser of Section V-A: AdamW, betas (0.9, 0.95), peak learning rate 2e-5, minimum 0.

What the paper leaves open, chosen here (override any field): 3% linear warmup (LLaVA's choice), no weight decay,
gradient clipping at norm 1.0, bf16 autocast on GPUs, a checkpoint every 1000 steps, the last 3 kept.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn
from torch.utils.data import Dataset

from earthgpt.training.checkpoint import MODEL_FILE, load_model_state
from earthgpt.training.config import ConfigError, TrainConfig
from earthgpt.training.loop import TrainResult, train

log = logging.getLogger(__name__)

PAPER_OPTIMIZER: dict[str, Any] = {"lr": 2e-5, "min_lr": 0.0, "betas": (0.9, 0.95)}
WARMUP_FRACTION = 0.03
STAGE_DATA = {
    1: "image-caption pairs (paper: LAION-400M, COCO Caption)",
    2: "multi-sensor RS instruction conversations (paper: MMRS-1M)",
}


def steps_for_epochs(
    num_samples: int, epochs: float, *, batch_size: int, grad_accum: int = 1, world_size: int = 1
) -> int:
    """Optimizer steps that cover ``epochs`` passes over ``num_samples`` with the given global batch."""
    global_batch = batch_size * grad_accum * world_size
    return max(1, math.ceil(epochs * num_samples / global_batch))


def _stage_config(stage: int, out_dir: str, max_steps: int, **overrides: Any) -> TrainConfig:
    """Paper optimiser + the documented defaults for ``stage``; ``overrides`` replace any field."""
    values: dict[str, Any] = {
        "out_dir": out_dir,
        "max_steps": max_steps,
        "warmup_steps": max(0, round(WARMUP_FRACTION * max_steps)),
        "weight_decay": 0.0,
        "max_grad_norm": 1.0,
        "mixed_precision": "auto",
        "save_every": 1000,
        "keep_last": 3,
        **PAPER_OPTIMIZER,
    }
    values |= overrides
    values["extra"] = {"stage": stage, "data": STAGE_DATA[stage]} | dict(overrides.get("extra", {}))
    return TrainConfig(**values)


def stage1_recipe(out_dir: str, max_steps: int, **overrides: Any) -> TrainConfig:
    """Stage 1 (cross-modal mutual comprehension) on image-caption pairs; ``extra["stage"] == 1``."""
    return _stage_config(1, out_dir, max_steps, **overrides)


def stage2_recipe(out_dir: str, max_steps: int, base_weights: str | None = None, **overrides: Any) -> TrainConfig:
    """Stage 2 (unified instruction tuning) on instruction data; ``base_weights`` names the stage-1 result."""
    return _stage_config(2, out_dir, max_steps, base_weights=base_weights, **overrides)


def stage_of(config: TrainConfig) -> int:
    """The stage a recipe config was made for."""
    stage = config.extra.get("stage")
    if stage not in (1, 2):
        raise ConfigError(
            f"TrainConfig.extra['stage'] is {stage!r}: build the config with stage1_recipe or stage2_recipe, "
            "or set extra={'stage': 1 or 2}"
        )
    return int(stage)


def init_from_checkpoint(model: nn.Module, directory: str | Path) -> list[str]:
    """Load the tensors of a checkpoint directory (e.g. the end of stage 1) into ``model``; returns their names.

    Use it to start stage 2 from a stage-1 run: build the model as for stage 1, load its checkpoint, then train.
    """
    path = Path(directory) / MODEL_FILE
    return load_model_state(model, path, require_trainable=False)


def run_stage(
    model: nn.Module,
    dataset: Dataset[Any],
    collate_fn: Callable[[list[Any]], Any],
    config: TrainConfig,
    *,
    init_from: str | Path | None = None,
) -> TrainResult:
    """Load ``init_from`` (a checkpoint directory) if given, apply the config's stage, then train.

    The stage (trainable set; stage 2 adds the adapters) is applied before the optimizer is built and before a
    resume checkpoint is loaded, so resuming a stage-2 run finds the adapter parameters it saved. For stage 2,
    pass the stage-1 checkpoint as ``init_from`` (and record it as the config's ``base_weights``).
    """
    from earthgpt.training.stages import apply_stage

    if init_from is not None:
        loaded = init_from_checkpoint(model, init_from)
        log.info("initialised %d tensors from %s", len(loaded), init_from)
    stage = stage_of(config)
    apply_stage(model, stage)  # type: ignore[arg-type]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.info("stage %d: %d trainable parameters; data: %s", stage, trainable, config.extra.get("data"))
    return train(model, dataset, collate_fn, config)
