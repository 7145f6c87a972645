"""`earthgpt model init --size auto` on tiny checkpoints of three shapes per part, written with the real HF classes
(DINOv2 plain / with registers / SwiGLU; ConvNeXt in open_clip, timm and HF layouts; LLaMA, LLaMA-3-style RoPE,
Mistral), each assembled, trained 2 steps in stage 1 and stage 2 on a real build, saved and reloaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import (
    ConvNextConfig,
    ConvNextForImageClassification,
    ConvNextModel,
    Dinov2Config,
    Dinov2Model,
    Dinov2WithRegistersConfig,
    Dinov2WithRegistersModel,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    PreTrainedTokenizerFast,
)

from earthgpt.cli import main
from earthgpt.models import EarthGPTConfig, build_model, load_pretrained
from earthgpt.models.assemble import (
    CheckpointShapeError,
    auto_config,
    convnext_parts,
    decoder_parts,
    dinov2_parts,
    paper_layers,
    read_parts,
)
from earthgpt.models.convnext_weights import hf_to_timm, read_convnext_state
from earthgpt.models.info import info_config, part_counts
from earthgpt.training import checkpoint as ckpt

REPO = Path(__file__).resolve().parents[2]
PAPER_INFO = REPO / "tests" / "data" / "model_info_paper.json"


def _dinov2(out: Path, shape: int) -> Path:
    if shape == 0:
        model: torch.nn.Module = Dinov2Model(Dinov2Config(hidden_size=32, num_hidden_layers=4, num_attention_heads=2))
    elif shape == 1:
        config = Dinov2WithRegistersConfig(hidden_size=48, num_hidden_layers=6, num_attention_heads=3,
                                           num_register_tokens=4, patch_size=14, image_size=224)  # fmt: skip
        model = Dinov2WithRegistersModel(config)
    else:
        config = Dinov2Config(hidden_size=64, num_hidden_layers=3, num_attention_heads=4, use_swiglu_ffn=True)
        model = Dinov2Model(config)
    model.save_pretrained(out)  # type: ignore[operator]
    return out


def _convnext(out: Path, shape: int) -> Path:
    widths, depths = (
        [(8, 16, 32, 64), (16, 32, 48, 64), (8, 16, 24, 32)][shape],
        [(1, 1, 3, 1), (2, 1, 1, 2), (1, 2, 2, 1)][shape],
    )
    config = ConvNextConfig(hidden_sizes=list(widths), depths=list(depths), num_labels=3)
    if shape == 2:  # HF layout: a ConvNextForImageClassification directory
        ConvNextForImageClassification(config).save_pretrained(out)
        return out
    state = ConvNextModel(config).state_dict()
    out.mkdir(parents=True)
    if shape == 0:  # open_clip: the trunk under visual.trunk., a CLIP head and a text tower beside it
        tensors = hf_to_timm(state, prefix="visual.trunk.")
        tensors |= {"visual.head.proj.weight": torch.zeros(4, 64), "token_embedding.weight": torch.zeros(10, 4)}
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(out / "open_clip_convnext.safetensors"))
        return out / "open_clip_convnext.safetensors"
    tensors = hf_to_timm(state) | {"head.fc.weight": torch.zeros(3, 64), "head.fc.bias": torch.zeros(3)}  # timm
    torch.save(tensors, out / "timm_convnext.bin")
    return out / "timm_convnext.bin"


def _tokenizer(texts: list[str], vocab: int) -> PreTrainedTokenizerFast:
    """A LLaMA-like tokenizer of its own: <unk>, <s>, </s>, no <image> and no pad (assembly adds them)."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<unk>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)  # fmt: skip
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>")


def _llm(out: Path, shape: int, texts: list[str]) -> Path:
    tok = _tokenizer(texts, 300 + 100 * shape)
    ids = {"vocab_size": len(tok), "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": False}
    if shape == 0:
        model: torch.nn.Module = LlamaForCausalLM(LlamaConfig(hidden_size=64, intermediate_size=128,
            num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, **ids))  # fmt: skip
    elif shape == 1:  # LLaMA-3 style: rope theta 500000, no GQA
        model = LlamaForCausalLM(LlamaConfig(hidden_size=48, intermediate_size=96, num_hidden_layers=3,
            num_attention_heads=3, rope_parameters={"rope_type": "default", "rope_theta": 500000.0}, **ids))  # fmt: skip
    else:
        model = MistralForCausalLM(MistralConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=1, sliding_window=1024, **ids))  # fmt: skip
    model.save_pretrained(out)  # type: ignore[operator]
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def build(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("assemble")
    config = tmp / "build.yaml"
    config.write_text("sources:\n  - name: rsscn7\n    root: rsscn7\n    splits: [train]\n", encoding="utf-8")
    out = tmp / "data"
    assert main(["data", "build", "--config", str(config), "--data", str(data_root), "--out", str(out), "--quiet"]) == 0
    (tmp / "run.yaml").write_text("log_every: 1\nprogress_bar: false\nmax_length: 512\n", encoding="utf-8")
    return out


def _texts(build: Path) -> list[str]:
    lines = [json.loads(line) for p in sorted(build.rglob("*.jsonl")) for line in p.read_text().splitlines()]
    return [m["text"] for d in lines for m in d.get("messages", []) if "text" in m] * 2


def _train(build: Path, stage: str, init: Path, out: Path) -> None:
    args = ["train", "--config", str(build.parent / "run.yaml"), "--build", str(build), "--stage", stage]
    assert main([*args, "--init", str(init), "--out", str(out), "--steps", "2", "--batch-size", "2"]) == 0


EXPECTED = [  # per shape: ViT blocks taken (paper pattern on the depth), ConvNeXt widths, depths, LLM layers
    ((1, 2, 3, 4), (8, 16, 32, 64), (1, 1, 3, 1), 2),
    ((2, 3, 4, 6), (16, 32, 48, 64), (2, 1, 1, 2), 3),
    ((1, 2, 3), (8, 16, 24, 32), (1, 2, 2, 1), 2),
]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("shape", [0, 1, 2])
def test_assemble_train_both_stages_save_and_reload(
    shape: int, build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dino, conv = _dinov2(tmp_path / "dino", shape), _convnext(tmp_path / "convnext", shape)
    llm = _llm(tmp_path / "llm", shape, _texts(build))
    init = tmp_path / "init"
    assert (
        main(["model", "init", "--dinov2", str(dino), "--convnext", str(conv), "--llama", str(llm), "--out", str(init)])
        == 0
    )
    config = EarthGPTConfig.load(init / "config.json")
    layers, widths, depths, llm_layers = EXPECTED[shape]
    assert (config.vit.feature_layers, config.cnn.hidden_sizes, config.cnn.depths) == (layers, widths, depths)
    assert config.cnn.feature_strides == (4, 8, 16, 32) and config.cnn.scale_channels == config.vit.hidden_size
    assert (config.llm.num_layers, config.grid_size) == (llm_layers, 16)  # 224 px / patch 14
    model = load_pretrained(init)
    hf_vit = type(model.vision.vit.model).from_pretrained(dino)  # type: ignore[union-attr]
    assert torch.equal(model.vision.vit.model.embeddings.patch_embeddings.projection.weight,  # type: ignore[union-attr]
                       hf_vit.embeddings.patch_embeddings.projection.weight)  # fmt: skip
    assert type(hf_vit).__name__ == ("Dinov2Model", "Dinov2WithRegistersModel", "Dinov2Model")[shape]
    llm_weights = load_file(str(llm / "model.safetensors"))
    down = "model.layers.0.mlp.down_proj.weight"
    assert torch.equal(model.llm.get_parameter(down), llm_weights[down])  # the checkpoint's own decoder weights
    dw = model.vision.cnn.model.encoder.stages[0].layers[0].dwconv.weight  # type: ignore[union-attr,index]
    assert torch.equal(dw, read_convnext_state(conv)["encoder.stages.0.layers.0.dwconv.weight"])
    tok_vocab = len(json.loads((llm / "tokenizer.json").read_text())["model"]["vocab"])
    assert config.vocab_size == tok_vocab + 5  # <image>, <pad>, <region>, <seg> and <view> added
    s1, s2 = tmp_path / "s1", tmp_path / "s2"
    _train(build, "1", init, s1)
    _train(build, "2", s1, s2)
    for out in (s1, s2):
        reloaded = load_pretrained(out)
        final = ckpt.latest_checkpoint(out / "run")
        assert final is not None and final.name == ckpt.checkpoint_name(2)
        saved = ckpt.read_model_tensors(final / ckpt.MODEL_FILE)
        assert all(torch.equal(v, reloaded.state_dict()[k]) for k, v in saved.items())  # stages 1/2 save what trains
    capsys.readouterr()
    assert main(["model", "info", "--model", str(s2)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["parameters"]["total"] == sum(p.numel() for p in load_pretrained(s2).parameters())
    assert info["stages"]["2"]["groups"]["llm_adapters"]["trainable"] is True


def test_paper_layer_pattern_maps_onto_any_depth() -> None:
    assert paper_layers(24) == (6, 12, 18, 24)  # the paper's DINOv2-L
    assert paper_layers(12) == (3, 6, 9, 12)  # ViT-S/B
    assert paper_layers(40) == (10, 20, 30, 40)  # ViT-G
    assert paper_layers(2) == (1, 2)


def test_model_info_paper_prints_what_it_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["model", "info", "--size", "paper"]) == 0
    printed, pinned = json.loads(capsys.readouterr().out), json.loads(PAPER_INFO.read_text())
    assert {k: v for k, v in printed.items() if k != "stages"} == {k: v for k, v in pinned.items() if k != "stages"}
    assert {k: printed["stages"][k] for k in ("1", "2", "x")} == pinned["stages"]  # the paper rows, number for number
    assert list(printed["stages"]) == ["scratch", "1", "2", "x"]
    # the EarthGPT-X parts are listed; the plain paper model (without them) still counts what it counted before them
    assert {"prompt_encoder", "fusion", "mask_decoder"} <= set(printed["parameters"])
    assert part_counts(build_model(info_config("paper", x=False), device="meta"))["total"] == 7_275_927_744


def test_size_paper_keeps_its_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dino, llm = _dinov2(tmp_path / "dino", 0), _llm(tmp_path / "llm", 0, ["a small corpus of words"] * 20)
    args = ["model", "init", "--size", "paper", "--dinov2", str(dino), "--tokenizer", str(llm)]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    assert "(32, 4, 14) does not match the vit config" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"}, "not a LLaMA decoder"),
        ({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}, "not a LLaMA decoder"),
        ({"rope_scaling": {"rope_type": "llama3", "factor": 8.0}}, "rope_scaling"),
        ({"tie_word_embeddings": True}, "tie_word_embeddings"),
        ({"attention_bias": True}, "attention_bias"),
    ],
)
def test_other_decoders_are_refused_with_the_reason(tmp_path: Path, fields: dict, reason: str) -> None:
    base = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "intermediate_size": 128}  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps(base | fields))
    with pytest.raises(CheckpointShapeError, match=reason) as err:
        decoder_parts(tmp_path)
    assert str(tmp_path / "config.json") in str(err.value)


def test_bad_parts_are_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "vit").mkdir()
    (tmp_path / "vit" / "config.json").write_text(json.dumps({"model_type": "vit", "hidden_size": 8}))
    with pytest.raises(CheckpointShapeError, match=r"vit.*config\.json.*not a DINOv2"):
        dinov2_parts(tmp_path / "vit")
    save_file({"text.weight": torch.zeros(2, 2)}, str(tmp_path / "clip.safetensors"))
    with pytest.raises(ValueError, match=r"clip\.safetensors: no ConvNeXt stem"):
        convnext_parts(tmp_path / "clip.safetensors", scale_channels=8)
    dino, conv = _dinov2(tmp_path / "dino", 0), _convnext(tmp_path / "convnext", 0)
    llm = _llm(tmp_path / "llm", 0, ["a small corpus of words"] * 20)
    parts = read_parts(dino, conv, llm)
    ids = {"vocab_size": 400, "image_token_id": 399, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2}
    with pytest.raises(CheckpointShapeError, match="multiple of 224"):
        auto_config(parts, image_size=200, **ids)
    assert auto_config(parts, image_size=448, **ids).num_image_tokens == 32 * 32
