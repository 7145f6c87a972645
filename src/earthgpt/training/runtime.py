"""The execution engine under the loop: an `accelerate` Accelerator (single process, DDP, FSDP or DeepSpeed)."""

from __future__ import annotations

import logging
import os
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from accelerate.utils import DistributedType, InitProcessGroupKwargs
from torch import nn

from earthgpt.training.checkpoint import optimizer_state_by_name, optimizer_state_by_slot
from earthgpt.training.config import TrainConfig
from earthgpt.training.fsdp import full_model_state_dict, is_cpu_fsdp, mark_cpu_fsdp, prepare_cpu_fsdp

log = logging.getLogger(__name__)


class EngineUnavailableError(RuntimeError):
    """The requested distributed engine cannot run here (FSDP1 without a GPU, DeepSpeed not installed)."""


def resolve_mixed_precision(choice: str) -> str:
    """Resolve ``auto`` to ``bf16`` on a GPU with bf16 support and to ``no`` elsewhere; others pass through."""
    if choice != "auto":
        return choice
    return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"


def build_accelerator(config: TrainConfig) -> Accelerator:
    """An Accelerator for ``config``; the launch (``accelerate launch``/``torchrun``) chooses DDP/FSDP/DeepSpeed.

    The config's ``mixed_precision`` wins over the launcher's. In a single process, a state left by an earlier
    run with another precision is cleared so that several runs can share one interpreter (tests, notebooks).
    FSDP2 without a GPU runs on CPU processes through :mod:`earthgpt.training.fsdp` (accelerate has no CPU FSDP).
    """
    precision = resolve_mixed_precision(config.mixed_precision)
    if int(os.environ.get("WORLD_SIZE", "1")) == 1 and AcceleratorState._shared_state:
        AcceleratorState._reset_state(reset_partial_state=True)
    deepspeed = _env_flag("ACCELERATE_USE_DEEPSPEED")
    if deepspeed:
        check_deepspeed()
    cpu_fsdp = _env_flag("ACCELERATE_USE_FSDP") and not torch.cuda.is_available()
    if cpu_fsdp and os.environ.get("FSDP_VERSION", "1") != "2":
        raise EngineUnavailableError(
            "the launch config asks for FSDP1 but no GPU is present: FSDP1 runs only on GPUs; set fsdp_version: 2 "
            "(configs/accelerate/fsdp.yaml, or FSDP_VERSION=2 under torchrun) or launch with ddp.yaml on CPU"
        )
    accelerator = Accelerator(
        # cpu=True lets accelerate see a CPU-only torchrun launch; DeepSpeed brings its own CPU backend instead.
        cpu=not torch.cuda.is_available() and not deepspeed,
        mixed_precision=precision,
        gradient_accumulation_steps=config.grad_accum,
        step_scheduler_with_optimizer=False,
        # DeepSpeed on CPU: name the gloo backend, or accelerate treats the launch as a single process.
        kwargs_handlers=[InitProcessGroupKwargs(backend="gloo")] if deepspeed and not torch.cuda.is_available() else [],
    )
    if accelerator.distributed_type == DistributedType.DEEPSPEED:
        _fill_deepspeed_config(accelerator, config)
    if cpu_fsdp:
        mark_cpu_fsdp(accelerator)
    return accelerator


def prepare(
    accelerator: Accelerator, model: nn.Module, optimizer: torch.optim.Optimizer, names: list[list[str]]
) -> tuple[nn.Module, Any]:
    """Wrap model and optimizer for the engine (``names``: parameter names of each optimizer group, slot order)."""
    if is_cpu_fsdp(accelerator):
        return prepare_cpu_fsdp(accelerator, model, optimizer, names)
    return accelerator.prepare(model, optimizer)  # type: ignore[no-any-return]


def uses_fsdp(accelerator: Accelerator) -> bool:
    """FSDP through accelerate (GPUs) or through :mod:`earthgpt.training.fsdp` (CPU)."""
    return accelerator.distributed_type == DistributedType.FSDP or is_cpu_fsdp(accelerator)


def engine_description(accelerator: Accelerator) -> dict[str, str]:
    """What actually ran: engine, resolved precision, process count and library versions (saved in checkpoints)."""
    import accelerate

    return {
        "distributed_type": "FSDP" if uses_fsdp(accelerator) else accelerator.distributed_type.name,
        "mixed_precision": str(accelerator.mixed_precision),
        "num_processes": str(accelerator.num_processes),
        "device": str(accelerator.device),
        "torch": torch.__version__,
        "accelerate": accelerate.__version__,
    }


def _fill_deepspeed_config(accelerator: Accelerator, config: TrainConfig) -> None:
    """Give DeepSpeed the batch sizes and clipping of ``config`` (the loop builds its own DataLoader)."""
    plugin = accelerator.state.deepspeed_plugin
    ds = plugin.deepspeed_config
    ds["train_micro_batch_size_per_gpu"] = config.batch_size
    ds["gradient_accumulation_steps"] = config.grad_accum
    ds["train_batch_size"] = config.batch_size * config.grad_accum * accelerator.num_processes
    ds["gradient_clipping"] = config.max_grad_norm if config.max_grad_norm is not None else 0.0


def _env_flag(name: str) -> bool:
    """A true/false flag set by ``accelerate launch``."""
    return os.environ.get(name, "false").lower() == "true"


def check_deepspeed() -> None:
    """Raise EngineUnavailableError if DeepSpeed is not installed."""
    try:
        import deepspeed  # noqa: F401
    except ImportError as exc:
        raise EngineUnavailableError(
            "the launch config asks for DeepSpeed but it is not installed: `pip install deepspeed`, or launch "
            "with configs/accelerate/ddp.yaml or fsdp.yaml"
        ) from exc


def is_sharded(accelerator: Accelerator) -> bool:
    """True when parameters or optimizer state are split across ranks (FSDP or DeepSpeed)."""
    return uses_fsdp(accelerator) or accelerator.distributed_type == DistributedType.DEEPSPEED


def full_model_state(accelerator: Accelerator, model: nn.Module, keys: list[str]) -> dict[str, torch.Tensor] | None:
    """The named full (unsharded) tensors on the main process, None elsewhere; collective under FSDP/DeepSpeed."""
    if is_cpu_fsdp(accelerator):
        state = full_model_state_dict(model)
    elif is_sharded(accelerator):
        state = accelerator.get_state_dict(model)
    else:
        state = accelerator.unwrap_model(model).state_dict()
    if accelerator.distributed_type == DistributedType.DEEPSPEED:
        state = dict(state or {}) | _deepspeed_master_weights(accelerator, model)  # ZeRO-3: None off rank 0
    if not accelerator.is_main_process:
        return None
    return {key: state[key] for key in keys}


def _deepspeed_master_weights(accelerator: Accelerator, model: nn.Module) -> dict[str, torch.Tensor]:
    """The fp32 master copies of the trainable parameters (collective), not their bf16 working copies."""
    from deepspeed.utils import safe_get_full_fp32_param

    named = accelerator.unwrap_model(model).named_parameters()
    return {name: safe_get_full_fp32_param(p).cpu() for name, p in named if p.requires_grad}


def load_master_weights(accelerator: Accelerator, model: nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Under DeepSpeed, write saved fp32 values into the master copies (the module may hold bf16 copies)."""
    if accelerator.distributed_type != DistributedType.DEEPSPEED:
        return
    from deepspeed.utils import safe_set_full_fp32_param

    for name, param in accelerator.unwrap_model(model).named_parameters():
        if param.requires_grad and name in tensors:
            safe_set_full_fp32_param(param, tensors[name].to(torch.float32))


def full_optimizer_state(
    accelerator: Accelerator, model: nn.Module, optimizer: torch.optim.Optimizer, names: list[list[str]]
) -> dict[str, Any] | None:
    """The whole optimizer state keyed by parameter name on the main process (None elsewhere).

    Collective under FSDP; ``names`` are the parameter names of each optimizer group in slot order.
    """
    if uses_fsdp(accelerator):
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

        options = StateDictOptions(full_state_dict=True, cpu_offload=True)
        state = get_optimizer_state_dict(model, _inner(optimizer), options=options)
    elif accelerator.distributed_type == DistributedType.DEEPSPEED:
        state = _deepspeed_optimizer_state(accelerator, model, optimizer, names)
    else:
        state = optimizer_state_by_name(_inner(optimizer).state_dict(), names)
    return state if accelerator.is_main_process else None


def load_full_optimizer_state(
    accelerator: Accelerator,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    state: dict[str, Any],
    names: list[list[str]],
) -> None:
    """Inverse of :func:`full_optimizer_state` (every rank passes the full, named state)."""
    if uses_fsdp(accelerator):
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

        options = StateDictOptions(full_state_dict=True)
        set_optimizer_state_dict(model, _inner(optimizer), state, options=options)
    elif accelerator.distributed_type == DistributedType.DEEPSPEED:
        _load_deepspeed_optimizer_state(accelerator, model, optimizer, state, names)
    else:
        optimizer.load_state_dict(optimizer_state_by_slot(state, names))


ADAM_MOMENTS = ("exp_avg", "exp_avg_sq")


def _zero_moments(
    accelerator: Accelerator, model: nn.Module, optimizer: torch.optim.Optimizer, create: bool
) -> tuple[torch.optim.Optimizer, dict[str, nn.Parameter]]:
    """(the torch AdamW inside ZeRO, the model's parameters by name), every group's Adam state linked to its ZeRO
    fragments first (see :func:`_link_zero_moments`)."""
    zero = _inner(optimizer)  # accelerate wrapper -> ZeRO optimizer
    base = _inner(zero)
    _link_zero_moments(zero, base, create)
    return base, dict(accelerator.unwrap_model(model).named_parameters())


def _link_zero_moments(zero: Any, base: torch.optim.Optimizer, create: bool) -> None:
    """Point every parameter's ZeRO fragment at its group's Adam state (``create``: zero states if absent).

    DeepSpeed links the optimizer state after the first group's first step only, so with several parameter
    groups the later groups stay unlinked; linking here again covers every group.
    """
    from deepspeed.utils.mixed_precision_linkage import lazy_init_hp_params_optimizer_state

    zero3 = not hasattr(zero, "single_partition_of_fp32_groups")
    flats = zero.fp32_partitioned_groups_flat if zero3 else zero.single_partition_of_fp32_groups
    for flat in flats:
        if create and not base.state.get(flat):
            base.state[flat] = {"step": torch.tensor(0.0)} | {k: torch.zeros_like(flat) for k in ADAM_MOMENTS}
    if zero3:  # ZeRO-3 finds the states through the parameters themselves
        return
    for lp_params, flat in zip(zero.bit16_groups, flats, strict=True):
        if base.state.get(flat):
            lazy_init_hp_params_optimizer_state(lp_params, flat, base.state)


def _deepspeed_optimizer_state(
    accelerator: Accelerator, model: nn.Module, optimizer: torch.optim.Optimizer, names: list[list[str]]
) -> dict[str, Any]:
    """Gather ZeRO-partitioned Adam moments into the named, torch-AdamW layout (collective on every rank)."""
    from deepspeed.utils import safe_get_full_optimizer_state

    base, params = _zero_moments(accelerator, model, optimizer, create=False)
    step = next((s["step"] for s in base.state.values() if "step" in s), torch.tensor(0.0))  # shared by all groups
    state: dict[str, Any] = {}
    for name in (n for group in names for n in group):
        moments = {key: safe_get_full_optimizer_state(params[name], key) for key in ADAM_MOMENTS}
        state[name] = {"step": torch.as_tensor(step).clone().cpu()} | {k: v.cpu() for k, v in moments.items()}
    hyper = [{k: v for k, v in g.items() if k != "params"} for g in base.param_groups]
    if len(hyper) != len(names):  # ZeRO-3 splits groups into sub-groups
        hyper = [{} for _ in names]
    groups = [h | {"params": list(group)} for h, group in zip(hyper, names, strict=True)]
    return {"state": state, "param_groups": groups}


def _load_deepspeed_optimizer_state(
    accelerator: Accelerator,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    state: dict[str, Any],
    names: list[list[str]],
) -> None:
    """Scatter named Adam moments and the step count back into the ZeRO partitions (every rank)."""
    from deepspeed.utils import safe_set_full_optimizer_state

    base, params = _zero_moments(accelerator, model, optimizer, create=True)
    flat_names = [n for group in names for n in group]
    for name in flat_names:
        for key in ADAM_MOMENTS:
            safe_set_full_optimizer_state(params[name], state["state"][name][key], key)
    step = state["state"][flat_names[0]]["step"]
    for entry in base.state.values():
        entry["step"] = step.clone()


def _inner(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """The torch optimizer inside accelerate's wrapper."""
    inner: torch.optim.Optimizer = getattr(optimizer, "optimizer", optimizer)
    return inner
