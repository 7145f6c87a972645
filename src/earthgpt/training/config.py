"""TrainConfig: every knob of a training run, one docstring per field, validated and saved beside checkpoints."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import yaml

from earthgpt.errors import ConfigError

__all__ = ["DATA_ORDER_FIELDS", "MIXED_PRECISION_CHOICES", "ConfigError", "MixedPrecision", "TrainConfig"]

MixedPrecision = Literal["auto", "no", "bf16"]
MIXED_PRECISION_CHOICES: tuple[str, ...] = ("auto", "no", "bf16")

# Fields that fix which sample each rank sees at each step: a resumed run must keep them.
DATA_ORDER_FIELDS: tuple[str, ...] = (
    "seed",
    "batch_size",
    "grad_accum",
    "shuffle",
    "length_window",
    "task_weights",
    "augment",
    "augment_prob",
)


@dataclass
class TrainConfig:
    """A training run, sized in optimizer steps.

    The global batch of one optimizer step is ``batch_size * grad_accum * world_size`` samples. The learning rate
    rises linearly over ``warmup_steps`` to ``lr`` and then follows a cosine to ``min_lr`` at ``max_steps``.
    """

    out_dir: str
    """Run directory: ``checkpoints/step-XXXXXXXX/`` and ``log.jsonl`` are written here."""

    max_steps: int = 1000
    """Number of optimizer steps of the whole run; the cosine schedule reaches ``min_lr`` here."""

    batch_size: int = 1
    """Samples per micro-batch per process."""

    grad_accum: int = 1
    """Micro-batches accumulated into one optimizer step."""

    lr: float = 2e-5
    """Peak learning rate, reached at the end of warmup (paper Section V-A: 2e-5)."""

    min_lr: float = 0.0
    """Learning rate at the last step (paper Section V-A: 0)."""

    warmup_steps: int = 0
    """Optimizer steps of linear warmup from ``lr / warmup_steps`` to ``lr``."""

    weight_decay: float = 0.0
    """AdamW decoupled weight decay, applied to matrices only (parameters with 2+ dims; never biases, norms, scales)."""

    betas: tuple[float, float] = (0.9, 0.95)
    """AdamW (beta1, beta2) (paper Section V-A: (0.9, 0.95))."""

    eps: float = 1e-8
    """AdamW epsilon."""

    max_grad_norm: float | None = 1.0
    """Clip the global gradient L2 norm to this value before each step; None disables clipping."""

    seed: int = 0
    """Seeds python, numpy and torch (plus the rank) and the data order; same seed, same losses."""

    shuffle: bool = True
    """Shuffle the dataset each epoch (seeded by ``seed`` and the epoch); False keeps dataset order."""

    length_window: int = 0
    """Group micro-batches by length to cut padding: each window of this many shuffled micro-batches is sorted by
    token count, cut into micro-batches and their order shuffled (training/sampler.py). Used when the dataset
    knows its lengths (``lengths()``) and ``shuffle`` is on; 0 or 1 keeps the plain shuffled order."""
    task_weights: dict[str, float] = field(default_factory=dict)
    """Per-task sampling weights over a mixed corpus (``Conversation.task`` -> weight): each epoch draws as many
    samples as the dataset holds, with replacement, task t taking a share w_t / sum(w) whatever its size. Empty:
    every sample once per epoch (a shuffle). Tasks of the data absent from the mapping are refused."""

    augment: list[str] = field(default_factory=list)
    """Training-time flips and turns, each applied with probability ``augment_prob``: any of "hflip", "vflip",
    "rot90" (clockwise by 90, 180 or 270 degrees), in that order. The image, the boxes of the text, the prompts and
    the masks move together; only conversations whose meaning survives are moved (data/augment.py,
    docs/augmentation.md). The draw is a function of (seed, epoch, sample index). Empty: off."""

    augment_prob: float = 0.5
    """Probability with which each op of ``augment`` is applied to an eligible sample."""

    save_every: int = 0
    """Write a checkpoint every this many optimizer steps; 0 writes only the final one."""

    keep_last: int = 2
    """Checkpoints kept on disk; older ones are deleted after each save."""

    log_every: int = 1
    """Append a record to ``log.jsonl`` (and the progress bar) every this many optimizer steps."""

    resume: bool = False
    """Continue from the newest whole checkpoint in ``out_dir`` (a damaged newer one is skipped with a warning;
    with none, the run starts at step 0 with a warning)."""

    stop_at_step: int | None = None
    """End this invocation after this step (a checkpoint is written) though the schedule spans ``max_steps``;
    resume later with ``resume=True``. None runs to ``max_steps``."""

    mixed_precision: MixedPrecision = "auto"
    """"bf16" autocast, "no" for fp32, or "auto": bf16 on a GPU that supports it, fp32 on CPU."""

    num_workers: int = 0
    """DataLoader worker processes per training process."""

    frozen_modules_eval: bool = True
    """Run submodules without trainable parameters (e.g. the frozen vision encoders) in eval mode."""

    progress_bar: bool = True
    """Show a tqdm progress bar on the main process."""

    save_full_model: bool = False
    """Save every parameter in ``model.safetensors``; by default only trainable ones (plus buffers) are saved and
    the frozen weights are those the caller built the model from (recorded as ``base_weights``)."""

    base_weights: str | None = None
    """Where the frozen weights come from (a path or name), recorded in each checkpoint; the loop never loads it."""

    extra: dict[str, Any] = field(default_factory=dict)
    """Free-form, JSON-serialisable notes saved with the config (e.g. the stage and dataset of a recipe)."""

    def __post_init__(self) -> None:
        self.out_dir = str(self.out_dir)
        self.betas = (float(self.betas[0]), float(self.betas[1]))
        self._validate()

    def _validate(self) -> None:
        """Raise ConfigError naming the first invalid field and the fix."""
        positive = {"max_steps": self.max_steps, "batch_size": self.batch_size, "grad_accum": self.grad_accum}
        positive |= {"keep_last": self.keep_last, "log_every": self.log_every}
        for name, value in positive.items():
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"TrainConfig.{name} must be an integer >= 1, got {value!r}")
        nonnegative = {"warmup_steps": self.warmup_steps, "save_every": self.save_every}
        for name, value in (nonnegative | {"length_window": self.length_window}).items():
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"TrainConfig.{name} must be an integer >= 0, got {value!r}")
        from earthgpt.data.augment import AUGMENT_OPS  # numpy-only module; kept local to keep this import light

        self.augment = list(self.augment)
        unknown = [op for op in self.augment if op not in AUGMENT_OPS]
        if unknown or len(set(self.augment)) != len(self.augment):
            raise ConfigError(
                f"TrainConfig.augment must list distinct ops of {list(AUGMENT_OPS)}, got {self.augment!r}"
            )
        if not (isinstance(self.augment_prob, (int, float)) and 0.0 <= self.augment_prob <= 1.0):
            raise ConfigError(f"TrainConfig.augment_prob must lie in [0, 1], got {self.augment_prob!r}")
        if self.num_workers < 0:
            raise ConfigError(f"TrainConfig.num_workers must be >= 0, got {self.num_workers}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"TrainConfig.lr must be a finite number > 0, got {self.lr!r}")
        if not (0 <= self.min_lr <= self.lr):
            raise ConfigError(f"TrainConfig.min_lr must lie in [0, lr={self.lr}], got {self.min_lr!r}")
        if self.warmup_steps > self.max_steps:
            raise ConfigError(
                f"TrainConfig.warmup_steps={self.warmup_steps} exceeds max_steps={self.max_steps}: lower it"
            )
        if self.weight_decay < 0:
            raise ConfigError(f"TrainConfig.weight_decay must be >= 0, got {self.weight_decay!r}")
        if not all(0 <= b < 1 for b in self.betas):
            raise ConfigError(f"TrainConfig.betas must both lie in [0, 1), got {self.betas!r}")
        if self.eps <= 0:
            raise ConfigError(f"TrainConfig.eps must be > 0, got {self.eps!r}")
        if self.max_grad_norm is not None and self.max_grad_norm <= 0:
            raise ConfigError(f"TrainConfig.max_grad_norm must be > 0 or None, got {self.max_grad_norm!r}")
        if self.stop_at_step is not None and not (1 <= self.stop_at_step <= self.max_steps):
            raise ConfigError(
                f"TrainConfig.stop_at_step must lie in [1, max_steps={self.max_steps}], got {self.stop_at_step!r}"
            )
        if self.mixed_precision not in MIXED_PRECISION_CHOICES:
            raise ConfigError(
                f"TrainConfig.mixed_precision must be one of {MIXED_PRECISION_CHOICES}, got {self.mixed_precision!r}"
            )
        try:
            json.dumps(self.extra)
        except TypeError as exc:
            raise ConfigError(f"TrainConfig.extra must be JSON-serialisable: {exc}") from exc

    @property
    def end_step(self) -> int:
        """The step after which this invocation stops: ``stop_at_step`` or ``max_steps``."""
        return self.stop_at_step if self.stop_at_step is not None else self.max_steps

    def to_dict(self) -> dict[str, Any]:
        """Plain, fully resolved values (tuples become lists), ready for YAML or JSON."""
        out = dataclasses.asdict(self)
        out["betas"] = list(self.betas)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<dict>") -> TrainConfig:
        """Build from plain values; unknown keys raise ConfigError naming ``source``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown TrainConfig field(s) {unknown}; known fields: {sorted(known)}")
        values = dict(data)
        if "betas" in values:
            values["betas"] = tuple(values["betas"])
        return cls(**values)

    def save(self, path: str | Path) -> None:
        """Write the resolved config as YAML (``.yaml``/``.yml``) or JSON (any other suffix)."""
        path = Path(path)
        data = self.to_dict()
        if path.suffix in (".yaml", ".yml"):
            path.write_text(yaml.safe_dump(data, sort_keys=False))
        else:
            path.write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        """Read a config written by :meth:`save` (YAML or JSON)."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist: pass the path of a saved TrainConfig")
        text = path.read_text()
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping of TrainConfig fields, got {type(data).__name__}")
        return cls.from_dict(data, source=str(path))

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)
