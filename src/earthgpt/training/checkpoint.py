"""Checkpoints: model tensors (safetensors), optimizer, schedule, RNG states, data position and config; no pickle.

Layout of ``<out_dir>/checkpoints/step-00000010/``::

    model.safetensors     trainable parameters + persistent buffers (every parameter if save_full_model)
    optimizer.pt          torch.save of the optimizer state keyed by parameter name (read with weights_only=True)
    rng/rank-<r>.pt       python, numpy, torch (and CUDA) RNG states of each rank (weights_only=True)
    trainer_state.json    step, data position, schedule, world size, optimizer parameter names, base weights
    config.yaml           the fully resolved TrainConfig

A checkpoint directory appears under its final name only once complete (written as ``*.partial``, then renamed).
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from earthgpt.errors import CheckpointMismatchError, CheckpointReadError
from earthgpt.models.state_dict import check_state_dict
from earthgpt.training.config import TrainConfig

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.pt"
STATE_FILE = "trainer_state.json"
CONFIG_FILE = "config.yaml"
RNG_DIR = "rng"


def checkpoint_name(step: int) -> str:
    """Directory name of the checkpoint taken after ``step`` optimizer steps."""
    return f"step-{step:08d}"


def list_checkpoints(out_dir: str | Path) -> list[Path]:
    """Complete checkpoints of a run, oldest first."""
    root = Path(out_dir) / CHECKPOINTS
    if not root.is_dir():
        return []
    found = [p for p in root.glob("step-*") if p.is_dir() and not p.name.endswith(".partial")]
    found = [p for p in found if (p / STATE_FILE).is_file()]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    """The newest complete checkpoint of a run, or None."""
    found = list_checkpoints(out_dir)
    return found[-1] if found else None


def checkpoint_problem(directory: Path) -> str | None:
    """Why a checkpoint directory cannot be resumed from (truncated or missing files), or None if it looks whole.

    Cheap: JSON/YAML parsed, the safetensors header checked against the file size, the optimizer zip's directory
    read; no tensor is loaded.
    """
    try:
        read_trainer_state(directory)
        TrainConfig.load(directory / CONFIG_FILE)
        with safe_open(str(directory / MODEL_FILE), framework="pt") as handle:
            handle.keys()
        with zipfile.ZipFile(directory / OPTIMIZER_FILE) as archive:
            archive.namelist()
    except (OSError, ValueError, TypeError, SafetensorError, zipfile.BadZipFile, yaml.YAMLError) as err:
        return f"{type(err).__name__}: {err}"
    return None


def prune_checkpoints(out_dir: str | Path, keep_last: int) -> list[Path]:
    """Delete all but the newest ``keep_last`` checkpoints; returns the deleted paths."""
    doomed = list_checkpoints(out_dir)[:-keep_last]
    for path in doomed:
        shutil.rmtree(path)
        log.info("deleted old checkpoint %s", path)
    return doomed


def model_state_keys(model: nn.Module, *, full: bool) -> list[str]:
    """State-dict keys a checkpoint holds: trainable parameters (all if ``full``) and persistent buffers.

    Tied parameters appear once (under their first name), so safetensors never sees shared storage.
    """
    params = dict(model.named_parameters())  # de-duplicated: a tied weight appears under its first name
    all_param_names = {name for name, _ in model.named_parameters(remove_duplicate=False)}
    keys = [name for name, p in params.items() if full or p.requires_grad]
    buffers = [k for k in model.state_dict() if k not in all_param_names]
    return keys + buffers


def save_model_state(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    """Write tensors to a safetensors file (contiguous CPU copies)."""
    clean = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    save_file(clean, str(path), metadata=metadata)


def read_model_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Every tensor of a safetensors file, on CPU."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            return {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except (SafetensorError, OSError) as err:
        raise CheckpointReadError(
            f"{path}: not a readable safetensors file ({err}); it is truncated or corrupt"
        ) from err


def load_model_state(model: nn.Module, path: str | Path, *, require_trainable: bool = True) -> list[str]:
    """Copy a ``model.safetensors`` into ``model``; returns the loaded keys.

    Raises CheckpointMismatchError naming the first key (in the model's order) that is unexpected, of another
    shape, or (with ``require_trainable``, as when resuming) a trainable parameter of the model the file lacks.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: pass a checkpoint directory holding {MODEL_FILE}")
    target = model.state_dict()
    saved = read_model_tensors(path)
    required = model_state_keys(model, full=False) if require_trainable else []
    check_state_dict(model, saved, path, required, required_what="trainable model")
    with torch.no_grad():
        for key, value in saved.items():
            target[key].copy_(value)
    return list(saved)


def capture_rng_state() -> dict[str, Any]:
    """Python, numpy and torch RNG states as tensors, numbers and tuples (safe for weights_only loading)."""
    version, mt_state, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)  # type: ignore[misc]
    keys_i64 = np.asarray(keys, dtype=np.int64)  # [624] Mersenne Twister words
    state: dict[str, Any] = {
        "python": (version, torch.tensor(mt_state, dtype=torch.int64), gauss),
        "numpy": (kind, torch.from_numpy(keys_i64), int(pos), int(has_gauss), float(cached)),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    version, mt_state, gauss = state["python"]
    random.setstate((version, tuple(int(x) for x in mt_state.tolist()), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class TrainerState:
    """The small, JSON part of a checkpoint."""

    step: int
    position: dict[str, int]
    schedule: dict[str, float | int]
    world_size: int
    optimizer_params: list[list[str]]
    model_file: str  # "trainable" or "full"
    base_weights: str | None
    num_samples: int  # dataset length, so that a resume on another dataset is caught
    engine: dict[str, str] = field(default_factory=dict)  # resolved precision, engine and library versions

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return dict(self.__dict__)


def read_trainer_state(directory: Path) -> TrainerState:
    """The trainer_state.json of a checkpoint directory."""
    data = json.loads((directory / STATE_FILE).read_text())
    return TrainerState(**data)


def check_optimizer_params(saved: list[list[str]], current: list[list[str]], directory: Path) -> None:
    """Raise CheckpointMismatchError at the first parameter whose optimizer slot differs."""
    if len(saved) != len(current):
        raise CheckpointMismatchError(
            f"{directory}: optimizer has {len(current)} parameter groups, checkpoint has {len(saved)}"
        )
    for group, (old, new) in enumerate(zip(saved, current, strict=True)):
        for slot, (a, b) in enumerate(zip(old, new, strict=False)):
            if a != b:
                raise CheckpointMismatchError(
                    f"{directory}: optimizer group {group} slot {slot} holds {a!r} in the checkpoint but {b!r} "
                    "now: the trainable parameters differ; apply the same stage before resuming"
                )
        if len(old) != len(new):
            extra = (old if len(old) > len(new) else new)[min(len(old), len(new))]
            raise CheckpointMismatchError(
                f"{directory}: optimizer group {group} has {len(old)} parameters in the checkpoint but {len(new)} "
                f"now (first unmatched: {extra!r}): apply the same stage before resuming"
            )


def write_checkpoint(
    out_dir: str | Path,
    *,
    state: TrainerState,
    config: TrainConfig,
    model_tensors: dict[str, torch.Tensor] | None,
    optimizer_state: dict[str, Any] | None,
    rank: int,
    is_main: bool,
    barrier: Callable[[], None],
) -> Path:
    """Write one checkpoint collectively: the main process writes the shared files, every rank its RNG state.

    ``model_tensors`` and ``optimizer_state`` are only needed on the main process.
    """
    final = Path(out_dir) / CHECKPOINTS / checkpoint_name(state.step)
    partial = final.with_name(final.name + ".partial")
    if is_main:
        shutil.rmtree(partial, ignore_errors=True)
        (partial / RNG_DIR).mkdir(parents=True)
    barrier()
    torch.save(capture_rng_state(), partial / RNG_DIR / f"rank-{rank}.pt")
    if is_main:
        if model_tensors is None or optimizer_state is None:
            raise ValueError("the main process must pass model_tensors and optimizer_state")
        meta = {"step": str(state.step), "contents": state.model_file, "base_weights": str(state.base_weights)}
        save_model_state(model_tensors, partial / MODEL_FILE, meta)
        torch.save(optimizer_state, partial / OPTIMIZER_FILE)
        config.save(partial / CONFIG_FILE)
        (partial / STATE_FILE).write_text(json.dumps(state.to_dict(), indent=2) + "\n")
    barrier()
    if is_main:
        if final.exists():
            shutil.rmtree(final)
        partial.rename(final)
        prune_checkpoints(out_dir, config.keep_last)
        log.info("saved checkpoint %s", final)
    barrier()
    return final


def read_optimizer_state(directory: Path) -> dict[str, Any]:
    """The saved optimizer state, loaded without unpickling arbitrary objects."""
    loaded: dict[str, Any] = torch.load(directory / OPTIMIZER_FILE, map_location="cpu", weights_only=True)
    return loaded


def read_rng_state(directory: Path, rank: int) -> dict[str, Any]:
    """One rank's saved RNG states."""
    path = directory / RNG_DIR / f"rank-{rank}.pt"
    if not path.is_file():
        raise CheckpointMismatchError(f"{path} is missing: resume with the world size the checkpoint was saved with")
    loaded: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    return loaded


def optimizer_state_by_name(state: dict[str, Any], names: list[list[str]]) -> dict[str, Any]:
    """A torch optimizer state dict keyed by parameter name instead of slot number (the on-disk format).

    Named states load under any engine (single process, DDP, FSDP, DeepSpeed) and say which tensor is whose.
    """
    flat = [name for group in names for name in group]
    groups = [dict(g, params=[flat[i] for i in g["params"]]) for g in state["param_groups"]]
    return {"state": {flat[i]: v for i, v in state["state"].items()}, "param_groups": groups}


def optimizer_state_by_slot(state: dict[str, Any], names: list[list[str]]) -> dict[str, Any]:
    """Inverse of :func:`optimizer_state_by_name` for the optimizer whose groups hold ``names``."""
    slot = {name: i for i, name in enumerate(n for group in names for n in group)}
    groups = [dict(g, params=[slot[n] for n in g["params"]]) for g in state["param_groups"]]
    return {"state": {slot[n]: v for n, v in state["state"].items()}, "param_groups": groups}
