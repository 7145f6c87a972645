"""AID: the Aerial Image Dataset for scene classification, read from its folder-per-class release."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._folder_classes import FolderClassSource, camel_to_words
from earthgpt.data.sources.base import register

_FOLDERS = (
    "Airport", "BareLand", "BaseballField", "Beach", "Bridge", "Center", "Church", "Commercial",
    "DenseResidential", "Desert", "Farmland", "Forest", "Industrial", "Meadow", "MediumResidential", "Mountain",
    "Park", "Parking", "Playground", "Pond", "Port", "RailwayStation", "Resort", "River", "School",
    "SparseResidential", "Square", "Stadium", "StorageTanks", "Viaduct",
)  # fmt: skip


@register
class AID(FolderClassSource):
    """AID (Aerial Image Dataset), scene classification.

    * Modality: optical RGB aerial imagery from Google Earth, 0.5 m to 8 m per pixel.
    * Task: scene classification (one label per image).
    * Size: 10,000 images of 600x600 px, 220 to 420 per class (third-party downscaled copies keep the layout,
      e.g. a 150 px subset with 50 images per class).
    * On-disk format: ``AID/<ClassFolder>/<class>_<n>.jpg``; the folder name is the label in CamelCase
      (``DenseResidential`` -> "dense residential"). ``root`` is the ``AID`` folder or the folder above it.
    * Classes (30): airport, bare land, baseball field, beach, bridge, center, church, commercial, dense
      residential, desert, farmland, forest, industrial, meadow, medium residential, mountain, park, parking,
      playground, pond, port, railway station, resort, river, school, sparse residential, square, stadium,
      storage tanks, viaduct.
    * Splits: none official (papers use random 20%/50% train ratios). Here a deterministic SHA-1 hash of
      ``<ClassFolder>/<file name>`` sends ``test_fraction`` (default 0.2) of the images to "test".
    * Citation: G.-S. Xia et al., "AID: A Benchmark Data Set for Performance Evaluation of Aerial Scene
      Classification", IEEE TGRS 55(7), 2017.
    * Format relied on: the real release layout (a copy is in the project's shared data).
    """

    name = "aid"
    sensor = "Google Earth"
    folder_labels: ClassVar[dict[str, str]] = {f: camel_to_words(f) for f in _FOLDERS}
