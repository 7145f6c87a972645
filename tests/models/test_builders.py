"""Named sizes, the meta-device paper model, config round trips and loading pretrained parts from local dirs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from transformers import ConvNextModel, Dinov2Model, LlamaForCausalLM

from earthgpt.models import (
    CNNConfig,
    ConfigError,
    EarthGPTConfig,
    LLMConfig,
    PretrainedSources,
    ViTConfig,
    build_model,
    paper_config,
)
from earthgpt.models.builders import convnext_hf_config, dinov2_hf_config
from earthgpt.models.convnext_weights import hf_to_timm
from earthgpt.models.info import info_config, model_info, part_counts
from earthgpt.models.language import llama_hf_config

from .conftest import make_tiny, tiny_cfg

LLAMA2_7B = 6_738_415_616  # parameters of LLaMA-2-7B (32000-token vocabulary, untied embeddings)


def test_tiny_size() -> None:
    model = make_tiny()
    counts = part_counts(model)
    assert 5_000_000 < counts["total"] < 9_000_000
    assert (model.num_image_tokens, model.image_size) == (100, 160)
    # the LLM: 4 layers x (4 x 256^2 attention + 3 x 256 x 688 MLP + 3 x 256 q/k/v biases + 2 x 256 norms)
    # + final norm + input and output embeddings
    assert counts["llm"] == 4 * (4 * 256**2 + 3 * 256 * 688 + 3 * 256 + 2 * 256) + 256 + 2 * 512 * 256


def test_paper_size_on_meta_device() -> None:
    model = build_model(paper_config(), device="meta")
    assert all(p.is_meta for p in model.parameters())
    counts = part_counts(model)
    extra_vocab = 2 * 4096  # one added token (the image placeholder) in the input and output embeddings
    qkv_bias = 32 * 3 * 4096
    assert counts["llm"] - extra_vocab - qkv_bias == LLAMA2_7B
    assert 300e6 < counts["vit"] < 310e6  # DINOv2 ViT-L/14: ~304M
    assert 194e6 < counts["cnn"] < 199e6  # ConvNeXt-L: ~196M
    assert counts["projector"] == (4 * 1024 + 4 * 1024) * 4096 + 4096
    assert (model.num_image_tokens, model.image_size) == (256, 224)


def test_model_info_dict() -> None:
    info = model_info("tiny", vocab_size=512)
    x = build_model(replace(tiny_cfg(), x=info_config("tiny", vocab_size=512).x), seed=0)
    assert info["parameters"] == part_counts(x)  # named sizes come with their EarthGPT-X parts
    plain = part_counts(make_tiny())
    assert all(info["parameters"][k] == v for k, v in plain.items() if k != "total")  # the plain parts unchanged
    assert "stages" not in info  # trainable counts per stage live with the stage table (training.stages)
    with pytest.raises(ValueError, match="unknown model size 'huge'"):
        model_info("huge")


def test_config_json_round_trip(tmp_path: Path) -> None:
    cfg = tiny_cfg()
    cfg.save(tmp_path / "config.json")
    assert EarthGPTConfig.load(tmp_path / "config.json") == cfg
    assert EarthGPTConfig.from_dict(paper_config().to_dict()) == paper_config()


def test_config_validation() -> None:
    cfg = tiny_cfg()
    with pytest.raises(ConfigError, match=r"feature_layers=\(0, 5\)"):
        ViTConfig(hidden_size=8, num_layers=4, num_heads=2, patch_size=16, feature_layers=(0, 5))
    with pytest.raises(ConfigError, match="feature_strides"):
        CNNConfig(hidden_sizes=(8, 16), depths=(1, 1), scale_channels=8, feature_strides=(4, 16))
    with pytest.raises(ConfigError, match="image_size=150"):
        replace(cfg, image_size=150)
    with pytest.raises(ConfigError, match="image_token_id=512"):
        replace(cfg, image_token_id=512)
    with pytest.raises(ConfigError, match="unknown model config keys"):
        EarthGPTConfig.from_dict({**cfg.to_dict(), "typo": 1})


def _small_cfg(vocab: int) -> EarthGPTConfig:
    return EarthGPTConfig(
        image_size=64,
        vit=ViTConfig(hidden_size=32, num_layers=2, num_heads=2, patch_size=16, feature_layers=(1, 2)),
        cnn=CNNConfig(hidden_sizes=(8, 16, 24, 32), depths=(1, 1, 1, 1), scale_channels=8),
        llm=LLMConfig(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64),
        vocab_size=vocab,
        image_token_id=vocab - 1,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )


def test_pretrained_parts_from_local_dirs(tmp_path: Path) -> None:
    """DINOv2 and LLaMA from HF dirs, ConvNeXt from an open_clip file; the vocabulary grows by one token."""
    cfg = _small_cfg(vocab=100)
    torch.manual_seed(0)
    dino = Dinov2Model(dinov2_hf_config(cfg.vit))
    dino.save_pretrained(tmp_path / "dinov2")
    llama = LlamaForCausalLM(llama_hf_config(cfg.llm, 99, 0, 1, 2))
    llama.save_pretrained(tmp_path / "llama")
    convnext = ConvNextModel(convnext_hf_config(cfg.cnn))
    save_file(hf_to_timm(convnext.state_dict(), prefix="visual.trunk."), str(tmp_path / "clip.safetensors"))

    sources = PretrainedSources(tmp_path / "dinov2", tmp_path / "clip.safetensors", tmp_path / "llama")
    model = build_model(cfg, pretrained=sources)
    for ours, theirs in ((model.vision.vit.model, dino), (model.vision.cnn.model, convnext)):
        ref = theirs.state_dict()
        assert all(torch.equal(v, ref[k]) for k, v in ours.state_dict().items())  # type: ignore[operator]
    ref = llama.state_dict()
    for k, v in model.llm.state_dict().items():
        if k.endswith(("q_proj.bias", "k_proj.bias", "v_proj.bias")):
            assert torch.count_nonzero(v) == 0  # added, zero-initialised
        elif "embed_tokens" in k or "lm_head" in k:
            assert v.shape[0] == 100 and torch.equal(v[:99], ref[k])
        else:
            assert torch.equal(v, ref[k])
    # the added token's row starts at (about) the mean of the existing embeddings
    table = model.llm.get_input_embeddings().weight
    torch.testing.assert_close(table[99], ref["model.embed_tokens.weight"].mean(0), atol=1e-3, rtol=0)


def test_pretrained_size_mismatch_is_named(tmp_path: Path) -> None:
    cfg = _small_cfg(vocab=100)
    other = replace(cfg.vit, num_layers=3)
    Dinov2Model(dinov2_hf_config(other)).save_pretrained(tmp_path / "dinov2")
    with pytest.raises(ValueError, match="does not match the vit config"):
        build_model(cfg, pretrained=PretrainedSources(dinov2_dir=tmp_path / "dinov2"))
    with pytest.raises(FileNotFoundError, match=r"no config\.json"):
        build_model(cfg, pretrained=PretrainedSources(llama_dir=tmp_path / "missing"))
