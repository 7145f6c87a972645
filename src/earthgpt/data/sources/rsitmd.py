"""RSITMD: fine-grained remote sensing image-text matching captions, read from ``dataset_RSITMD.json``."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._karpathy import KarpathyCaptionSource
from earthgpt.data.sources.base import register


@register
class RSITMD(KarpathyCaptionSource):
    """RSITMD (Remote Sensing Image-Text Match Dataset).

    * Modality: optical RGB, 256x256 px, 32 scene types.
    * Task: image captioning here (five fine-grained sentences per image; the release targets retrieval).
    * Size: 4,743 images, 23,715 sentences; split 4,291 train / 452 test (the json also marks some "val").
    * On-disk format: ``dataset_RSITMD.json`` (Karpathy style: ``images[].filename`` such as
      ``"baseballfield_452.tif"``, ``images[].split``, ``images[].sentences[].raw``; entries also carry
      ``keywords``, ignored here) and ``images/<filename>`` (found by file name anywhere below ``root``).
    * Splits: the json's ``split`` field.
    * Citation: Z. Yuan et al., "Exploring a Fine-Grained Multiscale Method for Cross-Modal Remote Sensing Image
      Retrieval", IEEE TGRS 60, 2022.
    * Format relied on: the authors' AMFMN release layout as read by public loaders.
    """

    name = "rsitmd"
    annotation_names: ClassVar[tuple[str, ...]] = ("dataset_RSITMD.json", "dataset_rsitmd.json")
