"""WHU-RS19: 19-class high-resolution satellite scene classification, read from its folder-per-class release."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._folder_classes import FolderClassSource, camel_to_words
from earthgpt.data.sources.base import register

_FOLDERS = (
    "Airport", "Beach", "Bridge", "Commercial", "Desert", "Farmland", "footballField", "Forest", "Industrial",
    "Meadow", "Mountain", "Park", "Parking", "Pond", "Port", "railwayStation", "Residential", "River", "Viaduct",
)  # fmt: skip


@register
class WHURS19(FolderClassSource):
    """WHU-RS19, scene classification.

    * Modality: optical RGB satellite imagery from Google Earth, up to 0.5 m per pixel, 600x600 px.
    * Task: scene classification.
    * Size: 1,005 images, about 50 per class.
    * On-disk format: ``<root>/<Class>/<class>_<nn>.jpg``. The release mixes spellings of the folder names
      (``Airport``, ``footballField``, ``railwayStation``; some copies use lower case or separators), so folders
      are matched ignoring case and separators. ``root`` is the folder holding the class folders (``RSDataset``
      in the official zip) or the folder above it.
    * Classes (19): airport, beach, bridge, commercial, desert, farmland, football field, forest, industrial,
      meadow, mountain, park, parking, pond, port, railway station, residential, river, viaduct.
    * Splits: none official. Here a deterministic SHA-1 hash of ``<Class>/<file name>`` sends ``test_fraction``
      (default 0.2) of the images to "test".
    * Citation: G.-S. Xia et al., "Structural High-resolution Satellite Image Indexing", ISPRS TC VII Symposium,
      2010; D. Dai, W. Yang, "Satellite Image Classification via Two-Layer Sparse Coding With Biased Image
      Representation", IEEE GRSL 8(1), 2011.
    * Format relied on (no real files here): the class folders of the public release as listed by the
      BED4RS benchmark page and common loaders.
    """

    name = "whu_rs19"
    sensor = "Google Earth"
    folder_labels: ClassVar[dict[str, str]] = {f: camel_to_words(f) for f in _FOLDERS}
