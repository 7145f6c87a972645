"""The training loop: AdamW on trainable parameters, warmup + cosine, accumulation, clipping, exact resume."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from torch import nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from earthgpt.errors import CheckpointReadError
from earthgpt.models.inputs import forward_kwargs
from earthgpt.training import checkpoint as ckpt
from earthgpt.training.config import DATA_ORDER_FIELDS, ConfigError, TrainConfig
from earthgpt.training.fsdp import as_float
from earthgpt.training.runtime import (
    build_accelerator,
    engine_description,
    full_model_state,
    full_optimizer_state,
    load_full_optimizer_state,
    load_master_weights,
    prepare,
)
from earthgpt.training.sampler import BatchStream, DataPosition, task_sample_weights
from earthgpt.training.schedule import WarmupCosineSchedule

log = logging.getLogger(__name__)

LOG_FILE = "log.jsonl"

StepCallback = Callable[["Trainer", dict[str, float]], None]
"""Called on every process after each optimizer step with the trainer and the step's statistics."""


@dataclass
class TrainResult:
    """What one call of :func:`train` did."""

    losses: list[float] = field(default_factory=list)
    """Mean training loss of each optimizer step run in this call (averaged over micro-batches and ranks)."""
    steps: list[int] = field(default_factory=list)
    """The 1-based step number of each entry of ``losses``."""
    lrs: list[float] = field(default_factory=list)
    """The learning rate used at each of those steps."""
    start_step: int = 0
    """Steps already done when this call began (0 unless resumed)."""
    final_step: int = 0
    """Steps done when this call ended."""
    checkpoint_dir: Path | None = None
    """The last checkpoint written (or resumed from, if nothing ran)."""
    log_path: Path | None = None
    """The JSONL log of the run."""
    model_tensors: dict[str, torch.Tensor] | None = None
    """Every tensor of the model at the end, gathered on the main process under any engine (None on the others):
    what a model directory is written from, whatever the checkpoints keep (``save_full_model``)."""


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def build_optimizer(model: nn.Module, config: TrainConfig) -> tuple[torch.optim.AdamW, list[list[str]]]:
    """AdamW over trainable parameters: one group decays (matrices), one does not (biases, norms, scales).

    Returns the optimizer and the parameter names of each group (in slot order, for checkpoint checks).
    """
    decay: list[tuple[str, nn.Parameter]] = []
    no_decay: list[tuple[str, nn.Parameter]] = []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (decay if param.ndim >= 2 else no_decay).append((name, param))
    if not decay and not no_decay:
        raise ValueError("the model has no trainable parameters: apply a training stage (apply_stage) first")
    pairs = [(decay, config.weight_decay), (no_decay, 0.0)]
    pairs = [(members, wd) for members, wd in pairs if members]  # no empty groups (ZeRO rejects them)
    groups = [{"params": [p for _, p in members], "weight_decay": wd} for members, wd in pairs]
    optimizer = torch.optim.AdamW(groups, lr=config.lr, betas=config.betas, eps=config.eps)
    return optimizer, [[n for n, _ in members] for members, _ in pairs]


def set_train_mode(model: nn.Module, *, frozen_eval: bool) -> set[str]:
    """``model.train()``, then (if ``frozen_eval``) eval mode for every largest submodule without a trainable
    parameter, so frozen encoders run as fixed feature extractors (no dropout, no norm-statistics updates).

    Returns the names of the submodules put in eval mode.
    """
    model.train()
    if not frozen_eval:
        return set()
    frozen: set[str] = set()
    for name, module in model.named_modules():
        if name == "" or any(name.startswith(f + ".") for f in frozen):
            continue
        params = list(module.parameters())
        if params and not any(p.requires_grad for p in params):
            module.eval()
            frozen.add(name)
    return frozen


def _to_device(batch: Any, device: torch.device) -> Any:
    """Move the tensors of a (nested) dict/list batch to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


def _sample_weights(dataset: Dataset[Any], config: TrainConfig) -> torch.Tensor | None:
    """Per-sample weights from ``config.task_weights`` and the dataset's ``conversations`` (None: no weights)."""
    if not config.task_weights:
        return None
    conversations = getattr(dataset, "conversations", None)
    if conversations is None:
        raise ConfigError(
            f"task_weights need a dataset of conversations (with tasks); {type(dataset).__name__} has none"
        )
    return task_sample_weights([c.task for c in conversations], config.task_weights)


def _batch_counts(batch: dict[str, Any]) -> tuple[int, int]:
    """(tokens, samples) of a micro-batch: non-padding tokens by ``attention_mask`` (else ``input_ids``)."""
    mask = batch.get("attention_mask")
    ids = batch.get("input_ids")
    tokens = int(mask.sum()) if isinstance(mask, torch.Tensor) else (ids.numel() if ids is not None else 0)
    first = (
        ids if isinstance(ids, torch.Tensor) else next((v for v in batch.values() if isinstance(v, torch.Tensor)), None)
    )
    return tokens, (int(first.shape[0]) if first is not None else 0)  # pixel_values has sum V rows with views


def _resume_point(config: TrainConfig, world_size: int) -> Path | None:
    """The checkpoint to resume from, after checking it fits this run; refuses to overwrite a run by mistake."""
    found = ckpt.list_checkpoints(config.out_dir)
    if not found:
        if config.resume:
            log.warning(
                "resume: no checkpoint in %s; starting the run from step 0", Path(config.out_dir) / ckpt.CHECKPOINTS
            )
        return None
    if not config.resume:
        raise FileExistsError(
            f"{config.out_dir} already holds checkpoints (newest: {found[-1].name}): pass resume=True to continue "
            "the run, or choose another out_dir"
        )
    latest = _newest_readable(found)
    saved = TrainConfig.load(latest / ckpt.CONFIG_FILE)
    for name in DATA_ORDER_FIELDS:
        if getattr(saved, name) != getattr(config, name):
            raise ConfigError(
                f"{latest / ckpt.CONFIG_FILE}: {name}={getattr(saved, name)!r} but this run has "
                f"{getattr(config, name)!r}; resume with the same {name} (it fixes the data order)"
            )
    state = ckpt.read_trainer_state(latest)
    if state.world_size != world_size:
        raise ConfigError(
            f"{latest}: saved with {state.world_size} process(es) but resumed with {world_size}: "
            "launch the same number of processes"
        )
    return latest


def _newest_readable(found: list[Path]) -> Path:
    """The newest checkpoint whose files are whole; each newer, damaged one is skipped with a warning."""
    for path in reversed(found):
        problem = ckpt.checkpoint_problem(path)
        if problem is None:
            return path
        log.warning("resume: checkpoint %s is damaged (%s); falling back to the one before it", path, problem)
    raise CheckpointReadError(
        f"resume: every checkpoint under {found[-1].parent} is damaged (newest: {found[-1].name}); delete the "
        "folder to start afresh"
    )


class Trainer:
    """One training run; :func:`train` is the plain-function front door."""

    def __init__(
        self,
        model: nn.Module,
        dataset: Dataset[Any],
        collate_fn: Callable[[list[Any]], Any],
        config: TrainConfig,
        accelerator: Accelerator | None = None,
        on_step: StepCallback | None = None,
    ) -> None:
        self.config = config
        self.on_step = on_step
        self.accelerator = accelerator or build_accelerator(config)
        acc = self.accelerator
        self.rank, self.world_size = acc.process_index, acc.num_processes
        seed_everything(config.seed + self.rank)
        self.resume_dir = _resume_point(config, self.world_size)
        full = config.save_full_model
        self.model_keys = ckpt.model_state_keys(model, full=full)
        self.all_keys = ckpt.model_state_keys(model, full=True)  # of the model before any engine wraps it
        self.num_samples = len(dataset)  # type: ignore[arg-type]
        self.state = ckpt.TrainerState(0, DataPosition().to_dict(), {}, self.world_size, [], "", None, 0)
        if self.resume_dir is not None:
            ckpt.load_model_state(model, self.resume_dir / ckpt.MODEL_FILE)
            self.state = ckpt.read_trainer_state(self.resume_dir)
        optimizer, self.param_names = build_optimizer(model, config)
        self.model, self.optimizer = prepare(acc, model, optimizer, self.param_names)
        self.schedule = WarmupCosineSchedule(config.lr, config.min_lr, config.warmup_steps, config.max_steps)
        if self.resume_dir is not None:
            self._restore(self.resume_dir)
        self.stream = BatchStream(
            dataset,
            collate_fn,
            batch_size=config.batch_size,
            seed=config.seed,
            shuffle=config.shuffle,
            rank=self.rank,
            world_size=self.world_size,
            num_workers=config.num_workers,
            position=DataPosition.from_dict(self.state.position),
            sample_weights=_sample_weights(dataset, config),
        )
        self.step = self.state.step
        self.log_path = Path(config.out_dir) / LOG_FILE

    def _restore(self, directory: Path) -> None:
        """Optimizer, schedule and RNG states of a checkpoint (the model was loaded before ``prepare``)."""
        if self.state.num_samples != self.num_samples:
            raise ckpt.CheckpointMismatchError(
                f"{directory}: written for a dataset of {self.state.num_samples} samples, resumed with "
                f"{self.num_samples}: resume with the same dataset (its order and length fix the data position)"
            )
        ckpt.check_optimizer_params(self.state.optimizer_params, self.param_names, directory)
        saved = ckpt.read_optimizer_state(directory)
        load_full_optimizer_state(self.accelerator, self.model, self.optimizer, saved, self.param_names)
        load_master_weights(self.accelerator, self.model, ckpt.read_model_tensors(directory / ckpt.MODEL_FILE))
        self.schedule.load_state_dict(self.state.schedule)
        if self.schedule.step_count != self.state.step:
            raise ckpt.CheckpointMismatchError(f"{directory}: schedule step != trainer step; the file was edited")
        ckpt.restore_rng_state(ckpt.read_rng_state(directory, self.rank))
        log.info("resumed from %s at step %d, data position %s", directory, self.state.step, self.state.position)

    def _optimizer_step(self, batches: Iterator[Any]) -> dict[str, float]:
        """Run ``grad_accum`` micro-batches and one optimizer step; returns loss, lr, grad norm, tokens, samples."""
        acc, cfg = self.accelerator, self.config
        lr = self.schedule.apply(self.optimizer)
        totals = torch.zeros(3, dtype=torch.float64, device=acc.device)  # [loss sum, tokens, samples]
        grad_norm = float("nan")
        for _ in range(cfg.grad_accum):
            batch = _to_device(next(batches), acc.device)
            with acc.accumulate(self.model):
                loss = self.model(**forward_kwargs(batch)).loss
                acc.backward(loss)
                if acc.sync_gradients:
                    if cfg.max_grad_norm is not None:
                        norm = acc.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
                        grad_norm = as_float(norm) if norm is not None else grad_norm
                    self.optimizer.step()
                    self.optimizer.zero_grad(set_to_none=True)
            tokens, samples = _batch_counts(batch)
            totals += torch.tensor([float(loss.detach()), tokens, samples], dtype=torch.float64, device=acc.device)
        self.schedule.advance()
        totals = acc.reduce(totals, reduction="sum")
        mean_loss = float(totals[0]) / (cfg.grad_accum * self.world_size)
        return {"loss": mean_loss, "lr": lr, "grad_norm": grad_norm, "tokens": float(totals[1]),
                "samples": float(totals[2])}  # fmt: skip

    def save(self) -> Path:
        """Write a checkpoint of the current step (collective)."""
        acc = self.accelerator
        self.state = ckpt.TrainerState(
            step=self.step,
            position=self.stream.position.to_dict(),
            schedule=self.schedule.state_dict(),
            world_size=self.world_size,
            optimizer_params=self.param_names,
            model_file="full" if self.config.save_full_model else "trainable",
            base_weights=self.config.base_weights,
            num_samples=self.num_samples,
            engine=engine_description(acc),
        )
        return ckpt.write_checkpoint(
            self.config.out_dir,
            state=self.state,
            config=self.config,
            model_tensors=full_model_state(acc, self.model, self.model_keys),
            optimizer_state=full_optimizer_state(acc, self.model, self.optimizer, self.param_names),
            rank=self.rank,
            is_main=acc.is_main_process,
            barrier=acc.wait_for_everyone,
        )

    def _log(self, stats: dict[str, float], window: dict[str, float]) -> None:
        """Append one JSONL record (main process)."""
        seconds = max(window["seconds"], 1e-9)
        record = {
            "step": self.step,
            "loss": stats["loss"],
            "lr": stats["lr"],
            "grad_norm": stats["grad_norm"],
            "tokens_per_s": window["tokens"] / seconds,
            "samples_per_s": window["samples"] / seconds,
            "epoch": self.stream.position.epoch,
        }
        with self.log_path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")

    def _trim_log(self) -> None:
        """Drop log records past the resumed step (written after the last checkpoint of an interrupted run)."""
        if not self.log_path.is_file():
            return
        lines = self.log_path.read_text().splitlines()
        kept = [line for line in lines if line.strip() and json.loads(line)["step"] <= self.step]
        if len(kept) != len(lines):
            self.log_path.write_text("".join(line + "\n" for line in kept))
            log.info("dropped %d log records past step %d from %s", len(lines) - len(kept), self.step, self.log_path)

    def run(self) -> TrainResult:
        """Train from the current step to ``config.end_step``, logging and checkpointing on the way."""
        cfg, acc = self.config, self.accelerator
        result = TrainResult(start_step=self.step, checkpoint_dir=self.resume_dir, log_path=self.log_path)
        if acc.is_main_process:
            Path(cfg.out_dir).mkdir(parents=True, exist_ok=True)
            self._trim_log()
        set_train_mode(self.model, frozen_eval=cfg.frozen_modules_eval)
        batches = iter(self.stream)
        show = cfg.progress_bar and acc.is_main_process
        bar = tqdm(total=cfg.end_step, initial=self.step, disable=not show, desc="train", dynamic_ncols=True)
        window = {"seconds": 0.0, "tokens": 0.0, "samples": 0.0}
        while self.step < cfg.end_step:
            began = time.perf_counter()
            stats = self._optimizer_step(batches)
            self.step += 1
            window["seconds"] += time.perf_counter() - began
            window["tokens"] += stats["tokens"]
            window["samples"] += stats["samples"]
            result.losses.append(stats["loss"])
            result.steps.append(self.step)
            result.lrs.append(stats["lr"])
            bar.update(1)
            if self.on_step is not None:
                self.on_step(self, stats)
            if self.step % cfg.log_every == 0 or self.step == cfg.end_step:
                bar.set_postfix(loss=f"{stats['loss']:.4f}", lr=f"{stats['lr']:.2e}")
                if acc.is_main_process:
                    self._log(stats, window)
                window = {"seconds": 0.0, "tokens": 0.0, "samples": 0.0}
            if (cfg.save_every and self.step % cfg.save_every == 0) or self.step == cfg.end_step:
                result.checkpoint_dir = self.save()
        bar.close()
        batches.close()  # stops DataLoader workers
        result.model_tensors = full_model_state(acc, self.model, self.all_keys)
        acc.unwrap_model(self.model, keep_fp32_wrapper=False)  # give the caller its model without autocast
        result.final_step = self.step
        if self.step >= cfg.end_step and result.start_step == self.step:
            log.warning("nothing to do: the run is already at step %d (end_step %d)", self.step, cfg.end_step)
        return result


def train(
    model: nn.Module,
    dataset: Dataset[Any],
    collate_fn: Callable[[list[Any]], Any],
    config: TrainConfig,
    *,
    accelerator: Accelerator | None = None,
    on_step: StepCallback | None = None,
) -> TrainResult:
    """Train ``model`` (whose ``forward(**batch)`` returns an object with ``.loss``) on a map-style dataset.

    Only parameters with ``requires_grad`` are optimised: apply the training stage before calling. With
    ``config.resume`` the newest checkpoint in ``config.out_dir`` is loaded and training continues at the exact
    next sample; the model passed in must be built the same way as the one that wrote the checkpoint.
    ``on_step(trainer, stats)`` runs on every process after each optimizer step.
    """
    return Trainer(model, dataset, collate_fn, config, accelerator, on_step).run()
