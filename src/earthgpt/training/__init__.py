"""Training: what each stage trains, the loop, checkpoints, distributed launch."""

from earthgpt.training.config import ConfigError, TrainConfig
from earthgpt.training.loop import Trainer, TrainResult, build_optimizer, train
from earthgpt.training.recipes import recipe, run_stage

__all__ = [
    "ConfigError",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "build_optimizer",
    "recipe",
    "run_stage",
    "train",
]
