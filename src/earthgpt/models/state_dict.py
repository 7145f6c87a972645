"""The one check of a state dict against a model: unexpected, missing and differently-shaped keys, by name."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from torch import nn

from earthgpt.errors import CheckpointMismatchError


def check_state_dict(
    model: nn.Module,
    state: Mapping[str, Any],
    source: Path | str,
    required: Collection[str] | None = None,
    *,
    required_what: str = "model",
) -> None:
    """Raise CheckpointMismatchError naming the first bad key of ``state`` (tensors by name) for ``model``.

    Checked in this order: a key the model does not have; a ``required`` key (default: every key of the model's
    state dict) the file lacks (``required_what`` says what kind of key, e.g. "trainable model"); a key whose shape
    differs. ``source`` (the file) opens every message.
    """
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    for key, value in state.items():
        if key not in expected:
            raise CheckpointMismatchError(
                f"{source}: unexpected key {key!r} (shape {tuple(value.shape)}) is not in the model: the checkpoint "
                "was written for another architecture or stage; build the same model (its config.json) first"
            )
    for key in expected if required is None else required:
        if key not in state:
            raise CheckpointMismatchError(
                f"{source}: {required_what} key {key!r} (shape {expected[key]}) is missing from the checkpoint: "
                "apply the same training stage, or re-export the checkpoint with its config.json"
            )
    for key, shape in expected.items():
        if key in state and tuple(state[key].shape) != shape:
            raise CheckpointMismatchError(
                f"{source}: key {key!r} has shape {tuple(state[key].shape)} in the checkpoint but {shape} in the "
                "model: build the model with the checkpoint's sizes (fix its config.json)"
            )
