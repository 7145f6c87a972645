"""Eqs. 1-7 on the tiny model: branch outputs against step-by-step reference computations, grid alignment, errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from earthgpt.models import EarthGPT
from earthgpt.models.vision import HybridEncoder, MultiScaleCNN, align_to_grid

from .conftest import images

# published normalisation statistics: ImageNet (DINOv2) and OpenAI CLIP (CLIP ConvNeXt)
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
CLIP = ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))


def _normalise(x: torch.Tensor, stats: tuple[tuple[float, ...], tuple[float, ...]]) -> torch.Tensor:
    mean = torch.tensor(stats[0]).view(1, 3, 1, 1)
    std = torch.tensor(stats[1]).view(1, 3, 1, 1)
    return (x - mean) / std


def test_align_to_grid_hand_cases() -> None:
    x = torch.arange(16.0).view(1, 1, 4, 4)
    pooled = align_to_grid(x, 2)  # mean of each 2x2 quadrant
    assert torch.equal(pooled, torch.tensor([[[[2.5, 4.5], [10.5, 12.5]]]]))
    torch.testing.assert_close(align_to_grid(torch.full((1, 2, 1, 1), 7.0), 3), torch.full((1, 2, 3, 3), 7.0))
    # bilinear, cell centres aligned: [0, 1] -> [0, 0.25, 0.75, 1] along each axis
    up = align_to_grid(torch.tensor([[[[0.0, 1.0], [0.0, 1.0]]]]), 4)
    torch.testing.assert_close(up[0, 0, 0], torch.tensor([0.0, 0.25, 0.75, 1.0]))
    assert align_to_grid(x, 4) is x


@torch.no_grad()
def test_vit_branch_is_concat_of_chosen_block_outputs(tiny: EarthGPT) -> None:
    """V_a^1 = Block_1(embed(I)), V_a^i = Block_i(V_a^{i-1}); V_a = concat of blocks 2 and 4, CLS dropped."""
    vit = tiny.vision.vit
    x = images(2)
    dino = vit.model  # type: ignore[union-attr]
    h = dino.embeddings(_normalise(x, IMAGENET))  # [B, 1 + N, C]
    outputs = []
    for block in dino.encoder.layer:
        h = block(h)
        outputs.append(h)
    expected = torch.cat([outputs[1][:, 1:], outputs[3][:, 1:]], dim=-1)
    got = vit(x)
    assert got.shape == (2, 100, 2 * 192)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_cnn_branch_matches_manual_pyramid(tiny: EarthGPT) -> None:
    """Stage maps at strides 4/8/16/32 (40/20/10/5 px at 160 px) -> 10x10 grid -> 1x1 projection -> concat."""
    cnn = tiny.vision.cnn
    assert isinstance(cnn, MultiScaleCNN)
    x = images(2, seed=1)
    h = cnn.model.embeddings(_normalise(x, CLIP))
    maps = []
    for stage in cnn.model.encoder.stages:
        h = stage(h)
        maps.append(h)
    assert [m.shape[-1] for m in maps] == [40, 20, 10, 5]
    aligned = [
        F.avg_pool2d(maps[0], 4),
        F.avg_pool2d(maps[1], 2),
        maps[2],
        F.interpolate(maps[3], scale_factor=2, mode="bilinear", align_corners=False),
    ]
    tokens = []
    for fmap, proj in zip(aligned, cnn.scale_proj, strict=True):
        w = proj.weight[:, :, 0, 0]  # [D, C]
        out = torch.einsum("bchw,dc->bhwd", fmap, w) + proj.bias  # [B, G, G, D]
        tokens.append(out.reshape(2, 100, -1))
    expected = torch.cat(tokens, dim=-1)
    got = cnn(x)
    assert got.shape == (2, 100, 4 * 64)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_hybrid_and_projector_follow_eq7(tiny: EarthGPT) -> None:
    x = images(2, seed=2)
    vision = tiny.vision
    both = vision(x)
    torch.testing.assert_close(both, torch.cat([vision.vit(x), vision.cnn(x)], dim=-1))
    linear = tiny.projector.layers[0]
    torch.testing.assert_close(tiny.encode_images(x), both @ linear.weight.T + linear.bias, rtol=1e-5, atol=1e-5)


def test_one_interface_for_branches_and_hybrid(tiny: EarthGPT) -> None:
    v = tiny.vision
    assert (v.vit.embed_dim, v.vit.num_tokens, v.vit.image_size) == (384, 100, 160)
    assert (v.cnn.embed_dim, v.cnn.num_tokens, v.cnn.image_size) == (256, 100, 160)
    assert (v.embed_dim, v.num_tokens, v.image_size, v.grid_size) == (640, 100, 160, 10)
    assert (tiny.num_image_tokens, tiny.image_size) == (100, 160)


def test_branches_normalise_with_their_own_statistics(tiny: EarthGPT) -> None:
    v = tiny.vision
    for branch, stats in ((v.vit, IMAGENET), (v.cnn, CLIP)):
        grey = torch.tensor(stats[0]).view(1, 3, 1, 1).expand(1, 3, 4, 4)
        assert torch.allclose(branch.normalizer(grey), torch.zeros(1, 3, 4, 4), atol=1e-7)  # type: ignore[operator]


def test_vision_encoders_are_frozen_and_run_without_graph(tiny: EarthGPT) -> None:
    backbones = (*tiny.vision.vit.model.parameters(), *tiny.vision.cnn.model.parameters())  # type: ignore[union-attr]
    assert not any(p.requires_grad for p in backbones)
    assert all(p.requires_grad for p in tiny.vision.cnn.scale_proj.parameters())  # type: ignore[union-attr]
    assert not tiny.vision.vit(images(1)).requires_grad


def test_bad_image_shape_and_mismatched_grids(tiny: EarthGPT) -> None:
    with pytest.raises(ValueError, match=r"\[B, 3, 160, 160\]"):
        tiny.vision(torch.rand(1, 3, 128, 128))
    cnn = tiny.vision.cnn
    other = MultiScaleCNN(cnn.model, 160, 8, (4, 8), 16, CLIP[0], CLIP[1])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="branches disagree"):
        HybridEncoder(tiny.vision.vit, other)
