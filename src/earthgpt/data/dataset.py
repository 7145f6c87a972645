"""Conversations -> model batches: pixels in [0, 1] at the model's input size, token ids, labels, attention mask;
and the EarthGPT-X parts (views, prompt maps, region placeholders, mask targets) when a conversation has them."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from earthgpt.data.augment import Augmentation, Dihedral, eligibility, ineligible_reason
from earthgpt.data.chat_template import IGNORE_INDEX, ChatTemplate, Encoded
from earthgpt.data.conversation import Conversation
from earthgpt.data.imagery import ImageReadError, load_image, model_input
from earthgpt.data.records import ImageRef
from earthgpt.geometry.prompts import PromptError
from earthgpt.models.prompts.rasterise import rasterise_mask, rasterise_prompts
from earthgpt.models.views import ViewPlan, plan_views, view_pixels

log = logging.getLogger(__name__)


def pad_sequences(
    sequences: Sequence[Sequence[int] | torch.Tensor], pad_id: int, *, left: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """The one batch padding: token rows -> ids [B, T] filled with ``pad_id`` and the attention mask [B, T].

    Right padding (training, teacher forcing) unless ``left`` (generation: the last position of every row is real).
    """
    rows = [torch.as_tensor(s, dtype=torch.long) for s in sequences]
    length = max((int(r.numel()) for r in rows), default=0)
    ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), length), dtype=torch.long)
    for i, row in enumerate(rows):
        n = int(row.numel())
        cols = slice(length - n, length) if left else slice(0, n)
        ids[i, cols] = row
        mask[i, cols] = 1
    return ids, mask


class ImageCache:
    """Model-input pixels per image reference, computed once (small datasets are read many times)."""

    def __init__(self, image_root: str | Path | None, size: int, max_items: int = 4096) -> None:
        self.root = image_root
        self.size = size
        self.max_items = max_items
        self._items: dict[str, np.ndarray] = {}

    def __call__(self, ref: ImageRef) -> np.ndarray:
        key = json.dumps(ref.to_dict(), sort_keys=True)
        hit = self._items.get(key)
        if hit is not None:
            return hit
        pixels = model_input(load_image(ref, self.root, max_side=self.size), self.size)  # [3, S, S]
        if len(self._items) < self.max_items:
            self._items[key] = pixels
        return pixels


class ConversationDataset(Dataset[dict[str, Any]]):
    """Map-style dataset of encoded conversations; every conversation must hold one image.

    An image that cannot be read when first used (a build made before its checks, a file damaged since) does not stop
    training: the conversation is skipped with a warning naming the file, recorded in ``unreadable`` (conversation id
    -> the error), and the next readable conversation in index order takes its place, so the batch and the data order
    stay deterministic. A conversation whose prompts, ``<regionK>``, ``<seg>`` tokens, masks or view plan disagree is
    skipped the same way and recorded in ``invalid``.

    A sample holds ``pixel_values`` [3, S, S] (or [V, 3, S, S] and ``num_views`` when it has several views),
    ``input_ids`` and ``labels`` [T]; with prompts ``prompt_maps`` [P, S, S] and ``region_index`` [R] (K - 1 per
    placeholder); with masks ``mask_targets`` [M, S, S].

    With ``augment``, an eligible conversation (``data/augment.py``: image padded evenly to its square, one view,
    no orientation word,
    boxes in the exact written form) is flipped or turned as ``augment.choose(epoch, index)`` says: its pixels,
    the boxes of its text, its prompts and its masks move together. ``set_epoch`` (called by the training stream
    before each epoch) sets the epoch; ``augment_counts`` holds how many conversations are eligible and why not.
    """

    def __init__(
        self,
        conversations: Sequence[Conversation],
        template: ChatTemplate,
        image_size: int,
        image_root: str | Path | None,
        augment: Augmentation | None = None,
    ) -> None:
        self.conversations = list(conversations)
        self.template = template
        self.images = ImageCache(image_root, image_size)
        self.unreadable: dict[str, str] = {}
        self._lengths: list[int] | None = None
        self.invalid: dict[str, str] = {}
        missing = [c.id for c in self.conversations if c.image is None]
        if missing:
            raise ValueError(f"{len(missing)} conversations have no image (first: {missing[0]}); drop or fix them")
        self.augment = augment if augment is not None and augment.ops and augment.prob > 0 else None
        self.epoch = 0
        self._eligible: set[str] = set()
        self.augment_counts: dict[str, int] = {}
        if self.augment is not None:
            views = template.default_views
            self._eligible = {c.id for c in self.conversations if ineligible_reason(c, views) is None}
            self.augment_counts = dict(eligibility(self.conversations, views))
            log.info(
                "augmentation %s (p=%g): %d of %d conversations eligible (%s)",
                "+".join(self.augment.ops),
                self.augment.prob,
                len(self._eligible),
                len(self.conversations),
                ", ".join(f"{k}: {v}" for k, v in sorted(self.augment_counts.items())),
            )

    def set_epoch(self, epoch: int) -> None:
        """The epoch the next samples belong to (it seeds the augmentation; no effect without one)."""
        self.epoch = epoch

    def transform(self, conv: Conversation, index: int) -> Dihedral:
        """The flip or turn that sample ``index`` of the current epoch gets (the identity when not eligible)."""
        if self.augment is None or conv.id not in self._eligible:
            return Dihedral()
        return self.augment.choose(self.epoch, index)

    def __len__(self) -> int:
        return len(self.conversations)

    def lengths(self) -> list[int]:
        """Tokens of each encoded conversation (images not read), computed once: what the sampler groups by."""
        if self._lengths is None:
            self._lengths = [len(self.template.encode(c).input_ids) for c in self.conversations]
        return self._lengths

    def __getitem__(self, index: int) -> dict[str, Any]:
        for step in range(len(self.conversations)):
            conv = self.conversations[(index + step) % len(self.conversations)]
            if conv.id in self.unreadable or conv.id in self.invalid:
                continue
            try:
                return self.sample(conv, self.transform(conv, index))
            except ImageReadError as err:
                self.unreadable[conv.id] = str(err)
                log.warning("skipping conversation %s: %s", conv.id, err)
            except ValueError as err:  # PromptError included
                self.invalid[conv.id] = str(err)
                log.warning("skipping conversation %s: %s", conv.id, err)
        raise ImageReadError(
            str(self.images.root), "no conversation of the corpus has a readable image", "check the build's data root"
        )

    def sample(self, conv: Conversation, turn: Dihedral | None = None) -> dict[str, Any]:
        """One conversation as tensors, moved by ``turn`` (its pixels, text boxes, prompts and masks); ImageReadError
        or ValueError (PromptError) naming what is wrong."""
        ref = conv.image
        assert ref is not None  # checked in __init__
        turn = turn or Dihedral()
        if not turn.is_identity:
            moved = turn.conversation(conv)
            if moved is None:  # unreachable for an eligible conversation; kept so that a bad call cannot mislabel
                raise ValueError(f"conversation {conv.id!r}: its boxes cannot be moved exactly; do not augment it")
            conv = moved
        enc = self.template.encode(conv)
        one_view = enc.num_views == 1  # several views: x_parts reads them all at once
        if not (one_view or turn.is_identity):
            raise ValueError(f"conversation {conv.id!r}: a sample of several views cannot be augmented")
        out: dict[str, Any] = {
            "pixel_values": torch.from_numpy(turn.array(self.images(ref))) if one_view else None,  # [3, S, S]
            "input_ids": torch.tensor(enc.input_ids, dtype=torch.long),
            "labels": torch.tensor(enc.labels, dtype=torch.long),
        }
        if not (conv.prompts or conv.masks or enc.num_views > 1):
            return out
        return out | x_parts(conv, enc, self.images.size, self.images.root, self.template.default_views)


def x_parts(
    conv: Conversation, enc: Encoded, size: int, root: str | Path | None, default_views: str = "global"
) -> dict[str, Any]:
    """The EarthGPT-X tensors of one encoded conversation at input side ``size``: the pixels of all its views when
    it has several ([V, 3, S, S], one image read), prompt maps, its region index and the targets of its
    ``enc.num_seg`` masks, in the global view's input geometry."""
    ref = conv.image
    assert ref is not None
    out: dict[str, Any] = {}
    windows = plan_views(ViewPlan.parse(conv.views, default_views), ref.width, ref.height, conv.prompts)
    if len(windows) > 1:  # view 0 is what the image cache gives a one-view sample (the same function)
        out["pixel_values"] = torch.from_numpy(view_pixels(ref, windows, size, root))  # [V, 3, S, S]
        out["num_views"] = len(windows)
    if conv.prompts:
        out["prompt_maps"] = torch.from_numpy(rasterise_prompts(conv.prompts, ref.width, ref.height, size))
        out["region_index"] = torch.tensor(enc.region_index, dtype=torch.long)
    if conv.masks:
        targets = []
        for i, mask in enumerate(conv.masks[: enc.num_seg]):
            if (mask.height, mask.width) != (ref.height, ref.width):
                raise PromptError(
                    f"conversation {conv.id!r}: mask {i + 1} is {mask.width}x{mask.height} px but the image is "
                    f"{ref.width}x{ref.height}; give masks in the image's pixels"
                )
            targets.append(rasterise_mask(mask, size))
        out["mask_targets"] = torch.from_numpy(np.stack(targets) if targets else np.zeros((0, size, size), np.float32))
    return out


class Collator:
    """Right-pads samples into a batch: ids, labels, attention mask [B, T]; pixels [B, 3, S, S].

    EarthGPT-X keys, each only when some sample has them: ``num_views`` [B] with pixels [sum V, 3, S, S];
    ``prompt_maps`` [P, S, S], ``prompts_per_sample`` [B] and ``region_index`` [R] (rows of ``prompt_maps``);
    ``mask_targets`` [M, S, S] and ``masks_per_sample`` [B]. A batch without them is the plain EarthGPT batch.
    """

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, samples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        ids, mask = pad_sequences([s["input_ids"] for s in samples], self.pad_id)
        labels, _ = pad_sequences([s["labels"] for s in samples], IGNORE_INDEX)
        batch = {"pixel_values": _pixels(samples), "input_ids": ids, "attention_mask": mask, "labels": labels}
        if any(s.get("num_views", 1) > 1 for s in samples):
            batch["num_views"] = torch.tensor([s.get("num_views", 1) for s in samples], dtype=torch.long)
        if any("prompt_maps" in s for s in samples):
            batch |= _prompts(samples)
        if any("mask_targets" in s for s in samples):
            targets, counts = _stacked(samples, "mask_targets")
            batch["mask_targets"], batch["masks_per_sample"] = targets, counts
        return batch


def _pixels(samples: Sequence[dict[str, Any]]) -> torch.Tensor:
    """[B, 3, S, S], or [sum V, 3, S, S] sample-major when some sample has several views."""
    if all(s["pixel_values"].dim() == 3 for s in samples):
        return torch.stack([s["pixel_values"] for s in samples])
    return torch.cat([s["pixel_values"] if s["pixel_values"].dim() == 4 else s["pixel_values"][None] for s in samples])


def _stacked(samples: Sequence[dict[str, Any]], key: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of ``key`` of every sample concatenated [sum N, S, S] (float32), and N per sample [B]."""
    size = int(samples[0]["pixel_values"].shape[-1])
    empty = torch.zeros((0, size, size), dtype=torch.float32)
    rows = [s.get(key, empty) for s in samples]
    counts = torch.tensor([int(r.shape[0]) for r in rows], dtype=torch.long)
    return torch.cat(rows).float(), counts


def _prompts(samples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """``prompt_maps`` [P, S, S], ``prompts_per_sample`` [B] and ``region_index`` [R] offset to global rows."""
    maps, counts = _stacked(samples, "prompt_maps")
    starts = torch.cumsum(counts, 0) - counts  # [B] first row of each sample
    index = [s["region_index"] + starts[b] for b, s in enumerate(samples) if "region_index" in s]
    region = torch.cat(index) if index else torch.zeros(0, dtype=torch.long)
    return {"prompt_maps": maps, "prompts_per_sample": counts, "region_index": region}
