"""`earthgpt chat`: a multi-turn dialogue about one image, with the answer's boxes drawn on request."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from earthgpt.data.conversation import Message
from earthgpt.data.imagery import ImageReadError, load_image
from earthgpt.data.records import ImageRef
from earthgpt.geometry import LabeledBox
from earthgpt.geometry.codec import parse_boxes
from earthgpt.geometry.normalize import denormalize
from earthgpt.inference.predictor import Predictor
from earthgpt.visualize import draw_boxes


def answer_boxes(answer: str, width: int, height: int) -> list[LabeledBox]:
    """The boxes of an answer in the pixels of a ``width`` x ``height`` image (problems are ignored here)."""
    return [LabeledBox(b.label, denormalize(b.box, width, height)) for b in parse_boxes(answer).boxes]


def read_input_image(image: str | Path) -> np.ndarray:
    """The chat image as [H, W, 3] uint8; ImageReadError naming the file and the fix if it cannot be read."""
    try:
        return load_image(ImageRef(path=str(image), width=0, height=0))
    except ImageReadError as err:
        fix = f"{err.fix}; pass a readable JPEG, PNG or TIFF/GeoTIFF file to --image"
        raise ImageReadError(err.path, err.problem, fix, err.over_budget) from err


def chat(
    model_dir: str | Path,
    image: str | Path,
    questions: Sequence[str],
    draw: str | Path | None = None,
    max_new_tokens: int = 256,
) -> list[tuple[str, str]]:
    """Ask each question in turn about ``image`` (the dialogue carries over); returns (question, answer) pairs.

    With ``draw``, the boxes of every answer are drawn on the image and saved there as PNG.
    """
    rgb = read_input_image(image)  # before the model: a bad image fails in a second, not after loading 7B weights
    predictor = Predictor.load(model_dir, max_new_tokens=max_new_tokens)
    history: list[Message] = []
    pairs: list[tuple[str, str]] = []
    for q in questions:
        answer, history = predictor.ask(rgb, q, history)
        pairs.append((q, answer))
    if draw is not None:
        h, w = rgb.shape[:2]
        boxes = [b for _, a in pairs for b in answer_boxes(a, w, h)]
        draw_boxes(rgb, boxes, draw)
    return pairs
