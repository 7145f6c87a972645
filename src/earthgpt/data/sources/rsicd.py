"""RSICD: remote sensing image captioning, read from its Karpathy-style ``dataset_rsicd.json``."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._karpathy import KarpathyCaptionSource
from earthgpt.data.sources.base import register


@register
class RSICD(KarpathyCaptionSource):
    """RSICD (Remote Sensing Image Captioning Dataset).

    * Modality: optical RGB from Google Earth, Baidu Map, MapABC and Tianditu, 224x224 px.
    * Task: image captioning, five reference sentences per image (many images repeat a sentence to reach five;
      duplicates are kept here and removed by the instruction step).
    * Size: 10,921 images, 54,605 sentences; official split 8,734 train / 1,093 val / 1,094 test.
    * On-disk format: ``dataset_rsicd.json`` = ``{"images": [{"filename": "airport_1.jpg", "split": "train",
      "sentences": [{"raw": "...", "tokens": [...], "imgid", "sentid"}], "imgid", "sentids"}]}`` and the images
      in ``RSICD_images/`` (found by file name anywhere below ``root``). Option ``annotation`` names another
      file relative to ``root``.
    * Splits: the json's ``split`` field (train, val, test).
    * Citation: X. Lu et al., "Exploring Models and Data for Remote Sensing Image Caption Generation", IEEE
      TGRS 56(4), 2018.
    * Format relied on: the Karpathy split file of the authors' release (RSICD_optimal) as read by public
      loaders (torchrs). The COCO-format conversion of RSICD is read by the ``coco_captions`` source.
    """

    name = "rsicd"
    annotation_names: ClassVar[tuple[str, ...]] = ("dataset_rsicd.json",)
