"""The EarthGPT-X paths are wired: a tiny model learns real frames by heart, through prompts and through masks.

Held-out referring and segmentation need far more compute than a CPU test has; memorising a few real images is a
sharp check that conversations with prompts and masks -> rasterised prompt maps, template, collator -> prompt
encoder, fusion, region tokens, ``<seg>`` -> mask decoder -> masks in image pixels all agree with each other.

1. HIT-UAV (thermal): 8 frames, in each two objects of different classes, one named by a box, one by a point (or
   scribble): "What is <region1>?" -> its class. One image, two prompts, two answers: only the prompt tells them
   apart. Answers are read by greedy teacher forcing (the argmax at every answer position; equal to the greedy
   decoding up to EOS exactly when every position is right).
2. HRSID (SAR): 8 tiles, a 160 px window around the largest ship of each (a tile, as the scene tiler reads them),
   a box on the ship: "Segment <region1>." -> "<seg>", its mask decoded and mapped back to the window's pixels,
   scored against the COCO polygon with evaluation/metrics/masks.py.
Measured figures: see the constants below (seed 0, batch 8, peak LR 2e-3, the scratch row).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from pycocotools import mask as coco_mask

from earthgpt.data.chat_template import ChatTemplate
from earthgpt.data.conversation import Conversation, Message
from earthgpt.data.dataset import Collator, ConversationDataset
from earthgpt.data.records import DetectionRecord, ImageRef, Tile
from earthgpt.data.sources import get_source
from earthgpt.evaluation.metrics.masks import mask_scores
from earthgpt.geometry.boxes import HBB
from earthgpt.geometry.prompts import RleMask, VisualPrompt
from earthgpt.models import EarthGPT
from earthgpt.models.inputs import forward_kwargs
from earthgpt.models.prompts.rasterise import mask_to_image
from earthgpt.pipeline import fit, new_model
from earthgpt.training import recipe

REFER_STEPS = 120
SEG_STEPS = 120
WINDOW = 160


def _classes(data_root: Path, n: int = 8) -> list[Conversation]:
    source = get_source("hit_uav")(data_root / "hit_uav", "train", kind="hbb")
    conversations: list[Conversation] = []
    for item in source.items():
        for r in source.load(item):
            if not isinstance(r, DetectionRecord):
                continue
            by_class = {}
            for o in r.objects:
                w, h = o.box.x2 - o.box.x1, o.box.y2 - o.box.y1
                if o.label.lower() != "dontcare" and w >= 8 and h >= 8:
                    by_class.setdefault(o.label, o)
            if len(by_class) < 2:
                continue
            a, b = list(by_class.values())[:2]
            k = len(conversations) // 2
            cx, cy = (b.box.x1 + b.box.x2) / 2, (b.box.y1 + b.box.y2) / 2
            second = (
                VisualPrompt.point(cx, cy)
                if k % 2 == 0
                else VisualPrompt.scribble([[(b.box.x1 + 1, cy), (cx, b.box.y1 + 1), (b.box.x2 - 1, cy)]])
            )
            for obj, prompt in ((a, VisualPrompt.box(HBB(a.box.x1, a.box.y1, a.box.x2, a.box.y2))), (b, second)):
                conversations.append(
                    Conversation(
                        f"{r.image.path}#{obj.label}",
                        (Message.user("What is <region1>?", r.image), Message.assistant(obj.label.lower())),
                        task="referring",
                        prompts=(prompt,),
                    )
                )
            if len(conversations) >= 2 * n:
                return conversations
    pytest.fail("HIT-UAV holds fewer than 8 frames with two classes")


def _teacher_forced(model: EarthGPT, batch: dict[str, torch.Tensor]) -> tuple[list[bool], torch.Tensor | None]:
    """Per sample, whether the argmax at every answer position is the answer token; and the mask logits."""
    with torch.no_grad():
        out = model.eval()(**forward_kwargs(batch))
    labels = batch["labels"][:, 1:]
    pred = out.logits[:, :-1].argmax(-1)
    ok = [(pred[b][labels[b] != -100] == labels[b][labels[b] != -100]).all().item() for b in range(len(labels))]
    return [bool(v) for v in ok], out.mask_logits


def _batch(model: EarthGPT, tok: object, conversations: list[Conversation], root: Path) -> dict[str, torch.Tensor]:
    template = ChatTemplate(tok, model.num_image_tokens)  # type: ignore[arg-type]
    dataset = ConversationDataset(conversations, template, model.image_size, root)
    assert not dataset.invalid and not dataset.unreadable
    return Collator(int(tok.pad_token_id))([dataset[i] for i in range(len(conversations))])  # type: ignore[attr-defined]


def test_prompted_objects_are_named_by_heart(data_root: Path, tmp_path: Path) -> None:
    conversations = _classes(data_root)
    model, tok = new_model(conversations, vocab_size=256, seed=0, x=True)
    config = recipe("scratch", str(tmp_path), max_steps=REFER_STEPS, batch_size=8, lr=2e-3, progress_bar=False)
    result = fit(model, tok, conversations, data_root / "hit_uav", config)
    assert result.losses[-1] < 0.1 * result.losses[0]
    ok, _ = _teacher_forced(model, _batch(model, tok, conversations, data_root / "hit_uav"))
    assert sum(ok) / len(ok) >= 0.9, ok


def _ships(data_root: Path, n: int = 8) -> list[Conversation]:
    """The largest ship of each of the n tiles with the largest ships, in a WINDOW px window centred on it."""
    root = data_root / "hrsid_modified_coco"
    coco = json.loads((root / "subset_offshore_train_30imgs.json").read_text())
    images = {im["id"]: im for im in coco["images"]}
    largest: dict[int, dict] = {}
    for ann in coco["annotations"]:
        if ann["image_id"] not in largest or ann["area"] > largest[ann["image_id"]]["area"]:
            largest[ann["image_id"]] = ann
    chosen = sorted(largest.values(), key=lambda a: -a["area"])[:n]
    conversations = []
    for ann in chosen:
        im = images[ann["image_id"]]
        x, y, w, h = ann["bbox"]
        x0 = int(min(max(x + w / 2 - WINDOW / 2, 0), im["width"] - WINDOW))
        y0 = int(min(max(y + h / 2 - WINDOW / 2, 0), im["height"] - WINDOW))
        tile = Tile(x0, y0, WINDOW, WINDOW, source_width=im["width"], source_height=im["height"])
        ref = ImageRef(f"images/{im['file_name']}", WINDOW, WINDOW, modality="sar", tile=tile)
        polygons = [[v - (x0 if i % 2 == 0 else y0) for i, v in enumerate(p)] for p in ann["segmentation"]]
        rle = coco_mask.merge(coco_mask.frPyObjects(polygons, WINDOW, WINDOW))
        mask = RleMask.from_array(coco_mask.decode(rle).astype(bool))  # [WINDOW, WINDOW], COCO's pixel rule
        box = VisualPrompt.box(HBB(x - x0, y - y0, x - x0 + w, y - y0 + h))
        conversations.append(
            Conversation(
                f"{im['file_name']}#{ann['id']}",
                (Message.user("Segment <region1>.", ref), Message.assistant("<seg>")),
                task="pixel_grounding",
                prompts=(box,),
                masks=(mask,),
            )
        )
    return conversations


def test_prompted_ships_are_segmented_by_heart(data_root: Path, tmp_path: Path) -> None:
    conversations = _ships(data_root)
    root = data_root / "hrsid_modified_coco"
    model, tok = new_model(conversations, vocab_size=256, seed=0, x=True)
    config = recipe("scratch", str(tmp_path), max_steps=SEG_STEPS, batch_size=8, lr=2e-3, progress_bar=False)
    result = fit(model, tok, conversations, root, config)
    assert result.losses[-1] < 0.3 * result.losses[0]
    ok, logits = _teacher_forced(model, _batch(model, tok, conversations, root))
    assert all(ok)  # "<seg>" then EOS
    assert logits is not None and logits.shape == (8, model.image_size, model.image_size)
    predicted = [mask_to_image(m, WINDOW, WINDOW).to_array() for m in logits]
    scores = mask_scores(predicted, [c.masks[0].to_array() for c in conversations])
    assert scores.miou >= 0.7 and scores.giou >= 0.7, scores.ious
