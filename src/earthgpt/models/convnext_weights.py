"""open_clip/timm ConvNeXt state dicts <-> HF ConvNextModel keys (e.g. CLIP ``convnext_large_d_320``).

timm layout (open_clip prefixes it with ``visual.trunk.``; the CLIP head ``visual.head.*`` is not used):
``stem.0`` conv 4x4/4, ``stem.1`` LayerNorm2d, ``stages.i.downsample.{0,1}`` LayerNorm2d + conv 2x2/2 (i > 0),
``stages.i.blocks.j.{conv_dw, norm, mlp.fc1, mlp.fc2, gamma}``, ``head.norm`` (LayerNorm after pooling).
HF layout: ``embeddings.{patch_embeddings, layernorm}``, ``encoder.stages.i.downsampling_layer.{0,1}``,
``encoder.stages.i.layers.j.{dwconv, layernorm, pwconv1, pwconv2, layer_scale_parameter}``, ``layernorm``.
The tensors need no reshaping: timm's ``conv_mlp=False`` blocks (all CLIP ConvNeXts) use Linear layers like HF.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import ConvNextModel

logger = logging.getLogger(__name__)

# (timm key, HF key) after the open_clip/timm prefix is removed; {s} is a stage, {b} a block, {d} a part of the
# downsampling layer, {p} "weight" or "bias"
_KEY_PAIRS: tuple[tuple[str, str], ...] = (
    ("stem.0.{p}", "embeddings.patch_embeddings.{p}"),
    ("stem.1.{p}", "embeddings.layernorm.{p}"),
    ("stages.{s}.downsample.{d}.{p}", "encoder.stages.{s}.downsampling_layer.{d}.{p}"),
    ("stages.{s}.blocks.{b}.conv_dw.{p}", "encoder.stages.{s}.layers.{b}.dwconv.{p}"),
    ("stages.{s}.blocks.{b}.norm.{p}", "encoder.stages.{s}.layers.{b}.layernorm.{p}"),
    ("stages.{s}.blocks.{b}.mlp.fc1.{p}", "encoder.stages.{s}.layers.{b}.pwconv1.{p}"),
    ("stages.{s}.blocks.{b}.mlp.fc2.{p}", "encoder.stages.{s}.layers.{b}.pwconv2.{p}"),
    ("stages.{s}.blocks.{b}.gamma", "encoder.stages.{s}.layers.{b}.layer_scale_parameter"),
    ("head.norm.{p}", "layernorm.{p}"),
)
_FIELDS: dict[str, str] = {"s": r"\d+", "b": r"\d+", "d": "[01]", "p": "weight|bias"}
_TRUNK_PREFIXES: tuple[str, ...] = ("visual.trunk.", "trunk.", "")

Renaming = tuple[tuple[re.Pattern[str], str], ...]


def _compile(template: str) -> re.Pattern[str]:
    """The regex of a key template: its text literally, each ``{x}`` a named group of the ``_FIELDS[x]`` form."""
    parts = re.split(r"\{(\w)\}", template)  # text, field, text, field, ..., text
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>{_FIELDS[part]})" for i, part in enumerate(parts))
    return re.compile(regex)


_TIMM_TO_HF: Renaming = tuple((_compile(timm), hf) for timm, hf in _KEY_PAIRS)
_HF_TO_TIMM: Renaming = tuple((_compile(hf), timm) for timm, hf in _KEY_PAIRS)


def _rename(key: str, table: Renaming) -> str | None:
    for pattern, template in table:
        m = pattern.fullmatch(key)
        if m:
            return template.format(**m.groupdict())
    return None


def timm_to_hf(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Convert a timm/open_clip ConvNeXt state dict to HF ConvNextModel keys.

    The trunk prefix (``visual.trunk.``, ``trunk.`` or none) is detected from the stem key; keys outside the trunk
    (text tower, CLIP projection head, ``norm_pre`` identity) are dropped. Unknown trunk keys raise KeyError.
    """
    prefix = next((p for p in _TRUNK_PREFIXES if f"{p}stem.0.weight" in state), None)
    if prefix is None:
        raise KeyError("no ConvNeXt stem ('stem.0.weight', optionally under 'visual.trunk.') in the state dict")
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not key.startswith(prefix):
            continue
        local = key[len(prefix) :]
        if local.startswith(("head.fc.", "head.pre_logits.")) or local.startswith("visual."):
            continue
        new = _rename(local, _TIMM_TO_HF)
        if new is None:
            raise KeyError(f"unrecognised ConvNeXt trunk key {key!r}; expected the timm ConvNeXt layout")
        out[new] = value
    return out


def hf_to_timm(state: dict[str, torch.Tensor], prefix: str = "") -> dict[str, torch.Tensor]:
    """The inverse map: HF ConvNextModel keys to timm keys (``prefix`` e.g. ``visual.trunk.``)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        new = _rename(key, _HF_TO_TIMM)
        if new is None:
            raise KeyError(f"unrecognised HF ConvNextModel key {key!r}")
        out[prefix + new] = value
    return out


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a safetensors file, or a torch checkpoint with ``weights_only=True`` (never arbitrary pickle)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: ConvNeXt weights file not found; pass the local open_clip/timm checkpoint")
    if p.suffix == ".safetensors":
        return load_file(str(p))
    state = torch.load(p, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{p}: expected a state dict of tensors, found {type(state).__name__}")
    return {k.removeprefix("module."): v for k, v in state.items() if isinstance(v, torch.Tensor)}


HF_PREFIXES: tuple[str, ...] = ("convnext.", "")
"""HF ConvNextForImageClassification nests the backbone under ``convnext.``; ConvNextModel does not."""
HF_WEIGHT_FILES: tuple[str, ...] = ("model.safetensors", "pytorch_model.bin")


def read_convnext_state(path: str | Path) -> dict[str, torch.Tensor]:
    """A ConvNeXt in HF ConvNextModel keys from an open_clip/timm file, an HF-keyed file, or an HF directory."""
    p = Path(path)
    if p.is_dir():
        found = [p / name for name in HF_WEIGHT_FILES if (p / name).is_file()]
        if not found:
            raise FileNotFoundError(f"{p}: no {' or '.join(HF_WEIGHT_FILES)}; pass an HF ConvNeXt directory or file")
        p = found[0]
    state = read_state_dict(p)
    prefix = next((x for x in HF_PREFIXES if f"{x}embeddings.patch_embeddings.weight" in state), None)
    if prefix is None:
        try:
            return timm_to_hf(state)
        except KeyError as err:
            raise ValueError(f"{p}: {err.args[0]} (nor an HF ConvNeXt layout)") from err
    trunk = (f"{prefix}embeddings.", f"{prefix}encoder.", f"{prefix}layernorm.")
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(trunk)}


def load_convnext_weights(model: ConvNextModel, path: str | Path) -> None:
    """Load ConvNeXt weights (open_clip, timm or HF layout) from ``path`` into ``model``; every key must be covered."""
    converted = read_convnext_state(path)
    expected = model.state_dict()
    for key, tensor in expected.items():
        if key not in converted:
            raise KeyError(f"{path}: no weights for {key!r}; is this a ConvNeXt of the configured size?")
        if tuple(converted[key].shape) != tuple(tensor.shape):
            raise ValueError(
                f"{path}: {key!r} has shape {tuple(converted[key].shape)}, the model expects {tuple(tensor.shape)}"
            )
    model.load_state_dict(converted, strict=True)
    logger.info("loaded %d ConvNeXt tensors from %s", len(converted), path)
