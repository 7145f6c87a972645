"""The Predictor's EarthGPT-X path on a tiny X model: prompts and views reach the model, every generated <seg>
becomes a mask on the input image (from the states taken while decoding), and bad prompts are named."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from earthgpt.data.conversation import Message
from earthgpt.data.tokenizer import seg_token_id, train_tokenizer
from earthgpt.geometry.prompts import PromptError, VisualPrompt
from earthgpt.inference.predictor import INPUT_IMAGE, Predictor
from earthgpt.inference.xrequest import build_request, masks_on_image
from earthgpt.models import build_model, tiny_config
from earthgpt.models.views import ViewPlan, plan_views, view_pixels
from earthgpt.pipeline import token_ids, x_token_ids


@pytest.fixture(scope="module")
def xpredictor() -> Predictor:
    tok = train_tokenizer(["USER: what is <region1>? ASSISTANT: a ship <seg> near the harbour"] * 30, vocab_size=300)
    torch.manual_seed(0)
    model = build_model(tiny_config(**token_ids(tok), **x_token_ids(tok)))
    return Predictor(model, tok, max_new_tokens=6)


def _rgb(h: int = 90, w: int = 120) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 255, (h, w, 3), dtype=np.uint8)


def _always_seg(p: Predictor) -> nn.Module:
    """Swap in an LM head whose only output is ``<seg>`` (so the random model segments at every step); returns the
    original head to put back."""
    head = p.model.llm.lm_head
    forced = nn.Linear(head.in_features, head.out_features, bias=True)
    nn.init.zeros_(forced.weight)
    with torch.no_grad():
        forced.bias.zero_()
        forced.bias[seg_token_id(p.tok)] = 1.0
    p.model.llm.lm_head = forced
    return head


def test_prompts_and_views_reach_the_model(xpredictor: Predictor) -> None:
    p = xpredictor
    rgb = _rgb()
    dialogue = [Message.user("what is <region1>?", INPUT_IMAGE)]
    point = [VisualPrompt.point(30, 40)]
    plain = p.generate([rgb], [dialogue], prompts=[point], max_new_tokens=4)[0]
    zoomed = p.generate([rgb], [dialogue], prompts=[point], views="grid:2", max_new_tokens=4)[0]
    elsewhere = p.generate([rgb], [dialogue], prompts=[[VisualPrompt.point(100, 80)]], max_new_tokens=4)[0]
    assert plain.prompt_tokens is not None and zoomed.prompt_tokens is not None
    assert zoomed.prompt_tokens > plain.prompt_tokens + 4 * p.model.num_image_tokens  # 5 views of N tokens
    assert plain.token_logprobs != elsewhere.token_logprobs  # the prompt changes what the model sees
    # the batch of two different requests answers as each alone
    both = p.generate([rgb, rgb], [dialogue, dialogue], prompts=[point, point], views=["", "grid:2"], max_new_tokens=4)
    assert [g.text for g in both] == [plain.text, zoomed.text]
    torch.testing.assert_close(
        torch.tensor(both[1].token_logprobs), torch.tensor(zoomed.token_logprobs), atol=1e-4, rtol=0
    )


def test_every_seg_becomes_a_mask_on_the_image(xpredictor: Predictor) -> None:
    p = xpredictor
    rgb = _rgb()
    dialogue = [Message.user("segment <region1>", INPUT_IMAGE)]
    box = [VisualPrompt("box", ((10.0, 10.0), (60.0, 50.0)))]
    head = _always_seg(p)
    try:
        gen = p.generate([rgb], [dialogue], prompts=[box], max_new_tokens=2)[0]
        request = build_request(p.template, rgb, dialogue, box, "", p.model.image_size)
        ids = torch.tensor([request.input_ids + [seg_token_id(p.tok)] * 2])
        from earthgpt.inference.xrequest import batch_visual

        px, visual = batch_visual([request])
        embeds = p.model.embed_inputs(ids, px, visual=visual)
        hidden = p.model.llm.model(inputs_embeds=embeds).last_hidden_state[0, -2:]  # [2, D] at the two <seg>
        expected = masks_on_image(p.model.decode_masks(hidden, request.pixels), request)
    finally:
        p.model.llm.lm_head = head
    assert gen.text == "<seg><seg>" and gen.finish_reason == "length"
    assert gen.masks is not None and len(gen.masks) == 2
    assert all((m.height, m.width) == (90, 120) for m in gen.masks)
    for got, want in zip(gen.masks, expected, strict=True):
        agree = (got.to_array() == want.to_array()).mean()
        assert agree > 0.999  # the same states, taken while decoding instead of teacher-forced


def test_views_are_the_planned_windows(xpredictor: Predictor) -> None:
    rgb = _rgb()
    request = build_request(xpredictor.template, rgb, [Message.user("what is here?", INPUT_IMAGE)], [], "grid:2", 160)
    windows = plan_views(ViewPlan.parse("grid:2"), 120, 90, [])
    assert torch.equal(request.pixels, torch.from_numpy(view_pixels(rgb, windows, 160)))
    assert request.pixels.shape == (5, 3, 160, 160) and request.prompt_maps.shape == (0, 160, 160)


def test_bad_x_requests_are_named(xpredictor: Predictor) -> None:
    p = xpredictor
    dialogue = [Message.user("what is <region1>?", INPUT_IMAGE)]
    with pytest.raises(PromptError, match=r"<region1>.*outside the 120x90 px image"):
        p.generate([_rgb()], [dialogue], prompts=[[VisualPrompt.point(130, 4)]])
    with pytest.raises(PromptError, match="<region2>"):
        p.generate([_rgb()], [[Message.user("what is <region2>?", INPUT_IMAGE)]], prompts=[[VisualPrompt.point(3, 4)]])
    with pytest.raises(ValueError, match="pass the RGB image"):
        p.generate([p.pixels(_rgb())], [dialogue], prompts=[[VisualPrompt.point(3, 4)]])
    with pytest.raises(ValueError, match="view plan 'grid:9'"):
        p.generate([_rgb()], [[Message.user("what is here?", INPUT_IMAGE)]], views="grid:9")


@pytest.mark.parametrize(
    ("prompts", "match"),
    [
        ([VisualPrompt.point(float("nan"), 4)], r"<region1> \(point\).*\(nan, 4.0\) is not a finite number"),
        ([VisualPrompt.scribble([[]])], r"<region1> \(scribble\).*empty stroke"),
        ([VisualPrompt.scribble([])], r"<region1> \(scribble\).*empty stroke"),
        ([VisualPrompt.point(3, 4), VisualPrompt.point(5, 6)], r"<region2> is never named.*\(2 prompts\)"),
        ([], r"names <region1> but there are 0 prompts"),
    ],
)
def test_bad_prompts_are_named_before_the_model_runs(
    xpredictor: Predictor, prompts: list[VisualPrompt], match: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NaN, an empty scribble, more or fewer prompts than the text names: a PromptError naming the prompt, raised
    before any tensor reaches the model."""
    p = xpredictor
    dialogue = [Message.user("what is <region1>?", INPUT_IMAGE)]
    calls: list[int] = []
    embed = p.model.embed_inputs

    def counted(*args: object, **kwargs: object) -> torch.Tensor:
        calls.append(1)
        return embed(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(p.model, "embed_inputs", counted)
    with pytest.raises(PromptError, match=match):
        p.generate([_rgb()], [dialogue], prompts=[prompts])
    assert not calls
    p.generate([_rgb()], [dialogue], prompts=[[VisualPrompt.point(3, 4)]])
    assert calls  # the request would have reached the model here


def test_an_x_model_answers_plain_requests_from_tensors_or_arrays(xpredictor: Predictor) -> None:
    p = xpredictor
    dialogue = [Message.user("what is here?", INPUT_IMAGE)]
    from_array = p.generate([_rgb()], [dialogue], max_new_tokens=4)[0]
    from_tensor = p.generate([p.pixels(_rgb())], [dialogue], max_new_tokens=4)[0]
    assert from_tensor.text == from_array.text and from_tensor.masks == from_array.masks == []
