"""UCM-Captions: captions for the UC Merced images, read from its Karpathy-style ``dataset.json``."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._karpathy import KarpathyCaptionSource
from earthgpt.data.sources.base import register


@register
class UCMCaptions(KarpathyCaptionSource):
    """UCM-Captions.

    * Modality: optical RGB aerial orthoimagery (USGS), 0.3 m per pixel, 256x256 px TIFF.
    * Task: image captioning, five sentences per image (often repeated; kept as they are).
    * Size: 2,100 images (the 21 UC Merced classes x 100), 10,500 sentences; split 1,680 / 210 / 210.
    * On-disk format: ``dataset.json`` (Karpathy style: ``images[].filename`` such as ``"1.tif"``,
      ``images[].split``, ``images[].sentences[].raw``) and the images ``imgs/1.tif`` .. ``imgs/2100.tif``
      (found by file name anywhere below ``root``). Option ``annotation`` names another file (e.g.
      ``dataset_ucm.json``).
    * Splits: the json's ``split`` field.
    * Citation: B. Qu et al., "Deep semantic understanding of high resolution remote sensing image", CITS 2016.
    * Format relied on: the Karpathy split file distributed with the RSICD_optimal release, as read by torchrs.
    """

    name = "ucm_captions"
    sensor = "USGS National Map"
    annotation_names: ClassVar[tuple[str, ...]] = ("dataset.json", "dataset_ucm.json", "dataset_ucmd.json")
