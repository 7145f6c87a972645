"""Render one built conversation: its image with the boxes read back from the text, its visual prompts (named
``<regionK>``) and masks, and the dialogue beside it."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from earthgpt.data.corpus.manifest import iter_conversations, read_manifest
from earthgpt.data.imagery import load_image
from earthgpt.data.records import ImageRef
from earthgpt.geometry import LabeledBox
from earthgpt.geometry.codec import parse_boxes
from earthgpt.geometry.normalize import denormalize
from earthgpt.geometry.prompts import RleMask, VisualPrompt, region_name
from earthgpt.visualize import colour, draw_box, draw_prompt, fill_mask, region_colour

VIEW = 512  # longer side of the drawn image, in screen pixels
PANEL = 520  # width of the text panel
MAX_LINES = 70
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def find_conversation(out_dir: str | Path, which: str | int) -> dict[str, Any]:
    """The stored conversation with id ``which`` (str) or at position ``which`` (int, build order)."""
    for n, conv in enumerate(iter_conversations(out_dir)):
        if conv["id"] == which or n == which:
            return conv
    total = read_manifest(out_dir)["conversations"]
    what = f"index {which} (the build has {total})" if isinstance(which, int) else f"id {which!r}"
    raise KeyError(f"no conversation with {what} in {out_dir}; `earthgpt data stats` lists what was built")


def _text(msg: dict[str, Any]) -> str:
    return "".join(p["text"] for p in msg["content"] if p["type"] == "text")


def conversation_boxes(conv: dict[str, Any], width: int, height: int) -> list[LabeledBox]:
    """Boxes of the answers (or, when the answers hold none, of the questions: region captions), read with the box
    codec and taken back to the pixels of the ``width`` x ``height`` image the model sees."""
    for role in ("assistant", "user"):
        found = [b for m in conv["messages"] if m["role"] == role for b in parse_boxes(_text(m)).boxes]
        if found:  # a question's "label" is the text before its box: not a label
            return [
                LabeledBox(b.label if role == "assistant" else "", denormalize(b.box, width, height)) for b in found
            ]
    return []


def _dialogue(conv: dict[str, Any], font: Font) -> list[str]:
    """The dialogue as wrapped lines for the text panel."""
    char = max(1.0, font.getlength("abcdefghij") / 10) if hasattr(font, "getlength") else 6.0
    width = max(20, int((PANEL - 16) / char))
    lines = [f"{conv['id']}  [{conv.get('source', '')} / {conv.get('task', '')} / {conv.get('modality', '')}]", ""]
    for m in conv["messages"]:
        lines += textwrap.wrap(f"{m['role'].upper()}: {_text(m)}", width) or [f"{m['role'].upper()}:"]
        lines.append("")
    if len(lines) > MAX_LINES:
        lines = [*lines[: MAX_LINES - 1], f"... ({len(lines) - MAX_LINES + 1} more lines)"]
    return lines


def mask_colour(index: int) -> tuple[int, int, int]:
    """The fill colour of the conversation's mask at 0-based ``index`` (the target of its ``<seg>`` number
    ``index + 1``)."""
    return colour(f"<seg>{index + 1}")


def _picture(conv: dict[str, Any], ref: ImageRef, root: str | Path | None, font: Font) -> Image.Image:
    """The image (tile window cut as the model sees it) zoomed to :data:`VIEW`, with the masks filled, then the
    boxes of the text and the prompts drawn on it."""
    rgb = load_image(ref, root)  # [H, W, 3] uint8, the model's view of the record
    zoom = VIEW / max(rgb.shape[0], rgb.shape[1])
    size = (max(1, round(rgb.shape[1] * zoom)), max(1, round(rgb.shape[0] * zoom)))
    picture = Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR)
    prompts = [VisualPrompt.from_dict(p) for p in conv.get("prompts", ())]
    masks = [RleMask.from_dict(m) for m in conv.get("masks", ())]
    for k, prompt in enumerate(prompts):
        if prompt.mask is not None:
            picture = fill_mask(picture, prompt.mask, region_colour(k))
    for i, mask in enumerate(masks):
        picture = fill_mask(picture, mask, mask_colour(i))
    draw = ImageDraw.Draw(picture)
    for b in conversation_boxes(conv, ref.width, ref.height):
        draw_box(draw, b.box, b.label, zoom, font)
    for i, mask in enumerate(masks):
        rows, cols = np.nonzero(mask.to_array())
        if rows.size:
            xy = (float(cols.min()) * zoom + 2, max(0.0, float(rows.min()) * zoom - 14))
            draw.text(xy, f"<seg> {i + 1}", fill=mask_colour(i), font=font)
    for k, prompt in enumerate(prompts):
        draw_prompt(draw, prompt, region_name(k), region_colour(k), zoom, font)
    return picture


def show(out_dir: str | Path, which: str | int, png_path: str | Path, *, data_root: str | Path | None = None) -> Path:
    """Draw conversation ``which`` (its id, or its index in build order) of the build in ``out_dir`` to
    ``png_path``: the image (tile window cut as the model sees it) with its boxes, prompts and masks, and the
    dialogue beside it.
    ``data_root`` defaults to the build's own. Raises KeyError for an unknown conversation and
    ``ImageReadError`` naming the file if the image cannot be read."""
    conv = find_conversation(out_dir, which)
    root = data_root if data_root is not None else read_manifest(out_dir)["config"]["data_root"]
    font = ImageFont.load_default(size=13)
    ref = next(
        (ImageRef.from_dict(p["image"]) for m in conv["messages"] for p in m["content"] if p["type"] == "image"), None
    )
    picture = Image.new("RGB", (VIEW, VIEW), (40, 40, 40)) if ref is None else _picture(conv, ref, root, font)
    lines = _dialogue(conv, font)
    line_height = 16
    height = max(picture.height, 16 + line_height * len(lines))
    canvas = Image.new("RGB", (picture.width + PANEL, height), (255, 255, 255))
    canvas.paste(picture, (0, 0))
    draw = ImageDraw.Draw(canvas)
    for n, line in enumerate(lines):
        draw.text((picture.width + 8, 8 + n * line_height), line, fill=(0, 0, 0), font=font)
    out = Path(png_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out, format="PNG")
    return out
