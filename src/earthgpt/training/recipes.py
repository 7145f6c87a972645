"""Every training stage as a ready TrainConfig (the stage table's defaults), and the one path that trains a stage.

Stage 1, cross-modal mutual comprehension (Section III-C), trains on image-caption pairs (the paper: LAION-400M
and COCO Caption; here any caption records). Stage 2, unified instruction tuning (Section III-D), trains on
instruction conversations (the paper: MMRS-1M) with the stage-1 weights frozen and new scale/bias adapters (Eq. 15).
``scratch`` trains every parameter of a new random-weight model (what a CPU can do). Which parameters train and
the defaults of each stage are the table in ``earthgpt.training.stages``. Both paper stages use the optimiser of
Section V-A: AdamW, betas (0.9, 0.95), peak learning rate 2e-5, minimum 0.

What the paper leaves open, chosen here (override any field): 3% linear warmup (LLaVA's choice), no weight decay,
gradient clipping at norm 1.0, bf16 autocast on GPUs, 8 samples per process per micro-batch, a checkpoint every
1000 steps, the last 3 kept.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn
from torch.utils.data import Dataset

from earthgpt.errors import ConfigError
from earthgpt.training.checkpoint import MODEL_FILE, load_model_state
from earthgpt.training.config import TrainConfig
from earthgpt.training.loop import TrainResult, train
from earthgpt.training.stages import STAGES, apply_stage, stage_spec

log = logging.getLogger(__name__)


def steps_for_epochs(
    num_samples: int, epochs: float, *, batch_size: int, grad_accum: int = 1, world_size: int = 1
) -> int:
    """Optimizer steps that cover ``epochs`` passes over ``num_samples`` with the given global batch."""
    global_batch = batch_size * grad_accum * world_size
    return max(1, math.ceil(epochs * num_samples / global_batch))


def recipe(stage: int | str, out_dir: str, *, warmup_fraction: float | None = None, **overrides: Any) -> TrainConfig:
    """The TrainConfig of ``stage``: the stage row's defaults, then ``overrides`` (any TrainConfig field).

    Warmup: an explicit ``warmup_steps`` wins; else ``warmup_fraction`` (default: the row's) of ``max_steps``;
    a default warmup never reaches ``max_steps``. ``extra`` records the stage and the data it is meant for.
    """
    spec = stage_spec(stage)
    values: dict[str, Any] = {"out_dir": out_dir, **spec.defaults, **overrides}
    values.setdefault("max_steps", 1000)
    if "warmup_steps" not in overrides:
        fraction = warmup_fraction if warmup_fraction is not None else spec.warmup_fraction
        if fraction is not None:
            values["warmup_steps"] = round(fraction * values["max_steps"])
        values["warmup_steps"] = max(0, min(int(values.get("warmup_steps", 0)), values["max_steps"] - 1))
    values["extra"] = {"stage": str(stage), "data": spec.data} | dict(overrides.get("extra", {}))
    return TrainConfig(**values)


def stage_of(config: TrainConfig) -> str:
    """The stage a recipe config was made for (a key of the stage table)."""
    stage = config.extra.get("stage")
    if str(stage) not in STAGES:
        raise ConfigError(
            f"TrainConfig.extra['stage'] is {stage!r}: build the config with recipe(stage, ...), "
            f"or set extra={{'stage': one of {list(STAGES)}}}"
        )
    return str(stage)


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
    if init_from is not None:
        loaded = init_from_checkpoint(model, init_from)
        log.info("initialised %d tensors from %s", len(loaded), init_from)
    stage = stage_of(config)
    apply_stage(model, stage, seed=config.seed)  # type: ignore[arg-type]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.info("stage %s: %d trainable parameters; data: %s", stage, trainable, config.extra.get("data"))
    return train(model, dataset, collate_fn, config)
