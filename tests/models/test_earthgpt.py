"""The EarthGPT forward pass: visual-token scatter, loss (Eq. 14), padding, errors, safetensors checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from earthgpt.models import CheckpointMismatchError, EarthGPT, load_pretrained

from .conftest import BOS, IMAGE, PAD, images, left_pad, prompt

N = 100


def _batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    ids = torch.tensor([prompt(12, seed, N), prompt(12, seed + 1, N)])
    labels = ids.clone()
    labels[:, : 1 + N + 4] = -100  # no loss on BOS, image and the instruction
    return images(2, seed), ids, labels


@torch.no_grad()
def test_loss_is_mean_next_token_cross_entropy(tiny: EarthGPT) -> None:
    px, ids, labels = _batch()
    out = tiny(px, ids, torch.ones_like(ids), labels)
    assert out.logits.shape == (2, ids.shape[1], 512)
    v = out.logits.shape[-1]
    expected = F.cross_entropy(out.logits[:, :-1].reshape(-1, v), labels[:, 1:].reshape(-1), ignore_index=-100)
    assert out.loss is not None
    torch.testing.assert_close(out.loss, expected)


@torch.no_grad()
def test_visual_tokens_fill_the_placeholders_in_order(tiny: EarthGPT) -> None:
    px, ids, _ = _batch(3)
    embeds = tiny.embed_inputs(ids, px)  # [B, T, D]
    feats = tiny.encode_images(px)  # [B, N, D]
    mask = ids == IMAGE
    torch.testing.assert_close(embeds[mask].view(2, N, -1), feats)
    table = tiny.llm.get_input_embeddings().weight
    torch.testing.assert_close(embeds[~mask], table[ids[~mask]])


@torch.no_grad()
def test_image_only_affects_later_positions(tiny: EarthGPT) -> None:
    ids = torch.tensor([[BOS, 7, 8] + [IMAGE] * N + [9, 10, 11]])
    a = tiny(images(1, 0), ids).logits
    b = tiny(images(1, 1), ids).logits
    torch.testing.assert_close(a[:, :3], b[:, :3])
    assert (a[:, 3 + N :] - b[:, 3 + N :]).abs().max() > 1e-4


@torch.no_grad()
def test_left_padding_does_not_change_real_positions(tiny: EarthGPT) -> None:
    short, long = prompt(3, 5, N), prompt(11, 6, N)
    ids, mask = left_pad([short, long])
    px = images(2, 4)
    batched = tiny(px, ids, mask).logits
    alone = tiny(px[:1], torch.tensor([short])).logits
    torch.testing.assert_close(batched[0, -len(short) :], alone[0], rtol=1e-4, atol=1e-4)


@torch.no_grad()
def test_text_only_batch(tiny: EarthGPT) -> None:
    """Without images EarthGPT is its LLaMA: same logits and the same shifted cross-entropy (Eq. 14)."""
    ids = torch.tensor([[BOS, 5, 6, 7], [BOS, 8, 9, 10]])
    out = tiny(None, ids, torch.ones_like(ids), ids)
    plain = tiny.llm(input_ids=ids, labels=ids)
    torch.testing.assert_close(out.logits, plain.logits, rtol=0, atol=1e-6)
    expected = F.cross_entropy(plain.logits[:, :-1].reshape(-1, plain.logits.shape[-1]), ids[:, 1:].reshape(-1))
    assert out.loss is not None
    torch.testing.assert_close(out.loss, expected, rtol=1e-6, atol=1e-6)
    assert out.loss > 1.0  # a random model is far from certain (ln of the vocabulary is about 6.2)


def test_placeholder_errors(tiny: EarthGPT) -> None:
    ids = torch.tensor([prompt(4, 0, N), [PAD] + prompt(4, 1, N - 1)])
    with pytest.raises(ValueError, match="sample 1 holds 99 image placeholders"):
        tiny(images(2), ids)
    with pytest.raises(ValueError, match="no pixel_values"):
        tiny(None, ids)
    with pytest.raises(ValueError, match="1 images for 2 token rows"):
        tiny(images(1), ids)


def test_backward_reaches_projector_not_vision_backbones(tiny: EarthGPT) -> None:
    px, ids, labels = _batch(7)
    tiny.zero_grad()
    out = tiny(px, ids, None, labels)
    assert out.loss is not None
    out.loss.backward()
    proj = tiny.projector.layers[0].weight
    assert proj.grad is not None and proj.grad.abs().sum() > 0
    assert all(p.grad is None for p in tiny.vision.vit.parameters())
    assert all(p.grad is None for p in tiny.vision.cnn.model.parameters())  # type: ignore[union-attr]
    assert all(p.grad is not None for p in tiny.vision.cnn.scale_proj.parameters())  # type: ignore[union-attr]
    tiny.zero_grad(set_to_none=True)


@torch.no_grad()
def test_save_and_load_round_trip(tiny: EarthGPT, tmp_path: Path) -> None:
    tiny.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]
    loaded = load_pretrained(tmp_path)
    assert loaded.config == tiny.config
    px, ids, _ = _batch(9)
    torch.testing.assert_close(loaded(px, ids).logits, tiny(px, ids).logits, rtol=0, atol=0)


def test_load_mismatch_names_first_bad_key(tiny: EarthGPT, tmp_path: Path) -> None:
    tiny.save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["llm"]["intermediate_size"] = 700
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    key = "llm.model.layers.0.mlp.gate_proj.weight"
    with pytest.raises(CheckpointMismatchError, match=rf"'{key}' has shape \(688, 256\).*\(700, 256\)"):
        load_pretrained(tmp_path)

    tiny.save_pretrained(tmp_path)
    state = load_file(str(tmp_path / "model.safetensors"))
    state["extra.weight"] = torch.zeros(2)
    save_file(state, str(tmp_path / "model.safetensors"))
    with pytest.raises(CheckpointMismatchError, match=r"unexpected key 'extra.weight'"):
        load_pretrained(tmp_path)

    del state["extra.weight"], state["projector.layers.0.bias"]
    save_file(state, str(tmp_path / "model.safetensors"))
    with pytest.raises(CheckpointMismatchError, match=r"'projector.layers.0.bias' \(shape \(256,\)\) is missing"):
        load_pretrained(tmp_path)
