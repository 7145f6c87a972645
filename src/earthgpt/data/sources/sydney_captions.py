"""Sydney-Captions: captions of Sydney aerial scenes, read from its Karpathy-style ``dataset.json``."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._karpathy import KarpathyCaptionSource
from earthgpt.data.sources.base import register


@register
class SydneyCaptions(KarpathyCaptionSource):
    """Sydney-Captions.

    * Modality: optical RGB from Google Earth over Sydney, 0.5 m per pixel, 500x500 px TIFF.
    * Task: image captioning, five sentences per image (kept as they are, repeats included).
    * Size: 613 images in 7 scene types, 3,065 sentences; split 497 / 58 / 58.
    * On-disk format: ``dataset.json`` (Karpathy style: ``images[].filename`` such as ``"1.tif"``,
      ``images[].split``, ``images[].sentences[].raw``) and ``imgs/<n>.tif`` (found by file name anywhere below
      ``root``). Option ``annotation`` names another file (e.g. ``dataset_sydney.json``).
    * Splits: the json's ``split`` field.
    * Citation: B. Qu et al., "Deep semantic understanding of high resolution remote sensing image", CITS 2016.
    * Format relied on: the Karpathy split file distributed with the RSICD_optimal release, as read by torchrs.
    """

    name = "sydney_captions"
    sensor = "Google Earth"
    annotation_names: ClassVar[tuple[str, ...]] = ("dataset.json", "dataset_sydney.json")
