"""Loading a saved model directory (config.json + model.safetensors) back into an EarthGPT, checked key by key."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from earthgpt.errors import CheckpointReadError
from earthgpt.models.builders import build_model
from earthgpt.models.config import EarthGPTConfig
from earthgpt.models.earthgpt import CONFIG_NAME, WEIGHTS_NAME, EarthGPT
from earthgpt.models.state_dict import check_state_dict

HALF = (torch.bfloat16, torch.float16)
"""Stored dtypes that ``load_pretrained`` widens to float32 on the CPU."""


def load_pretrained(
    directory: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype | None = None
) -> EarthGPT:
    """Rebuild from ``config.json`` and load ``model.safetensors`` (written by ``EarthGPT.save_pretrained``).

    ``dtype`` casts every floating tensor; None keeps the stored dtype, except that half-precision weights (a
    shipped bf16/fp16 model) loaded on the CPU compute in float32: CPU bf16 matmuls are slower than fp32 ones on
    most CPUs and round every activation (measured in docs/shipped-model.md). A missing or unreadable file is named
    with the fix; any key mismatch names the first bad key.
    """
    path = Path(directory)
    config_file = path / CONFIG_NAME
    if not config_file.is_file():
        raise FileNotFoundError(
            f"{path} is not a model directory (no {CONFIG_NAME}); train one with `earthgpt train` or pass --model"
        )
    config = EarthGPTConfig.load(config_file)
    weights = path / WEIGHTS_NAME
    if not weights.is_file():
        raise FileNotFoundError(f"{weights}: missing; save models with EarthGPT.save_pretrained")
    model = build_model(config, device="meta")
    try:
        state = load_file(str(weights), device=str(device))
    except (SafetensorError, OSError) as err:
        raise CheckpointReadError(
            f"{weights}: not a readable safetensors file ({err}); it is truncated or corrupt: copy or export the "
            "model directory again"
        ) from err
    check_state_dict(model, state, weights)
    if dtype is None and torch.device(device).type == "cpu" and any(v.dtype in HALF for v in state.values()):
        dtype = torch.float32
    if dtype is not None:
        state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    model.load_state_dict(state, strict=True, assign=True)
    model.reset_buffers(device)
    return model.eval()
