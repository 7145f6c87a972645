"""NWPU-Captions: captions for the NWPU-RESISC45 images, read from its per-category ``dataset_nwpu.json``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from earthgpt.data.records import Record
from earthgpt.data.sources._karpathy import JsonCaptionSource, load_json
from earthgpt.data.sources.base import Skip, register

CAPTION_FIELDS = ("raw", "raw_1", "raw_2", "raw_3", "raw_4")


@register
class NWPUCaptions(JsonCaptionSource):
    """NWPU-Captions.

    * Modality: optical RGB from Google Earth (the NWPU-RESISC45 images), 256x256 px.
    * Task: image captioning, five human sentences per image; the paper reports BLEU-4/METEOR/ROUGE-L/CIDEr on
      its test split.
    * Size: 31,500 images in 45 categories, 157,500 sentences; split 70% / 10% / 20% (train / val / test).
    * On-disk format: ``dataset_nwpu.json`` is NOT Karpathy style: it is a dict keyed by category,
      ``{"airplane": [{"filename": "airplane_001.jpg", "split": "train", "raw": "...", "raw_1": "...", ...,
      "raw_4": "...", "imgid", "sentids"}], ...}`` with the five sentences in ``raw`` and ``raw_1``..``raw_4``.
      Images are ``NWPU_images/<category>/<filename>`` (from ``NWPU_images.tar.gz``); other layouts are found
      by file name below ``root``. Option ``annotation`` names another json relative to ``root``.
    * Splits: the ``split`` field of each entry.
    * Citation: Q. Cheng et al., "NWPU-Captions Dataset and MLCA-Net for Remote Sensing Image Captioning", IEEE
      TGRS 60, 2022.
    * Format relied on: public loaders of ``dataset_nwpu.json`` (category keys, ``raw``..``raw_4``, ``split``,
      images under ``NWPU_images/<category>/``); no real files were available.
    """

    name = "nwpu_captions"
    annotation_names = ("dataset_nwpu.json",)
    sensor = "Google Earth"

    def read_entries(self) -> dict[str, dict[str, Any]]:
        entries: dict[str, dict[str, Any]] = {}
        try:
            data = load_json(self.annotation)
            groups = list(data.items())
        except (OSError, ValueError, AttributeError) as e:
            self._bad["annotation"] = f"{self.annotation}: {e}"
            groups = []
        for category, rows in groups:
            for i, row in enumerate(rows if isinstance(rows, list) else [None]):
                name = row.get("filename") if isinstance(row, dict) else None
                split = row.get("split") if isinstance(row, dict) else None
                if not isinstance(name, str) or split not in self.splits:
                    self._bad[f"{category}:{i}"] = f"entry {i} of {category!r} lacks a filename or a valid split"
                elif split == self.split:
                    entries[f"{category}/{name}"] = row
        return entries

    def load_entry(self, item: str, entry: dict[str, Any] | None) -> Iterator[Record | Skip]:
        if entry is None:
            yield self.skip(item, "missing_annotation", f"{item} is not a {self.split} entry of {self.annotation}")
            return
        if not isinstance(entry.get("raw"), str):
            yield self.skip(item, "malformed_annotation", f"{self.annotation.name}: {item} has no 'raw' sentence")
            return
        captions = tuple(str(entry[k]).strip() for k in CAPTION_FIELDS if isinstance(entry.get(k), str))
        category, filename = item.split("/", 1)
        yield from self.caption_record(item, filename, captions, f"NWPU_images/{category}/{filename}")
