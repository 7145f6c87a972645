"""The open_clip/timm -> HF ConvNeXt key converter: layout, round trip, and outputs against a timm-layout reference."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import ConvNextConfig, ConvNextModel

from earthgpt.models.convnext_weights import hf_to_timm, load_convnext_weights, timm_to_hf

PREFIX = "visual.trunk."


def _random_convnext(seed: int) -> ConvNextModel:
    torch.manual_seed(seed)
    model = ConvNextModel(ConvNextConfig(hidden_sizes=[8, 16, 24, 32], depths=[1, 2, 1, 1]))
    with torch.no_grad():  # every tensor random, so a swapped key changes the output
        for p in model.parameters():
            p.normal_(0.0, 0.2)
    return model.eval()


def _clip_checkpoint(model: ConvNextModel) -> dict[str, torch.Tensor]:
    """An open_clip-style state dict: the trunk in timm layout plus CLIP parts the converter must ignore."""
    state = hf_to_timm(model.state_dict(), prefix=PREFIX)
    state["visual.head.mlp.fc1.weight"] = torch.zeros(4, 32)
    state["text_projection"] = torch.zeros(4, 4)
    state["logit_scale"] = torch.zeros(())
    return state


def _ln2d(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), w, b, 1e-6).permute(0, 3, 1, 2)


def _timm_forward(sd: dict[str, torch.Tensor], x: torch.Tensor, depths: list[int]) -> list[torch.Tensor]:
    """ConvNeXt computed directly from timm-named tensors (timm's block: dw conv, LN, fc1, GELU, fc2, gamma)."""
    p = {k.removeprefix(PREFIX): v for k, v in sd.items() if k.startswith(PREFIX)}
    x = F.conv2d(x, p["stem.0.weight"], p["stem.0.bias"], stride=4)
    x = _ln2d(x, p["stem.1.weight"], p["stem.1.bias"])
    outs = []
    for i, depth in enumerate(depths):
        if i > 0:
            x = _ln2d(x, p[f"stages.{i}.downsample.0.weight"], p[f"stages.{i}.downsample.0.bias"])
            x = F.conv2d(x, p[f"stages.{i}.downsample.1.weight"], p[f"stages.{i}.downsample.1.bias"], stride=2)
        for j in range(depth):
            q = f"stages.{i}.blocks.{j}."
            c = x.shape[1]
            y = F.conv2d(x, p[q + "conv_dw.weight"], p[q + "conv_dw.bias"], padding=3, groups=c)
            y = F.layer_norm(y.permute(0, 2, 3, 1), (c,), p[q + "norm.weight"], p[q + "norm.bias"], 1e-6)
            y = F.linear(F.gelu(F.linear(y, p[q + "mlp.fc1.weight"], p[q + "mlp.fc1.bias"])), p[q + "mlp.fc2.weight"])
            y = (y + p[q + "mlp.fc2.bias"]) * p[q + "gamma"]
            x = x + y.permute(0, 3, 1, 2)
        outs.append(x)
    return outs


def test_timm_layout_and_round_trip() -> None:
    model = _random_convnext(0)
    timm = hf_to_timm(model.state_dict(), prefix=PREFIX)
    assert timm[PREFIX + "stem.0.weight"].shape == (8, 3, 4, 4)
    assert timm[PREFIX + "stages.1.downsample.1.weight"].shape == (16, 8, 2, 2)
    assert timm[PREFIX + "stages.1.blocks.1.conv_dw.weight"].shape == (16, 1, 7, 7)
    assert timm[PREFIX + "stages.2.blocks.0.mlp.fc1.weight"].shape == (96, 24)
    assert timm[PREFIX + "stages.3.blocks.0.gamma"].shape == (32,)
    assert timm[PREFIX + "head.norm.weight"].shape == (32,)
    assert not any(k.startswith(PREFIX + "stages.0.downsample") for k in timm)  # stage 0 has no downsampling
    back = timm_to_hf(_clip_checkpoint(model))
    original = model.state_dict()
    assert back.keys() == original.keys()
    assert all(torch.equal(back[k], original[k]) for k in original)


@pytest.mark.parametrize("suffix", [".safetensors", ".bin"])
@torch.no_grad()
def test_loaded_module_matches_timm_reference(tmp_path: Path, suffix: str) -> None:
    checkpoint = _clip_checkpoint(_random_convnext(1))
    path = tmp_path / f"open_clip_model{suffix}"
    if suffix == ".safetensors":
        save_file(checkpoint, str(path))
    else:
        torch.save(checkpoint, path)
    target = _random_convnext(2)
    load_convnext_weights(target, path)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    got = target(x, output_hidden_states=True).hidden_states[1:]
    expected = _timm_forward(checkpoint, x, [1, 2, 1, 1])
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-4)


def test_converter_errors(tmp_path: Path) -> None:
    state = hf_to_timm(_random_convnext(0).state_dict())
    with pytest.raises(KeyError, match=r"unrecognised ConvNeXt trunk key 'stages\.0\.blocks\.0\.weird'"):
        timm_to_hf({**state, "stages.0.blocks.0.weird": torch.zeros(1)})
    with pytest.raises(KeyError, match="no ConvNeXt stem"):
        timm_to_hf({"text_projection": torch.zeros(1)})
    del state["stages.3.blocks.0.gamma"]
    path = tmp_path / "partial.safetensors"
    save_file(state, str(path))
    with pytest.raises(KeyError, match="layer_scale_parameter"):
        load_convnext_weights(_random_convnext(0), path)
