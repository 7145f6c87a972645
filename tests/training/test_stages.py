"""The stage table on the tiny EarthGPT: exact trainable sets, Eq. 15-16 adapters, merging and merged export."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from earthgpt.errors import ConfigError
from earthgpt.models import EarthGPT, build_model, load_pretrained, tiny_config
from earthgpt.models.adapters import ScaleBiasLinear
from earthgpt.models.info import info_config
from earthgpt.training.stages import (
    STAGES,
    apply_stage,
    export_merged,
    group_of,
    merge_adapters,
    stage_info,
    stage_spec,
    unused_parameters,
)

LAYERS, D, FFN, N = 4, 256, 688, 100
LINEARS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj")
MLP = ("mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")


def _tiny(seed: int = 0) -> EarthGPT:
    cfg = tiny_config(vocab_size=512, image_token_id=3, pad_token_id=0, bos_token_id=1, eos_token_id=2)
    return build_model(cfg, seed=seed).eval()


def _inputs(image: bool = True) -> tuple[torch.Tensor | None, torch.Tensor]:
    """One prompt with an image, or a text-only one (enough where only the LLM changes)."""
    g = torch.Generator().manual_seed(0)
    text = torch.randint(4, 512, (24,), generator=g).tolist()
    if not image:
        return None, torch.tensor([[1, *text]])
    return torch.rand(1, 3, 160, 160, generator=g), torch.tensor([[1] + [3] * N + text])


def test_stage1_exact_trainable_set() -> None:
    model = _tiny()
    report = apply_stage(model, 1)
    expected = {"projector.layers.0.weight", "projector.layers.0.bias", "llm.model.norm.weight"}
    expected |= {f"vision.cnn.scale_proj.{i}.{p}" for i in range(4) for p in ("weight", "bias")}
    for layer in range(LAYERS):
        pre = f"llm.model.layers.{layer}."
        expected |= {f"{pre}self_attn.{m}_proj.{p}" for m in "qkv" for p in ("weight", "bias")}
        expected |= {f"{pre}input_layernorm.weight", f"{pre}post_attention_layernorm.weight"}
    assert set(report.trainable_names) == expected
    assert {n for n, p in model.named_parameters() if p.requires_grad} == expected
    qkv = LAYERS * 3 * (D * D + D)
    norms = LAYERS * 2 * D + D
    projector = (2 * 192 + 4 * 64) * D + D
    scale_proj = (32 + 64 + 128 + 256) * 64 + 4 * 64
    assert report.trainable_params == qkv + norms + projector + scale_proj
    assert report.groups["vit"][2] is False and report.groups["cnn"][2] is False
    row = next(line for line in str(report).splitlines() if line.startswith("llm_qkv"))
    assert row.split() == ["llm_qkv", str(4 * 3 * 2), f"{qkv:,}", "trainable"]


def test_stage1_biases_are_zero_and_qkv_only() -> None:
    model = _tiny()
    for layer in model.llm.model.layers:
        attn = layer.self_attn
        for proj in (attn.q_proj, attn.k_proj, attn.v_proj):
            assert proj.bias is not None and torch.count_nonzero(proj.bias) == 0
        assert attn.o_proj.bias is None and layer.mlp.gate_proj.bias is None
    assert model.llm.lm_head.bias is None


def test_stage2_exact_trainable_set_and_init() -> None:
    model = _tiny()
    apply_stage(model, 1)
    report = apply_stage(model, 2, seed=0)
    expected = {
        f"llm.model.layers.{layer}.{m}.adapter_{f}"
        for layer in range(LAYERS)
        for m in LINEARS + MLP
        for f in ("scale", "bias")
    }
    assert set(report.trainable_names) == expected
    assert {n for n, p in model.named_parameters() if p.requires_grad} == expected
    assert report.trainable_params == LAYERS * 2 * (4 * D + 2 * FFN + D)
    assert not isinstance(model.llm.lm_head, ScaleBiasLinear)
    scales = torch.cat([p.detach() for n, p in model.named_parameters() if n.endswith("adapter_scale")])
    biases = torch.cat([p for n, p in model.named_parameters() if n.endswith("adapter_bias")])
    assert torch.count_nonzero(biases) == 0
    assert abs(float(scales.mean()) - 1.0) < 0.005 and 0.015 < float(scales.std()) < 0.025


@torch.no_grad()
def test_adapted_linear_is_eq15() -> None:
    model = _tiny()
    apply_stage(model, 2)
    layer = model.llm.model.layers[0].self_attn.q_proj
    assert isinstance(layer, ScaleBiasLinear)
    layer.adapter_bias.normal_()
    x = torch.randn(3, D)
    assert layer.bias is not None
    expected = layer.adapter_scale * (x @ layer.weight.T + layer.bias + layer.adapter_bias)
    torch.testing.assert_close(layer(x), expected)


def test_stage2_gradients_reach_only_adapters() -> None:
    model = _tiny()
    apply_stage(model, 2)
    px, ids = _inputs()
    out = model(px, ids, labels=ids.masked_fill(ids == 3, -100))
    assert out.loss is not None
    out.loss.backward()
    with_grad = {n for n, p in model.named_parameters() if p.grad is not None}
    assert with_grad and all(group_of(n) == "llm_adapters" for n in with_grad)


def _adapted() -> EarthGPT:
    """A tiny model in stage 2 whose adapter biases are non-zero (so merging them has something to fold in)."""
    model = _tiny()
    apply_stage(model, 2)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("adapter_bias"):
                p.normal_(0.0, 0.05, generator=torch.Generator().manual_seed(len(name)))
    return model


@torch.no_grad()
def test_merge_keeps_outputs(tmp_path: Path) -> None:
    model = _adapted()
    px, ids = _inputs(image=False)
    before = model(px, ids).logits
    merged = merge_adapters(model)
    assert len(merged) == LAYERS * 7
    assert not any(isinstance(m, ScaleBiasLinear) for m in model.modules())
    assert model.config.adapters is False and model.config.llm_linear_bias == "all"
    torch.testing.assert_close(model(px, ids).logits, before, rtol=0, atol=1e-5)
    model.save_pretrained(tmp_path)
    torch.testing.assert_close(load_pretrained(tmp_path)(px, ids).logits, before, rtol=0, atol=1e-5)


@torch.no_grad()
def test_export_merged_and_adapter_checkpoints(tmp_path: Path) -> None:
    model = _adapted()
    px, ids = _inputs(image=False)
    expected = model(px, ids).logits
    export_merged(model, tmp_path / "merged")
    assert model.config.adapters and isinstance(model.llm.model.layers[0].mlp.up_proj, ScaleBiasLinear)
    merged = load_pretrained(tmp_path / "merged")
    assert not any(isinstance(m, ScaleBiasLinear) for m in merged.modules())
    torch.testing.assert_close(merged(px, ids).logits, expected, rtol=0, atol=1e-5)
    model.save_pretrained(tmp_path / "adapted")  # a stage-2 training checkpoint keeps its factors
    reloaded = load_pretrained(tmp_path / "adapted")
    torch.testing.assert_close(reloaded(px, ids).logits, expected, rtol=0, atol=0)


def test_stage_table_and_errors() -> None:
    assert list(STAGES) == ["scratch", "1", "2", "x"]
    assert STAGES["1"].trainable == ("llm_qkv", "llm_norm", "projector", "cnn_scale_proj")
    assert STAGES["2"].trainable == ("llm_adapters",)
    assert stage_spec(1) is stage_spec("1") is STAGES["1"]
    with pytest.raises(ConfigError, match="unknown stage 3; choose one of scratch, 1, 2, x"):
        apply_stage(_tiny(), 3)
    with pytest.raises(KeyError, match="belongs to no group"):
        group_of("decoder.weight")


@torch.no_grad()
def test_zero_biases_leave_llama_unchanged() -> None:
    """Stage-1 q/k/v biases start at zero: the LLM computes what plain LLaMA computes."""
    model = _tiny()
    ids = torch.tensor([[1, 5, 6, 7, 8]])
    with_bias = model.llm(input_ids=ids).logits
    for layer in model.llm.model.layers:
        for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
            proj.bias = None
    plain = model.llm(input_ids=ids).logits
    torch.testing.assert_close(with_bias, plain, rtol=0, atol=0)
    assert F.cross_entropy(plain[0], ids[0]).isfinite()


def test_scratch_trains_everything_and_stage_info_counts_each_row() -> None:
    model = _tiny()
    report = apply_stage(model, "scratch")
    unused = sum(p.numel() for n, p in model.named_parameters() if n in unused_parameters(model))
    assert unused > 0 and report.unused_params == unused  # mask token and final norms: outside the computation
    assert (
        report.frozen_params == unused
        and report.trainable_params == sum(p.numel() for p in model.parameters()) - unused
    )
    assert {n for n, p in model.named_parameters() if not p.requires_grad} == unused_parameters(model)
    info = stage_info(build_model(info_config("tiny", vocab_size=512, x=False), device="meta"))
    assert list(info) == ["scratch", "1", "2"]  # a model without X parts has no x row
    assert info["2"]["trainable"] < info["1"]["trainable"] < info["scratch"]["trainable"]
    assert info["scratch"]["frozen"] == unused
    assert info["1"]["groups"]["projector"]["trainable"] and not info["2"]["groups"]["projector"]["trainable"]


X_PARTS = ("prompt_encoder", "fusion", "region_encoder", "view_embedding", "seg_projector", "mask_decoder")


def test_stage_x_exact_trainable_set() -> None:
    cfg = tiny_config(vocab_size=512, image_token_id=3, pad_token_id=0, bos_token_id=1, eos_token_id=2,
                      region_token_id=4, seg_token_id=5, view_token_id=6)  # fmt: skip
    model = build_model(cfg, seed=0)
    report = apply_stage(model, "x")
    expected = {"projector.layers.0.weight", "projector.layers.0.bias", "llm.model.norm.weight"}
    expected |= {f"vision.cnn.scale_proj.{i}.{p}" for i in range(4) for p in ("weight", "bias")}
    expected |= {"llm.model.embed_tokens.weight", "llm.lm_head.weight"}
    for layer in range(LAYERS):
        pre = f"llm.model.layers.{layer}."
        expected |= {f"{pre}self_attn.{m}_proj.{p}" for m in "qkv" for p in ("weight", "bias")}
        expected |= {f"{pre}input_layernorm.weight", f"{pre}post_attention_layernorm.weight"}
    x_names = {n for n, _ in model.named_parameters() if n.split(".")[0] in X_PARTS}
    iou_head = {n for n in x_names if n.startswith("mask_decoder.decoder.iou_prediction_head.")}
    assert iou_head and iou_head <= unused_parameters(model)  # SAM's mask scorer: no loss trains it
    expected |= x_names - iou_head
    assert set(report.trainable_names) == expected
    assert {n for n, p in model.named_parameters() if p.requires_grad} == expected
    for part in X_PARTS:
        count = sum(p.numel() for n, p in model.named_parameters() if n.startswith(part + "."))
        assert report.groups[part][1:] == (count, True)
    assert report.groups["vit"][2] is False and report.groups["cnn"][2] is False
    # stages 1 and 2 leave the X parts frozen; a plain model is refused stage x with the fix
    assert not any(group_of(n) in X_PARTS for n in apply_stage(model, 1).trainable_names)
    with pytest.raises(ConfigError, match="this model has none"):
        apply_stage(_tiny(), "x")
