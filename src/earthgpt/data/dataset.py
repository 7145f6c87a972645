"""Conversations -> model batches: pixels in [0, 1] at the model's input size, token ids, labels, attention mask."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from earthgpt.data.chat_template import IGNORE_INDEX, ChatTemplate
from earthgpt.data.conversation import Conversation
from earthgpt.data.imagery import ImageReadError, load_image, model_input
from earthgpt.data.records import ImageRef

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
    stay deterministic.
    """

    def __init__(
        self,
        conversations: Sequence[Conversation],
        template: ChatTemplate,
        image_size: int,
        image_root: str | Path | None,
    ) -> None:
        self.conversations = list(conversations)
        self.template = template
        self.images = ImageCache(image_root, image_size)
        self.unreadable: dict[str, str] = {}
        self._lengths: list[int] | None = None
        missing = [c.id for c in self.conversations if c.image is None]
        if missing:
            raise ValueError(f"{len(missing)} conversations have no image (first: {missing[0]}); drop or fix them")

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
            if conv.id in self.unreadable:
                continue
            assert conv.image is not None  # checked in __init__
            try:
                pixels = self.images(conv.image)
            except ImageReadError as err:
                self.unreadable[conv.id] = str(err)
                log.warning("skipping conversation %s: %s", conv.id, err)
                continue
            enc = self.template.encode(conv)
            return {
                "pixel_values": torch.from_numpy(pixels),
                "input_ids": torch.tensor(enc.input_ids, dtype=torch.long),
                "labels": torch.tensor(enc.labels, dtype=torch.long),
            }
        raise ImageReadError(
            str(self.images.root), "no conversation of the corpus has a readable image", "check the build's data root"
        )


class Collator:
    """Right-pads samples into a batch: ids, labels, attention mask [B, T]; pixels [B, 3, S, S]."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, samples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        ids, mask = pad_sequences([s["input_ids"] for s in samples], self.pad_id)
        labels, _ = pad_sequences([s["labels"] for s in samples], IGNORE_INDEX)
        pixels = torch.stack([s["pixel_values"] for s in samples])
        return {"pixel_values": pixels, "input_ids": ids, "attention_mask": mask, "labels": labels}
