"""`earthgpt data show` draws a conversation's visual prompts in their <regionK> colours and fills its masks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from earthgpt.cli import main
from earthgpt.data.conversation import Conversation, Message
from earthgpt.data.records import ImageRef
from earthgpt.geometry.boxes import HBB, OBB
from earthgpt.geometry.prompts import RleMask, VisualPrompt
from earthgpt.visualize import MASK_ALPHA, region_colour

FRAME = "hit_uav/normal_xml/JPEGImages/0_100_30_0_03280.jpg"  # a real 640 x 512 thermal frame
ZOOM = 512 / 640  # data show draws the image 512 px wide


def _rect_mask(x1: int, y1: int, x2: int, y2: int) -> RleMask:
    m = np.zeros((512, 640), bool)
    m[y1:y2, x1:x2] = True
    return RleMask.from_array(m)


PROMPTS = (
    VisualPrompt.point(100, 100),
    VisualPrompt.box(HBB(200, 50, 300, 150)),
    VisualPrompt.obb(OBB((450, 50, 550, 100, 500, 200, 400, 150))),
    VisualPrompt.polygon([(100, 300), (200, 300), (150, 400)]),
    VisualPrompt.scribble([[(300, 300), (400, 300)]]),
    VisualPrompt.from_mask(_rect_mask(500, 350, 600, 450)),
)
SEG_MASK = _rect_mask(20, 440, 120, 500)


def _build(tmp_path: Path, convs: list[Conversation], root: Path) -> Path:
    """A finished build folder holding ``convs`` (the layout `data show` reads)."""
    out = tmp_path / "build"
    out.mkdir()
    (out / "conv.jsonl").write_text("".join(json.dumps(c.to_dict()) + "\n" for c in convs))
    manifest = {"shards": [{"files": {"conversations": "conv.jsonl"}}], "conversations": len(convs)}
    (out / "manifest.json").write_text(json.dumps(manifest | {"config": {"data_root": str(root)}}))
    return out


def _render(build: Path, which: str, png: Path, root: Path, capsys: pytest.CaptureFixture[str]) -> np.ndarray:
    assert main(["data", "show", str(build), which, "--png", str(png), "--data", str(root)]) == 0
    assert capsys.readouterr().out.strip() == str(png)
    with Image.open(png) as im:
        return np.asarray(im.convert("RGB"))[:, :512].astype(int)  # the picture, left of the dialogue


def test_show_draws_every_prompt_kind_and_fills_masks(
    data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = ImageRef(path=FRAME, width=640, height=512, modality="infrared")
    names = " ".join(f"<region{k + 1}>" for k in range(len(PROMPTS)))
    question = Message.user(f"What are {names}? Segment the person.", image)
    x = Conversation("x", (question, Message.assistant("cars <seg>")), prompts=PROMPTS, masks=(SEG_MASK,))
    plain = Conversation("plain", (Message.user("What is here?", image), Message.assistant("cars")))
    build = _build(tmp_path, [x, plain], data_root)
    drawn = _render(build, "x", tmp_path / "x.png", data_root, capsys)
    bare = _render(build, "plain", tmp_path / "plain.png", data_root, capsys)

    def at(x: float, y: float) -> tuple[int, ...]:
        return tuple(drawn[round(y * ZOOM), round(x * ZOOM)])

    assert at(100, 100) == region_colour(0)  # the point's dot
    assert at(250, 150) == region_colour(1) and at(200, 100) == region_colour(1)  # the box's outline
    assert tuple(drawn[80, 440]) == region_colour(2)  # the OBB's first corner, (550, 100) zoomed
    assert at(150, 300) == region_colour(3)  # the polygon's top edge
    assert at(350, 300) == region_colour(4)  # the scribble's line
    assert at(250, 100) == tuple(bare[80, 200])  # inside the box: the image, untouched
    # masks: the image blended with the colour at MASK_ALPHA
    inside = drawn[round(400 * ZOOM), round(550 * ZOOM)]
    want = bare[round(400 * ZOOM), round(550 * ZOOM)] * (1 - MASK_ALPHA) + np.array(region_colour(5)) * MASK_ALPHA
    assert np.abs(inside - want).max() <= 1
    seg = drawn[round(480 * ZOOM), round(70 * ZOOM)]
    assert np.abs(seg - bare[round(480 * ZOOM), round(70 * ZOOM)]).max() > 20  # the <seg> mask is filled
    outside = (round(250 * ZOOM), round(600 * ZOOM))  # nothing drawn there
    assert tuple(drawn[outside]) == tuple(bare[outside])
    # the names: text in the prompt's colour just above its top-left corner
    above = drawn[round(50 * ZOOM) - 14 : round(50 * ZOOM), round(200 * ZOOM) : round(200 * ZOOM) + 60]
    assert (np.abs(above - np.array(region_colour(1))).sum(axis=-1) < 60).any()
