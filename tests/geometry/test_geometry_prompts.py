"""Visual prompts and RLE masks: validation names the prompt, JSON and RLE round trips, RLE equal to pycocotools."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from earthgpt.data.conversation import Conversation, Message
from earthgpt.geometry import HBB, OBB
from earthgpt.geometry.prompts import PromptError, RleMask, VisualPrompt, region_name


def test_rle_equals_pycocotools_and_round_trips() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        mask = (rng.random((h, w)) < rng.random()).astype(np.uint8)
        rle = RleMask.from_array(mask)
        assert rle.counts == mask_utils.encode(np.asfortranarray(mask))["counts"].decode()
        assert np.array_equal(rle.to_array(), mask.astype(bool))
        assert RleMask.from_dict(rle.to_dict()) == rle


def test_rle_by_hand() -> None:
    # column-major [[0, 1], [1, 1]] -> 0, 1, 1, 1 -> runs off 1, on 3 -> text "13" ("1" = 48 + 1, "3" = 48 + 3)
    rle = RleMask.from_array(np.array([[0, 1], [1, 1]]))
    assert rle.counts == "13"
    assert RleMask.from_dict({"size": [2, 2], "counts": [1, 3]}) == rle


@pytest.mark.parametrize(
    "prompt",
    [
        VisualPrompt.point(3, 4),
        VisualPrompt.box(HBB(1, 2, 5, 6)),
        VisualPrompt.obb(OBB((1, 1, 5, 1, 5, 3, 1, 3))),
        VisualPrompt.polygon([(0, 0), (4, 0), (2, 3)]),
        VisualPrompt.scribble([[(1, 1), (2, 2)], [(5, 5)]]),
        VisualPrompt.from_mask(RleMask.from_array(np.ones((10, 10)))),
    ],
)
def test_prompt_json_round_trip(prompt: VisualPrompt) -> None:
    assert VisualPrompt.from_dict(prompt.to_dict()) == prompt.validate(10, 10)


@pytest.mark.parametrize(
    ("prompt", "words"),
    [
        (VisualPrompt.point(math.nan, 2), "not a finite number"),
        (VisualPrompt.point(11, 2), "outside the 10x10 px image"),
        (VisualPrompt.scribble([]), "empty stroke"),
        (VisualPrompt.scribble([[]]), "empty stroke"),
        (VisualPrompt("box", ((5, 5), (1, 1))), "x2 > x1"),
        (VisualPrompt("polygon", ((0, 0), (1, 1))), "at least 3 vertices"),
        (VisualPrompt.from_mask(RleMask.from_array(np.ones((4, 4)))), "draw the mask on this image"),
    ],
)
def test_bad_prompts_are_named(prompt: VisualPrompt, words: str) -> None:
    with pytest.raises(PromptError, match=words) as err:
        prompt.validate(10, 10, name="prompt 2")
    assert "prompt 2" in str(err.value)


def test_conversation_carries_prompts_masks_and_views() -> None:
    conv = Conversation(
        "c",
        (Message.user(f"What is {region_name(0)}?"), Message.assistant("<seg>")),
        prompts=(VisualPrompt.point(1, 2),),
        masks=(RleMask.from_array(np.eye(3)),),
        views="grid:2",
    )
    assert region_name(0) == "<region1>"
    assert Conversation.from_dict(conv.to_dict()) == conv
    assert "prompts" not in Conversation("d", conv.messages).to_dict()
