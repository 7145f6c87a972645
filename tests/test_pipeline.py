"""Assembling a model directory from local pretrained parts, and its use as a stage-1 starting point."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import ConvNextModel, Dinov2Model, LlamaForCausalLM

from earthgpt.data.tokenizer import IMAGE_TOKEN, load_tokenizer, train_tokenizer
from earthgpt.models import CNNConfig, EarthGPTConfig, LLMConfig, PretrainedSources, ViTConfig, load_pretrained
from earthgpt.models.builders import convnext_hf_config, dinov2_hf_config
from earthgpt.models.convnext_weights import hf_to_timm
from earthgpt.models.language import llama_hf_config
from earthgpt.pipeline import init_pretrained
from earthgpt.training.stages import apply_stage


def _small(**ids: int) -> EarthGPTConfig:
    return EarthGPTConfig(
        image_size=64,
        vit=ViTConfig(hidden_size=32, num_layers=2, num_heads=2, patch_size=16, feature_layers=(1, 2)),
        cnn=CNNConfig(hidden_sizes=(8, 16, 24, 32), depths=(1, 1, 1, 1), scale_channels=8),
        llm=LLMConfig(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64),
        **ids,
    )


def test_init_pretrained_writes_a_loadable_directory_with_the_local_weights(tmp_path: Path) -> None:
    tok = train_tokenizer(["a remote sensing image of a harbour with ships"] * 20, vocab_size=280)
    cfg = _small(vocab_size=len(tok), image_token_id=4, pad_token_id=3, bos_token_id=1, eos_token_id=2)
    torch.manual_seed(0)
    dino = Dinov2Model(dinov2_hf_config(cfg.vit))
    dino.save_pretrained(tmp_path / "dinov2")
    llama = LlamaForCausalLM(llama_hf_config(cfg.llm, len(tok), 3, 1, 2))
    llama.save_pretrained(tmp_path / "llama")
    tok.save_pretrained(tmp_path / "llama")  # a LLaMA directory carries its tokenizer
    convnext = ConvNextModel(convnext_hf_config(cfg.cnn))
    save_file(hf_to_timm(convnext.state_dict(), prefix="visual.trunk."), str(tmp_path / "clip.safetensors"))

    sources = PretrainedSources(tmp_path / "dinov2", tmp_path / "clip.safetensors", tmp_path / "llama")
    out = init_pretrained(sources, tmp_path / "init", config_fn=_small)

    model = load_pretrained(out)
    assert torch.equal(
        model.vision.vit.model.embeddings.patch_embeddings.projection.weight,
        dino.embeddings.patch_embeddings.projection.weight,
    )
    assert torch.equal(model.llm.model.layers[0].mlp.down_proj.weight, llama.model.layers[0].mlp.down_proj.weight)
    again = load_tokenizer(out)
    assert IMAGE_TOKEN in again.get_vocab() and model.config.image_token_id == again.convert_tokens_to_ids(IMAGE_TOKEN)
    report = apply_stage(model, 1)  # the directory is a valid stage-1 starting point: exactly these tensors train
    layers = range(cfg.llm.num_layers)
    expected = {
        f"llm.model.layers.{i}.self_attn.{p}_proj.{w}" for i in layers for p in "qkv" for w in ("weight", "bias")
    }
    expected |= {
        f"llm.model.layers.{i}.{n}.weight" for i in layers for n in ("input_layernorm", "post_attention_layernorm")
    }
    expected |= {"llm.model.norm.weight", "projector.layers.0.weight", "projector.layers.0.bias"}
    expected |= {n for n, _ in model.named_parameters() if n.startswith("vision.cnn.scale_proj.")}
    assert set(report.trainable_names) == expected
    assert len([n for n in expected if n.startswith("vision.cnn.scale_proj.")]) == 2 * len(cfg.cnn.feature_strides)


def test_a_scratch_run_adds_the_x_parts_when_its_corpus_uses_them(data_root: Path, tmp_path: Path) -> None:
    """``TrainRun.x`` None: a corpus with prompts / masks / views gets the EarthGPT-X parts, a plain one does not."""
    from earthgpt.data.corpus import BuildConfig, SourceSpec, build
    from earthgpt.data.instructions.convert import InstructionOptions
    from earthgpt.models.config import EarthGPTConfig as Config
    from earthgpt.pipeline import TrainRun, train_from_build

    hrsid = SourceSpec(
        "hrsid", "hrsid_modified_coco", ["train"],
        {"annotations": "subset_offshore_train_30imgs.json", "images": "images"},
    )  # fmt: skip
    made = {}
    for name, x_tasks in (("x", ("region_classification", "pixel_grounding")), ("plain", ())):
        out = tmp_path / name
        build(BuildConfig([hrsid], data_root=str(data_root), out_dir=str(out / "data"),
                          instructions=InstructionOptions(x_tasks=x_tasks)))  # fmt: skip
        run = TrainRun(build=str(out / "data"), out=str(out / "model"),
                       train={"max_steps": 1, "batch_size": 2, "warmup_steps": 0, "progress_bar": False})  # fmt: skip
        train_from_build(run)
        made[name] = Config.load(out / "model" / "config.json").x
    assert made["x"] is not None and made["plain"] is None


def test_a_scratch_run_takes_an_image_size_and_continues_a_model_given_init(data_root: Path, tmp_path: Path) -> None:
    """``image_size`` sets a new model's input and token grid; ``init`` with ``scratch`` continues that model (its
    tokenizer and weights, the new size ignored) instead of building a random one."""
    from earthgpt.data.corpus import BuildConfig, SourceSpec, build
    from earthgpt.pipeline import TrainRun, train_from_build

    hrsid = SourceSpec(
        "hrsid", "hrsid_modified_coco", ["train"],
        {"annotations": "subset_offshore_train_30imgs.json", "images": "images"},
    )  # fmt: skip
    build(BuildConfig([hrsid], data_root=str(data_root), out_dir=str(tmp_path / "data")))
    train = {"max_steps": 1, "batch_size": 2, "warmup_steps": 0, "progress_bar": False}
    first = TrainRun(build=str(tmp_path / "data"), out=str(tmp_path / "px128"), image_size=128, train=train)
    train_from_build(first)
    model = load_pretrained(tmp_path / "px128")
    assert model.image_size == 128 and model.num_image_tokens == 64

    more = TrainRun(build=str(tmp_path / "data"), out=str(tmp_path / "more"), init=str(tmp_path / "px128"),
                    image_size=224, vocab_size=300, train=train | {"lr": 1e-12})  # fmt: skip
    train_from_build(more)
    continued = load_pretrained(tmp_path / "more")
    assert continued.image_size == 128
    record = json.loads((tmp_path / "more" / "train_run.json").read_text(encoding="utf-8"))
    assert record["init_run"]["image_size"] == 128  # the record of the continued run travels with it
    assert load_tokenizer(tmp_path / "more").get_vocab() == load_tokenizer(tmp_path / "px128").get_vocab()
    before, after = model.state_dict(), continued.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.allclose(before[k], after[k], atol=1e-6) for k in before)
