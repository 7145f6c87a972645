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
3. hrsid_mini (SAR) and sen2ships (Sentinel-2): "Please segment every ship in this RS image." -> "Sure, <seg>.", the
   conversation made by the corpus conversion (``pixel_grounding``) from windows cut by the corpus tiler at 2x
   (80 source px -> 160 px; at 1x sen2ships' 10 m ships are ~12 px long), each holding >= 2 ships and every ship
   pixel of the window, one window per image, the 8 with the largest second-largest ship (3 SAR, 5 Sentinel-2;
   2 to 6 ships each). The one mask is scored against the union of the window's ship masks.
Measured (seed 0, batch 8, peak LR 2e-3, the scratch row, 60-step runs): ships mIoU 0.008 / 0.33 / 0.73 / 0.78 at
steps 15 / 30 / 45 / 60 (loss 7.6 -> 0.30, "<seg>" answered every time); HIT-UAV prompted classes 31 / 44 / 50 / 62 %
at steps 15 / 30 / 45 / 60 (loss 5.7 -> 0.10), short of 90 % there: REFER_STEPS = 120 is not yet measured.
All ships (seed 0, batch 8, peak LR 2e-3, one 150-step run, checkpoints evaluated): mIoU 0.00 / 0.29 / 0.53 /
0.70 / 0.715 (gIoU 0.00 / 0.25 / 0.46 / 0.65 / 0.67) at steps 30 / 60 / 90 / 120 / 150, loss 7.4 -> 0.28, "<seg>"
answered every time; 150 steps took 2.3 to 8 minutes on 2 shared cores. Tried and worse: 1x windows (mIoU 0.20 at
120 of 120 steps: the ships are too small), 3x windows (0.68 at 120 of 120), peak LR 3e-3 (0.67 at 120 of 120).
The weakest windows are sen2ships' Busan, Honolulu and Casablanca (IoU 0.53 to 0.62).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from pycocotools import mask as coco_mask

from earthgpt.data.chat_template import ChatTemplate
from earthgpt.data.conversation import Conversation, Message
from earthgpt.data.corpus.config import TilingOptions
from earthgpt.data.corpus.tiling import cut_record
from earthgpt.data.dataset import Collator, ConversationDataset
from earthgpt.data.instructions.convert import InstructionOptions, conversations_and_skips
from earthgpt.data.masks import crop_mask, mask_pixels, union_mask
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
SEG_STEPS = 90  # 0.78 at 60 steps; 90 for margin
ALL_STEPS = 150  # mIoU 0.70 at 120, 0.715 at 150: the margin is thin (see the module docstring)
WINDOW = 160
ZOOM = 2.0  # windows of WINDOW / ZOOM source px: sen2ships' 10 m ships are ~12 px long


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


def _windows_with_all_ships(record: DetectionRecord, item: str) -> list[tuple[int, DetectionRecord]]:
    """The tiles of ``record`` cut by the corpus tiler (WINDOW output px at ZOOM x, stride half a window) that hold
    >= 2 ships with masks and every ship pixel of the window, with their second-largest ship's pixel count."""
    options = TilingOptions(size=WINDOW, overlap=WINDOW // 2, min_visible=1.0, scales=[ZOOM])
    tiles, _ = cut_record(record, item, options)
    out = []
    for t in tiles:
        if not isinstance(t, DetectionRecord) or len(t.objects) < 2 or not t.masks or None in t.masks:
            continue
        assert t.image.tile is not None
        seen = [m for m in (crop_mask(m, t.image.tile) for m in record.masks if m is not None) if m is not None]
        if union_mask(seen).to_array().sum() > union_mask([m for m in t.masks if m is not None]).to_array().sum():
            continue  # a ship cut by the window edge: its visible part would be in the image, not in the target
        out.append((sorted(mask_pixels(m)[0].size for m in t.masks if m is not None)[-2], t))
    return out


def _disjoint(windows: list[tuple[int, DetectionRecord]], most: int) -> list[tuple[int, DetectionRecord]]:
    """Up to ``most`` windows of one image that share no pixel, largest key first."""
    kept: list[tuple[int, DetectionRecord]] = []
    for k, t in sorted(windows, key=lambda w: -w[0]):
        a = t.image.tile
        assert a is not None
        if len(kept) < most and all(
            a.x + a.width <= b.x or b.x + b.width <= a.x or a.y + a.height <= b.y or b.y + b.height <= a.y
            for b in (u.image.tile for _, u in kept)
            if b is not None
        ):
            kept.append((k, t))
    return kept


def _all_ships(data_root: Path, n: int = 8, per_image: int = 1) -> list[Conversation]:
    """ "Please segment every ship in this RS image." on the n SAR (hrsid_mini) and Sentinel-2 (sen2ships) windows
    with the largest second-largest ship, at most ``per_image`` disjoint ones per image; made by the corpus
    conversion."""
    opts = InstructionOptions(referring=False, x_tasks=("pixel_grounding",))
    best: list[tuple[int, DetectionRecord, str]] = []
    for name, split in (("hrsid_mini", "test"), ("sen2ships", "train")):
        source = get_source(name)(data_root / name, split)
        for item in source.items():
            for record in source.load(item):
                if isinstance(record, DetectionRecord):
                    best += [(k, t, name) for k, t in _disjoint(_windows_with_all_ships(record, item), per_image)]
    if len(best) < n:
        pytest.fail(f"hrsid_mini and sen2ships hold {len(best)} images with >= 2 whole ships in a window, not {n}")
    conversations: list[Conversation] = []
    for _, tile, folder in sorted(best, key=lambda b: -b[0])[:n]:
        image = dataclasses.replace(tile.image, path=f"{folder}/{tile.image.path}")  # one image root: data_root
        convs, skips = conversations_and_skips(dataclasses.replace(tile, image=image), opts)
        assert not skips, skips
        conversations += [c for c in convs if c.id == f"{tile.id}:seg:ship"]
    return conversations


def test_all_ships_are_segmented_by_heart(data_root: Path, tmp_path: Path) -> None:
    conversations = _all_ships(data_root)
    assert len(conversations) == 8 and all(c.meta["instances"] >= 2 for c in conversations)
    model, tok = new_model(conversations, vocab_size=256, seed=0, x=True)
    config = recipe("scratch", str(tmp_path), max_steps=ALL_STEPS, batch_size=8, lr=2e-3, progress_bar=False)
    result = fit(model, tok, conversations, data_root, config)
    assert result.losses[-1] < 0.3 * result.losses[0]
    ok, logits = _teacher_forced(model, _batch(model, tok, conversations, data_root))
    assert all(ok)  # "Sure, <seg>." then EOS
    assert logits is not None and logits.shape == (8, model.image_size, model.image_size)
    sizes = [(c.image.width, c.image.height) for c in conversations if c.image is not None]
    predicted = [mask_to_image(m, w, h).to_array() for m, (w, h) in zip(logits, sizes, strict=True)]
    scores = mask_scores(predicted, [c.masks[0].to_array() for c in conversations])
    assert scores.miou >= 0.7 and scores.giou >= 0.6, scores.ious  # measured 0.715 / 0.671
