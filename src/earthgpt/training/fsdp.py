"""FSDP2 (torch ``fully_shard``) where accelerate offers none: CPU processes over gloo, launched by torchrun.

accelerate runs FSDP only on accelerators; on CPU it would fall back to DDP. Here the model is sharded with
``fully_shard`` (one unit per LLaMA decoder layer, as configs/accelerate/fsdp.yaml asks on GPUs, then the root),
the optimizer is re-pointed at the sharded parameters, and checkpoints gather full state dicts through
``torch.distributed.checkpoint.state_dict``, so they load under any engine.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from accelerate import Accelerator
from torch import nn
from transformers.models.llama.modeling_llama import LlamaDecoderLayer

log = logging.getLogger(__name__)

CPU_FSDP_FLAG = "earthgpt_cpu_fsdp"
"""Attribute set on an Accelerator whose model this module shards."""


def mark_cpu_fsdp(accelerator: Accelerator) -> None:
    """Record that ``accelerator`` trains with CPU FSDP2 (only meaningful with 2+ processes)."""
    setattr(accelerator, CPU_FSDP_FLAG, accelerator.num_processes > 1)


def is_cpu_fsdp(accelerator: Accelerator) -> bool:
    """True when this module, not accelerate, shards the model."""
    return bool(getattr(accelerator, CPU_FSDP_FLAG, False))


def shard_model(model: nn.Module) -> int:
    """``fully_shard`` every LLaMA decoder layer, then the whole model (in place); returns the number of units."""
    from torch.distributed.fsdp import fully_shard

    layers = [m for m in model.modules() if isinstance(m, LlamaDecoderLayer)]
    for layer in layers:
        fully_shard(layer)
    fully_shard(model)
    return len(layers) + 1


def prepare_cpu_fsdp(
    accelerator: Accelerator, model: nn.Module, optimizer: torch.optim.Optimizer, names: list[list[str]]
) -> tuple[nn.Module, Any]:
    """Shard ``model`` and point each optimizer group (parameter names ``names``, in slot order) at the shards.

    The optimizer must hold no state yet (it is built, not stepped, before preparation).
    """
    if any(optimizer.state.values()):
        raise RuntimeError("prepare the optimizer before its first step: its state would refer to unsharded tensors")
    units = shard_model(model)
    params = dict(model.named_parameters())
    for group, group_names in zip(optimizer.param_groups, names, strict=True):
        group["params"] = [params[name] for name in group_names]
    log.info("FSDP2 on CPU: %d shard units over %d processes", units, accelerator.num_processes)
    return model, accelerator.prepare_optimizer(optimizer)


def full_model_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The full (unsharded) state dict on CPU, on rank 0 only (empty elsewhere); collective."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    state = get_model_state_dict(model, options=options)
    return {key: value for key, value in state.items() if isinstance(value, torch.Tensor)}


def as_float(value: torch.Tensor | float) -> float:
    """A scalar as a Python float; a sharded (DTensor) norm is gathered first (collective)."""
    full = getattr(value, "full_tensor", None)
    return float(full() if full is not None else value)
