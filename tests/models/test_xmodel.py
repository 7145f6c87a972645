"""EarthGPT-X in the model: shapes through the whole model, the plain path unchanged, gradients, masks, checkpoints."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from earthgpt.models import EarthGPT, EarthGPTConfig, build_model, load_pretrained
from earthgpt.models.config import XConfig
from earthgpt.models.inputs import VisualInputs, forward_kwargs
from earthgpt.models.pixel.loss import mask_bce, mask_dice

from .conftest import make_tiny, tiny_cfg
from .xbatch import IMAGE, REGION, SEG, VIEW, N, S, Sample, XBatch, make_tiny_x, tiny_x_cfg, x_batch


@pytest.fixture(scope="module")
def xmodel() -> EarthGPT:
    """A shared tiny EarthGPT-X model: tests using it must not modify it."""
    return make_tiny_x()


def _run(model: EarthGPT, batch: XBatch, targets: bool = True) -> torch.Tensor:
    out = model(
        batch.pixel_values,
        batch.input_ids,
        batch.attention_mask,
        batch.labels,
        visual=batch.visual,
        mask_targets=batch.mask_targets if targets else None,
        masks_per_sample=batch.masks_per_sample if targets else None,
    )
    assert out.logits.shape == (*batch.input_ids.shape, 512)
    assert out.loss is not None and torch.isfinite(out.loss)
    return out.mask_logits if out.mask_logits is not None else torch.zeros(0, S, S)


def test_config_json_round_trip_and_old_configs_load(tmp_path: Path) -> None:
    cfg = tiny_x_cfg()
    cfg.save(tmp_path / "config.json")
    assert EarthGPTConfig.load(tmp_path / "config.json") == cfg
    assert json.loads((tmp_path / "config.json").read_text())["x"]["seg_token_id"] == SEG
    old = tiny_cfg().to_dict()
    del old["x"]  # a config.json written before EarthGPT-X
    (tmp_path / "old.json").write_text(json.dumps(old))
    assert EarthGPTConfig.load(tmp_path / "old.json").x is None


def test_x_config_is_checked() -> None:
    with pytest.raises(Exception, match="three different ids"):
        XConfig(region_token_id=4, seg_token_id=4, view_token_id=6)
    with pytest.raises(Exception, match=r"x\.region_token_id=3 .* reuses an image"):
        replace(tiny_x_cfg(), x=XConfig(region_token_id=IMAGE, seg_token_id=SEG, view_token_id=VIEW))


@torch.no_grad()
def test_without_x_inputs_logits_equal_plain_earthgpt() -> None:
    plain, x = make_tiny(), make_tiny_x()
    shared = plain.state_dict()
    assert all(torch.equal(v, x.state_dict()[k]) for k, v in shared.items())  # X parts are built after the rest
    batch = x_batch([Sample(), Sample()])
    want = plain(batch.pixel_values, batch.input_ids, batch.attention_mask, batch.labels)
    got = x(batch.pixel_values, batch.input_ids, batch.attention_mask, batch.labels)
    assert torch.equal(got.logits, want.logits) and torch.equal(got.loss, want.loss)  # type: ignore[arg-type]
    assert got.mask_logits is None and got.mask_loss is None
    assert set(plain.state_dict()) < set(x.state_dict())


@torch.no_grad()
@pytest.mark.parametrize("prompts", [0, 1, 3])
@pytest.mark.parametrize("views", [1, 5])
def test_shapes_with_prompts_and_views(xmodel: EarthGPT, prompts: int, views: int) -> None:
    boxes = ((10, 10, 40, 40), (80, 20, 120, 60), (60, 100, 150, 150))[:prompts]
    batch = x_batch([Sample(views=views, prompts=boxes, segs=1)])
    assert batch.pixel_values.shape == (views, 3, S, S)
    masks = _run(xmodel, batch)
    assert masks.shape == (1, S, S)


@torch.no_grad()
def test_mixed_prompt_counts_and_seg_counts_in_one_batch(xmodel: EarthGPT) -> None:
    samples = [
        Sample(views=1, prompts=(), segs=0),
        Sample(views=5, prompts=((10, 10, 40, 40),), segs=2),
        Sample(views=1, prompts=((0, 0, 20, 20), (50, 50, 90, 90), (100, 10, 150, 60)), segs=1),
    ]
    batch = x_batch(samples)
    assert batch.visual is not None and batch.visual.region_index is not None
    assert batch.visual.region_index.tolist() == [0, 1, 2, 3]  # global rows, offset by each sample's first prompt
    masks = _run(xmodel, batch)
    assert masks.shape == (3, S, S)
    # one sample alone gives the same masks as inside the batch (row-major order, per-sample image embeddings)
    alone = x_batch([samples[1]], seed=0)
    alone.pixel_values = batch.pixel_values[1:6]
    alone.visual = VisualInputs(
        num_views=torch.tensor([5]),
        prompt_maps=batch.visual.prompt_maps[:1],  # type: ignore[index]
        prompts_per_sample=torch.tensor([1]),
        region_index=torch.tensor([0]),
    )
    alone.input_ids, alone.labels = batch.input_ids[1:2], batch.labels[1:2]
    alone.attention_mask = batch.attention_mask[1:2]
    alone.mask_targets, alone.masks_per_sample = batch.mask_targets[:2], torch.tensor([2])  # type: ignore[index]
    torch.testing.assert_close(_run(xmodel, alone), masks[:2], atol=1e-4, rtol=1e-4)


@torch.no_grad()
def test_region_features_sit_at_the_placeholders(xmodel: EarthGPT) -> None:
    batch = x_batch([Sample(prompts=((10, 10, 40, 40), (80, 20, 120, 60)))])
    assert batch.visual is not None
    embeds = xmodel.embed_inputs(batch.input_ids, batch.pixel_values, visual=batch.visual)
    at = (batch.input_ids[0] == REGION).nonzero()[:, 0]
    assert len(at) == 2 and not torch.allclose(embeds[0, at[0]], embeds[0, at[1]])
    # swapping the region index swaps the two features
    swapped = replace(batch.visual, region_index=torch.tensor([1, 0]))
    other = xmodel.embed_inputs(batch.input_ids, batch.pixel_values, visual=swapped)
    assert torch.equal(other[0, at[0]], embeds[0, at[1]]) and torch.equal(other[0, at[1]], embeds[0, at[0]])
    # the prompt changes the (fused) image tokens of the global view
    plain = xmodel.embed_inputs(batch.input_ids.masked_fill(batch.input_ids == REGION, 9), batch.pixel_values)
    image = batch.input_ids[0] == IMAGE
    assert not torch.allclose(plain[0, image], embeds[0, image])


@torch.no_grad()
def test_views_get_their_view_embedding(fresh_x: EarthGPT) -> None:
    model = fresh_x
    model.view_embedding.weight.copy_(torch.arange(17.0).unsqueeze(1).expand(17, 256))  # type: ignore[union-attr]
    batch = x_batch([Sample(views=5)])
    embeds = model.embed_inputs(batch.input_ids, batch.pixel_values, visual=batch.visual)
    tokens = model.encode_images(batch.pixel_values)  # [5, N, D] without view embeddings
    image = (batch.input_ids[0] == IMAGE).nonzero()[:, 0]
    got = embeds[0, image].reshape(5, N, -1) - tokens
    torch.testing.assert_close(got, torch.arange(5.0).view(5, 1, 1).expand_as(got), atol=1e-5, rtol=0)
    assert int((batch.input_ids[0] == VIEW).sum()) == 5


@pytest.fixture
def fresh_x() -> EarthGPT:
    return make_tiny_x()


def test_one_step_reaches_every_x_part(fresh_x: EarthGPT) -> None:
    model = fresh_x.train()
    batch = x_batch([Sample(views=5, prompts=((10, 10, 60, 60),), segs=1), Sample(segs=2)])
    out = model(**forward_kwargs(vars(batch)))
    assert out.loss is not None and out.mask_loss is not None
    out.loss.backward()
    for part in ("prompt_encoder", "fusion", "region_encoder", "view_embedding", "seg_projector", "mask_decoder"):
        grads = [p.grad for n, p in getattr(model, part).named_parameters() if "iou_prediction" not in n]
        assert all(g is not None for g in grads), part
        assert sum(float(g.abs().sum()) for g in grads if g is not None) > 0, part


@torch.no_grad()
def test_loss_is_ce_plus_bce_plus_dice(xmodel: EarthGPT) -> None:
    batch = x_batch([Sample(segs=2)])
    out = xmodel(**forward_kwargs(vars(batch)))
    assert out.lm_loss is not None and out.mask_logits is not None and batch.mask_targets is not None
    bce = mask_bce(out.mask_logits, batch.mask_targets)
    dice = mask_dice(out.mask_logits, batch.mask_targets)
    torch.testing.assert_close(out.loss, 1.0 * out.lm_loss + 2.0 * bce + 0.5 * dice)


def test_mask_losses_by_hand() -> None:
    logits = torch.tensor([[[0.0, 2.0], [-1.0, 0.0]]])  # [1, 2, 2]
    target = torch.tensor([[[1.0, 1.0], [0.0, 0.0]]])
    p = torch.sigmoid(logits)
    bce = -(torch.log(p[0, 0, 0]) + torch.log(p[0, 0, 1]) + torch.log(1 - p[0, 1, 0]) + torch.log(1 - p[0, 1, 1])) / 4
    torch.testing.assert_close(mask_bce(logits, target), bce)
    inter = p[0, 0, 0] + p[0, 0, 1]
    dice = 1 - (2 * inter + 1) / (p.sum() + 2 + 1)
    torch.testing.assert_close(mask_dice(logits, target), dice)
    assert float(mask_dice(torch.full((1, 2, 2), -50.0), torch.zeros(1, 2, 2))) < 1e-6  # empty vs empty: no loss


@torch.no_grad()
def test_decode_masks_matches_the_forward_masks(xmodel: EarthGPT) -> None:
    batch = x_batch([Sample(views=5, segs=2)])
    full = xmodel.llm(
        inputs_embeds=xmodel.embed_inputs(batch.input_ids, batch.pixel_values, visual=batch.visual),
        output_hidden_states=True,
    )
    seg_hidden = full.hidden_states[-1][batch.input_ids == SEG]  # [2, D]
    want = xmodel(**forward_kwargs(vars(batch))).mask_logits
    got = xmodel.decode_masks(seg_hidden, batch.pixel_values)
    assert got.shape == (2, S, S)
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    assert xmodel.decode_masks(seg_hidden[:0], batch.pixel_values).shape == (0, S, S)


@torch.no_grad()
def test_save_load_round_trip(xmodel: EarthGPT, tmp_path: Path) -> None:
    batch = x_batch([Sample(views=5, prompts=((10, 10, 60, 60),), segs=1)])
    want = xmodel(**forward_kwargs(vars(batch)))
    xmodel.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["x"]["region_token_id"] == REGION
    loaded = load_pretrained(tmp_path)
    got = loaded(**forward_kwargs(vars(batch)))
    # Equal up to float rounding: weights read back from safetensors may sit at other memory alignments, which can
    # pick other SIMD kernels (measured: 6e-7 on logits of order 1); a wrong or missing tensor differs by far more.
    assert torch.allclose(got.logits, want.logits, rtol=0, atol=1e-5)
    assert got.mask_logits is not None and want.mask_logits is not None
    assert torch.allclose(got.mask_logits, want.mask_logits, rtol=0, atol=1e-5)


def test_bad_x_inputs_are_named(xmodel: EarthGPT) -> None:
    batch = x_batch([Sample(prompts=((10, 10, 40, 40),), segs=1)])
    with pytest.raises(ValueError, match="1 <region> placeholders but region_index lists 0"):
        xmodel(batch.pixel_values, batch.input_ids)
    with pytest.raises(ValueError, match=r"mask_targets \(2, 160, 160\) for 1 <seg>"):
        xmodel(batch.pixel_values, batch.input_ids, visual=batch.visual, mask_targets=torch.zeros(2, S, S))
    bad = replace(batch.visual, region_index=torch.tensor([3]))  # type: ignore[type-var]
    with pytest.raises(ValueError, match="points outside the 1 prompt maps"):
        xmodel(batch.pixel_values, batch.input_ids, visual=bad)
    views = x_batch([Sample(views=5)])
    with pytest.raises(ValueError, match=r"num_views=\[4\] does not fit 5 pixel rows"):
        xmodel(views.pixel_values, views.input_ids, visual=VisualInputs(num_views=torch.tensor([4])))
    plain = make_tiny()
    with pytest.raises(ValueError, match="no prompt encoder / mask decoder"):
        plain.embed_inputs(batch.input_ids, batch.pixel_values, visual=batch.visual)
    with pytest.raises(ValueError, match="no prompt encoder / mask decoder"):
        plain.decode_masks(torch.zeros(1, 256), batch.pixel_values)


def test_build_without_x_refuses_sam(tmp_path: Path) -> None:
    from earthgpt.models import PretrainedSources

    with pytest.raises(ValueError, match="config has no x part"):
        build_model(tiny_cfg(), pretrained=PretrainedSources(sam_dir=tmp_path))
