"""Stage-2 scale-and-bias adapters (Eqs. 15-16) on the LLM's linear layers, and folding them back into weights."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SCALE = "adapter_scale"
BIAS = "adapter_bias"


class ScaleBiasLinear(nn.Linear):
    """y = alpha * (W x + b + beta): a frozen linear layer with a learnable per-output scale and bias.

    ``weight`` and ``bias`` keep the names (and Parameter objects) of the wrapped ``nn.Linear``, so checkpoints of
    the other parameters keep their keys; the factors are ``adapter_scale`` (alpha ~ N(mu, sigma^2), Eq. 16) and
    ``adapter_bias`` (beta = 0). With alpha = 1 and beta = 0 the layer is the wrapped one.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__(in_features, out_features, bias=bias, device="meta")
        self.adapter_scale = nn.Parameter(torch.ones(out_features))
        self.adapter_bias = nn.Parameter(torch.zeros(out_features))

    @classmethod
    def wrap(cls, linear: nn.Linear, mu: float, sigma: float, generator: torch.Generator | None) -> ScaleBiasLinear:
        """Wrap ``linear`` sharing its parameters; alpha ~ N(mu, sigma^2), beta = 0."""
        layer = cls(linear.in_features, linear.out_features, bias=linear.bias is not None)
        layer.weight = linear.weight
        layer.bias = linear.bias
        w = linear.weight
        scale = torch.empty(linear.out_features, dtype=torch.float32)
        if w.device.type != "meta":
            scale.normal_(mean=mu, std=sigma, generator=generator)
        layer.adapter_scale = nn.Parameter(scale.to(device=w.device, dtype=w.dtype))
        layer.adapter_bias = nn.Parameter(torch.zeros(linear.out_features, device=w.device, dtype=w.dtype))
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self.weight, self.bias)  # [..., out]
        return self.adapter_scale * (y + self.adapter_bias)

    def merged(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(alpha[:, None] * W, alpha * (b + beta)): the plain-linear weight and bias with the same output."""
        with torch.no_grad():
            weight = self.adapter_scale[:, None] * self.weight
            bias = self.adapter_bias if self.bias is None else self.bias + self.adapter_bias
            return weight, self.adapter_scale * bias


def _replace(root: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, child, new)


def add_adapters(decoder: nn.Module, mu: float, sigma: float, seed: int | None = 0) -> list[str]:
    """Wrap every ``nn.Linear`` under ``decoder`` (the LLM's decoder layers) in a ScaleBiasLinear; returns names."""
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    targets = [
        (n, m) for n, m in decoder.named_modules() if isinstance(m, nn.Linear) and not isinstance(m, ScaleBiasLinear)
    ]
    for name, module in targets:
        _replace(decoder, name, ScaleBiasLinear.wrap(module, mu, sigma, generator))
    return [n for n, _ in targets]


def merge_adapters_into(decoder: nn.Module) -> list[str]:
    """Replace every ScaleBiasLinear under ``decoder`` by an ``nn.Linear`` with the folded weight and a bias."""
    targets = [(n, m) for n, m in decoder.named_modules() if isinstance(m, ScaleBiasLinear)]
    for name, module in targets:
        weight, bias = module.merged()
        plain = nn.Linear(module.in_features, module.out_features, bias=True, device="meta")
        plain.weight = nn.Parameter(weight, requires_grad=module.weight.requires_grad)
        plain.bias = nn.Parameter(bias, requires_grad=module.weight.requires_grad)
        _replace(decoder, name, plain)
    return [n for n, _ in targets]


def merged_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict ``model`` would have after merging its adapters, computed without changing ``model``."""
    state = {k: v for k, v in model.state_dict().items() if not k.endswith((f".{SCALE}", f".{BIAS}"))}
    for name, module in model.named_modules():
        if isinstance(module, ScaleBiasLinear):
            weight, bias = module.merged()
            state[f"{name}.weight"] = weight
            state[f"{name}.bias"] = bias
    return state
