"""RSSCN7: seven-class scene classification, read from its letter-prefixed folder-per-class release."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._folder_classes import FolderClassSource
from earthgpt.data.sources.base import register


@register
class RSSCN7(FolderClassSource):
    """RSSCN7, scene classification.

    * Modality: optical RGB (Google Earth), 400x400 px.
    * Task: scene classification (one label per image).
    * Size: 2,800 images, 400 per class, each class sampled at four scales.
    * On-disk format: ``<root>/<prefix><Class>/<prefix><nnn>.jpg``. Folder names carry a one-letter ordering
      prefix that is NOT part of the class: ``aGrass`` -> "grass", ``bField`` -> "field", ``cIndustry`` ->
      "industry", ``dRiverLake`` -> "river lake", ``eForest`` -> "forest", ``fResident`` -> "resident",
      ``gParking`` -> "parking". ``root`` is the folder holding these seven folders or the folder above it.
    * Classes (7): grass, field, industry, river lake, forest, resident, parking.
    * Splits: none official (papers use 50% train). Here a deterministic SHA-1 hash of
      ``<folder>/<file name>`` sends ``test_fraction`` (default 0.2) of the images to "test".
    * Citation: Q. Zou et al., "Deep Learning Based Feature Selection for Remote Sensing Scene Classification",
      IEEE GRSL 12(11), 2015.
    * Format relied on: the real release layout (a 210-image copy is in the project's shared data).
    """

    name = "rsscn7"
    sensor = "Google Earth"
    folder_labels: ClassVar[dict[str, str]] = {
        "aGrass": "grass",
        "bField": "field",
        "cIndustry": "industry",
        "dRiverLake": "river lake",
        "eForest": "forest",
        "fResident": "resident",
        "gParking": "parking",
    }
