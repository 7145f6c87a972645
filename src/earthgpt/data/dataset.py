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
from earthgpt.data.imagery import load_image, model_input
from earthgpt.data.records import ImageRef

log = logging.getLogger(__name__)


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Every JSON object of a JSONL file; a bad line raises ValueError naming the file and line."""
    out = []
    p = Path(path)
    with p.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ValueError(f"{p}:{n}: not valid JSON ({e}); rebuild the data") from e
    return out


def load_conversations(paths: Sequence[str | Path]) -> list[Conversation]:
    """Conversations from JSONL files, in the order given."""
    return [Conversation.from_dict(d) for p in paths for d in read_jsonl(p)]


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
    """Map-style dataset of encoded conversations; every conversation must hold one image."""

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
        missing = [c.id for c in self.conversations if c.image is None]
        if missing:
            raise ValueError(f"{len(missing)} conversations have no image (first: {missing[0]}); drop or fix them")

    def __len__(self) -> int:
        return len(self.conversations)

    def __getitem__(self, index: int) -> dict[str, Any]:
        conv = self.conversations[index]
        enc = self.template.encode(conv)
        image = conv.image
        assert image is not None  # checked in __init__
        return {
            "pixel_values": torch.from_numpy(self.images(image)),
            "input_ids": torch.tensor(enc.input_ids, dtype=torch.long),
            "labels": torch.tensor(enc.labels, dtype=torch.long),
        }


class Collator:
    """Right-pads samples into a batch: ids, labels, attention mask [B, T]; pixels [B, 3, S, S]."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, samples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        length = max(int(s["input_ids"].numel()) for s in samples)
        ids = torch.full((len(samples), length), self.pad_id, dtype=torch.long)
        labels = torch.full((len(samples), length), IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros((len(samples), length), dtype=torch.long)
        for i, s in enumerate(samples):
            n = int(s["input_ids"].numel())
            ids[i, :n] = s["input_ids"]
            labels[i, :n] = s["labels"]
            mask[i, :n] = 1
        pixels = torch.stack([s["pixel_values"] for s in samples])
        return {"pixel_values": pixels, "input_ids": ids, "attention_mask": mask, "labels": labels}
