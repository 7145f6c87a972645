"""Every trainable parameter is inside the computation: one real training step gives each a non-zero gradient.

DDP stops with "parameters that were not used in producing loss" when one is not; the test covers every stage
(scratch, 1, 2) for the tiny size and for the paper's wiring (DINOv2 24 blocks / patch 14 / layers 6-12-18-24,
ConvNeXt depths 3-3-27-3, 224 px) scaled down in width so that it runs on a CPU.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from transformers import PreTrainedTokenizerBase

from earthgpt.cli import main
from earthgpt.data.conversation import Conversation
from earthgpt.models import EarthGPT, EarthGPTConfig, build_model, paper_config, tiny_config
from earthgpt.pipeline import corpus, fit, new_model, token_ids
from earthgpt.training.recipes import recipe
from earthgpt.training.stages import apply_stage, train_everything, unused_parameters

UNUSED_NAMES = {
    "vision.vit.model.embeddings.mask_token",
    "vision.vit.model.layernorm.weight",
    "vision.vit.model.layernorm.bias",
    "vision.cnn.model.layernorm.weight",
    "vision.cnn.model.layernorm.bias",
}


def paper_wiring(**ids: int) -> EarthGPTConfig:
    """The paper's layout with narrow parts: every block, stage and feature layer of the paper, few channels."""
    paper = paper_config(**ids)
    return replace(
        paper,
        name="paper-wiring",
        vit=replace(paper.vit, hidden_size=32, num_heads=2),
        cnn=replace(paper.cnn, hidden_sizes=(8, 16, 32, 64), scale_channels=16),
        llm=replace(paper.llm, hidden_size=64, num_layers=2, num_heads=4, intermediate_size=128),
    )


@pytest.fixture(scope="module")
def rsscn7(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Conversation], Path]:
    tmp = tmp_path_factory.mktemp("grad")
    config = tmp / "build.yaml"
    config.write_text("sources:\n  - name: rsscn7\n    root: rsscn7\n    splits: [train]\n", encoding="utf-8")
    build = tmp / "data"
    assert (
        main(["data", "build", "--config", str(config), "--data", str(data_root), "--out", str(build), "--quiet"]) == 0
    )
    return corpus(build)


def _model(size: str, stage: str, convs: list[Conversation]) -> tuple[EarthGPT, PreTrainedTokenizerBase]:
    model, tok = new_model(convs, "tiny", vocab_size=256, seed=0)
    if size == "paper-wiring":
        model = build_model(paper_wiring(**token_ids(tok)), seed=0)
    train_everything(model)  # scratch: every used parameter trainable
    if stage != "scratch":
        apply_stage(model, int(stage))
    return model, tok


def _gradients_of_one_step(
    model: EarthGPT, tok: PreTrainedTokenizerBase, stage: str, data: tuple[list[Conversation], Path], out: Path
) -> dict[str, float]:
    """|grad| summed per trainable parameter, recorded as backward accumulates it during one training step."""
    seen: dict[str, float] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            seen[name] = 0.0
            param.register_post_accumulate_grad_hook(
                lambda p, name=name: seen.__setitem__(name, seen[name] + float(p.grad.abs().sum()))  # type: ignore[union-attr]
            )
    convs, root = data
    config = recipe(stage, str(out), max_steps=1, batch_size=2, lr=1e-4, progress_bar=False)
    fit(model, tok, convs[:8], root, config, max_length=512)
    return seen


@pytest.mark.parametrize("size", ["tiny", "paper-wiring"])
@pytest.mark.parametrize("stage", ["scratch", "1", "2"])
def test_every_trainable_parameter_gets_a_gradient(
    size: str, stage: str, rsscn7: tuple[list[Conversation], Path], tmp_path: Path
) -> None:
    torch.manual_seed(0)
    model, tok = _model(size, stage, rsscn7[0])
    grads = _gradients_of_one_step(model, tok, stage, rsscn7, tmp_path)
    assert grads, "the stage trains nothing"
    without = sorted(name for name, total in grads.items() if total == 0.0)
    assert without == [], f"trainable but outside the computation: {without}"
    trainable = set(grads)
    assert not trainable & UNUSED_NAMES
    if stage == "scratch":  # everything else trains from scratch
        assert trainable | unused_parameters(model) == {n for n, _ in model.named_parameters()}


def test_unused_parameters_follow_the_feature_layers() -> None:
    ids = {"vocab_size": 64, "image_token_id": 63, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2}
    tiny = tiny_config(**ids)
    model = build_model(tiny, device="meta")
    assert unused_parameters(model) == UNUSED_NAMES
    shallow = replace(tiny, vit=replace(tiny.vit, feature_layers=(1, 2)), cnn=replace(tiny.cnn, feature_strides=(4, 8)))
    unused = unused_parameters(build_model(shallow, device="meta"))
    assert {n.split(".")[5] for n in unused if ".encoder.layer." in n} == {"2", "3"}  # blocks 3 and 4 feed nothing
    assert {n.split(".")[5] for n in unused if ".encoder.stages." in n} == {"2", "3"}  # strides 16 and 32 unused
