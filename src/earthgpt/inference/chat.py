"""`earthgpt chat`: a multi-turn dialogue about one image, with visual prompts, and the answer's boxes and masks."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from earthgpt.data.conversation import Message
from earthgpt.data.imagery import ImageReadError, load_image
from earthgpt.data.records import ImageRef
from earthgpt.geometry import LabeledBox
from earthgpt.geometry.codec import parse_boxes
from earthgpt.geometry.masks import mask_polygons
from earthgpt.geometry.normalize import denormalize
from earthgpt.geometry.prompts import PromptError, VisualPrompt, region_name
from earthgpt.inference.output import Generation
from earthgpt.inference.predictor import INPUT_IMAGE, Predictor
from earthgpt.models.views import ViewPlan
from earthgpt.visualize import draw_boxes, draw_prompt, fill_mask, region_colour


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


def _numbers(text: str, count: int, flag: str, form: str) -> list[float]:
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise PromptError(f"{flag} {text!r}: expected {form} ({count} finite numbers in image pixels)")
    return values


def parse_point(text: str, flag: str = "--point") -> VisualPrompt:
    """``x,y`` in image pixels -> a point prompt; PromptError naming the flag."""
    x, y = _numbers(text, 2, flag, "x,y")
    return VisualPrompt.point(x, y)


def parse_box(text: str, flag: str = "--box") -> VisualPrompt:
    """``x1,y1,x2,y2`` in image pixels -> a box prompt (checked against the image later)."""
    x1, y1, x2, y2 = _numbers(text, 4, flag, "x1,y1,x2,y2")
    return VisualPrompt("box", ((x1, y1), (x2, y2)))


def read_scribble(path: str | Path, flag: str = "--scribble") -> VisualPrompt:
    """A scribble from a JSON file: a list of strokes ``[[[x, y], ...], ...]``, or ``{"strokes": ...}``, or a
    ``VisualPrompt.to_dict`` of any kind."""
    p = Path(path)
    try:
        data: Any = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PromptError(f"{flag} {p}: cannot read it as JSON ({err}); give a JSON list of strokes") from err
    try:
        if isinstance(data, dict) and "kind" in data:
            return VisualPrompt.from_dict(data)
        strokes = data["strokes"] if isinstance(data, dict) else data
        return VisualPrompt.scribble(strokes)
    except (KeyError, TypeError, ValueError) as err:
        raise PromptError(
            f"{flag} {p}: not a scribble ({err}); expected a list of strokes, each a list of [x, y] pixel points"
        ) from err


def check_zoom(plan: str, prompts: int) -> str:
    """A ``--zoom`` view plan (global, grid:K, region:K; ``ViewPlan.parse``) checked against the number of prompts."""
    try:
        parsed = ViewPlan.parse(plan)
    except ValueError as err:
        raise ValueError(f"--zoom: {err}") from err
    if parsed.kind == "region" and parsed.k > prompts:
        raise ValueError(
            f"--zoom {plan!r}: there is no {region_name(parsed.k - 1)}; {prompts} prompt(s) were given "
            "(--point/--box/--scribble, numbered in order)"
        )
    return plan


def validate_prompts(prompts: Sequence[VisualPrompt], width: int, height: int) -> list[VisualPrompt]:
    """Each prompt checked against the image; PromptError naming it (``<regionK>``, the K-th prompt flag)."""
    return [
        p.validate(width, height, f"{region_name(i)} (prompt {i + 1} of the command line)")
        for i, p in enumerate(prompts)
    ]


def masks_record(generations: Sequence[Generation]) -> list[dict[str, Any]]:
    """The masks of every answer as JSON-ready records: answer turn, index, COCO RLE and polygons."""
    out = []
    for turn, gen in enumerate(generations):
        for k, mask in enumerate(gen.masks or []):
            out.append({"turn": turn, "index": k, "rle": mask.to_dict(), "polygons": mask_polygons(mask.to_array())})
    return out


def chat(
    model_dir: str | Path,
    image: str | Path,
    questions: Sequence[str],
    draw: str | Path | None = None,
    max_new_tokens: int = 256,
    prompts: Sequence[VisualPrompt] = (),
    zoom: str = "",
    masks: str | Path | None = None,
) -> list[tuple[str, str]]:
    """Ask each question in turn about ``image`` (the dialogue carries over); returns (question, answer) pairs.

    ``prompts`` are the image's visual prompts (the K-th is ``<regionK>`` in the questions) and ``zoom`` the view plan
    (EarthGPT-X models only). With ``draw``, the boxes and masks of every answer are drawn on the image and saved there
    as PNG; with ``masks``, the masks are written there as JSON (RLE and polygons).
    """
    rgb = read_input_image(image)  # before the model: a bad image fails in a second, not after loading 7B weights
    h, w = rgb.shape[:2]
    prompts = validate_prompts(prompts, w, h)
    if zoom:
        check_zoom(zoom, len(prompts))
    predictor = Predictor.load(model_dir, max_new_tokens=max_new_tokens)
    if prompts or zoom:
        predictor.require_x("--point/--box/--scribble/--zoom")
    history: list[Message] = []
    pairs: list[tuple[str, str]] = []
    generations: list[Generation] = []
    for q in questions:
        gen = predictor.ask_generation(rgb, q, history, prompts=prompts, views=zoom)
        history = [*history, Message.user(q, None if history else INPUT_IMAGE), Message.assistant(gen.text)]
        pairs.append((q, gen.text))
        generations.append(gen)
    if masks is not None:
        Path(masks).parent.mkdir(parents=True, exist_ok=True)
        Path(masks).write_text(json.dumps(masks_record(generations), indent=1) + "\n", encoding="utf-8")
    if draw is not None:
        draw_answers(rgb, prompts, [b for _, a in pairs for b in answer_boxes(a, w, h)], generations, draw)
    return pairs


def draw_answers(
    rgb: np.ndarray,
    prompts: Sequence[VisualPrompt],
    boxes: Sequence[LabeledBox],
    generations: Sequence[Generation],
    path: str | Path,
) -> None:
    """Save ``rgb`` [H, W, 3] as PNG with the answers' masks filled, the prompts outlined and named, the boxes drawn."""
    im = Image.fromarray(rgb).convert("RGB")
    masks = [m for g in generations for m in g.masks or []]
    for k, mask in enumerate(masks):
        im = fill_mask(im, mask, region_colour(len(prompts) + k))
    pen = ImageDraw.Draw(im)
    for k, prompt in enumerate(prompts):
        draw_prompt(pen, prompt, region_name(k), region_colour(k))
    draw_boxes(np.asarray(im), boxes, path)
