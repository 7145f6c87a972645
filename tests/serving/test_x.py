"""The extension field on a tiny EarthGPT-X model: prompts and a view plan go through the openai client's extra_body
to the Predictor, and every <seg> of the answer comes back as a mask (RLE + polygons) on the request's image."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import openai
import pytest
import torch
from PIL import Image
from torch import nn

from earthgpt.data.tokenizer import seg_token_id, train_tokenizer
from earthgpt.inference.predictor import Predictor
from earthgpt.models import build_model, tiny_config
from earthgpt.pipeline import token_ids, x_token_ids
from earthgpt.serving import ServeSettings, create_app
from tests.serving.harness import data_url, image_message, running


@pytest.fixture(scope="module")
def x_client() -> Iterator[openai.OpenAI]:
    """A server over a tiny X model whose LM head only ever says ``<seg>`` (so a random model segments)."""
    tok = train_tokenizer(["USER: what is <region1>? ASSISTANT: a ship <seg> near the harbour"] * 30, vocab_size=300)
    torch.manual_seed(0)
    predictor = Predictor(build_model(tiny_config(**token_ids(tok), **x_token_ids(tok))), tok, max_new_tokens=4)
    head = predictor.model.llm.lm_head
    forced = nn.Linear(head.in_features, head.out_features, bias=True)
    with torch.no_grad():
        forced.weight.zero_()
        forced.bias.zero_()
        forced.bias[seg_token_id(tok)] = 1.0
    predictor.model.llm.lm_head = forced
    with running(create_app(predictor, ServeSettings())) as url:
        yield openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=120)


def _png(width: int, height: int) -> str:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)).save(buf, "PNG")
    return data_url(buf.getvalue())


def _extra(resp: Any) -> dict[str, Any]:
    out: dict[str, Any] = resp.choices[0].message.model_extra["earthgpt"]
    return out


def test_prompts_reach_the_model_and_each_seg_is_a_mask_on_the_image(x_client: openai.OpenAI) -> None:
    resp = x_client.chat.completions.create(
        model="earthgpt",
        messages=image_message("segment <region1>", _png(120, 90)),
        max_tokens=2,
        temperature=0,
        extra_body={"earthgpt": {"prompts": [{"kind": "box", "points": [[10, 10], [60, 50]]}]}},
    )
    assert resp.choices[0].message.content == "<seg><seg>"
    masks = _extra(resp)["masks"]
    assert len(masks) == 2 and all(m["rle"]["size"] == [90, 120] for m in masks)
    for m in masks:  # every polygon vertex lies on the image
        for ring in m["polygons"]:
            assert all(0 <= x <= 120 for x in ring[0::2]) and all(0 <= y <= 90 for y in ring[1::2])


def test_a_view_plan_and_a_plain_question_on_an_x_model(x_client: openai.OpenAI) -> None:
    for extra in ({"earthgpt": {"views": "grid:2"}}, {}):
        resp = x_client.chat.completions.create(
            model="earthgpt",
            messages=image_message("segment it", _png(64, 48)),
            max_tokens=1,
            temperature=0,
            extra_body=extra,
        )
        assert [m["rle"]["size"] for m in _extra(resp)["masks"]] == [[48, 64]]


def test_a_region_without_its_prompt_is_named(x_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        x_client.chat.completions.create(
            model="earthgpt", messages=image_message("what is <region2>?", _png(64, 48)), max_tokens=1
        )
    assert "<region2>" in err.value.message
