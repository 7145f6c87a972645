"""UC Merced Land Use: 21-class scene classification, read from its folder-per-class TIFF release."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._folder_classes import FolderClassSource
from earthgpt.data.sources.base import register


@register
class UCMercedLandUse(FolderClassSource):
    """UC Merced Land Use (UCM), scene classification.

    * Modality: optical RGB aerial orthoimagery (USGS National Map), 0.3 m (1 foot) per pixel, 256x256 px (a few
      images are a pixel or two smaller: sizes are read from each file, never assumed).
    * Task: scene classification.
    * Size: 2,100 images, 100 per class.
    * On-disk format: ``UCMerced_LandUse/Images/<class>/<class><nn>.tif`` (``agricultural/agricultural00.tif``);
      folder names run words together (``denseresidential`` -> "dense residential"). ``root`` may be
      ``UCMerced_LandUse``, its ``Images`` folder, or the folder above it.
    * Classes (21): agricultural, airplane, baseball diamond, beach, buildings, chaparral, dense residential,
      forest, freeway, golf course, harbor, intersection, medium residential, mobile home park, overpass,
      parking lot, river, runway, sparse residential, storage tanks, tennis court.
    * Splits: none official. Here a deterministic SHA-1 hash of ``<class>/<file name>`` sends ``test_fraction``
      (default 0.2) of the images to "test".
    * Citation: Y. Yang, S. Newsam, "Bag-of-visual-words and spatial extensions for land-use classification",
      ACM SIGSPATIAL 2010.
    * Format relied on (no real files here): the layout of the official ``UCMerced_LandUse.zip``.
    """

    name = "ucmerced_landuse"
    sensor = "USGS National Map"
    nested_dirs = ("Images", "UCMerced_LandUse/Images")
    folder_labels: ClassVar[dict[str, str]] = {
        "agricultural": "agricultural",
        "airplane": "airplane",
        "baseballdiamond": "baseball diamond",
        "beach": "beach",
        "buildings": "buildings",
        "chaparral": "chaparral",
        "denseresidential": "dense residential",
        "forest": "forest",
        "freeway": "freeway",
        "golfcourse": "golf course",
        "harbor": "harbor",
        "intersection": "intersection",
        "mediumresidential": "medium residential",
        "mobilehomepark": "mobile home park",
        "overpass": "overpass",
        "parkinglot": "parking lot",
        "river": "river",
        "runway": "runway",
        "sparseresidential": "sparse residential",
        "storagetanks": "storage tanks",
        "tenniscourt": "tennis court",
    }
