"""NWPU-RESISC45: 45-class scene classification, read from its folder-per-class release."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._folder_classes import FolderClassSource
from earthgpt.data.sources.base import register

_FOLDERS = (
    "airplane", "airport", "baseball_diamond", "basketball_court", "beach", "bridge", "chaparral", "church",
    "circular_farmland", "cloud", "commercial_area", "dense_residential", "desert", "forest", "freeway",
    "golf_course", "ground_track_field", "harbor", "industrial_area", "intersection", "island", "lake", "meadow",
    "medium_residential", "mobile_home_park", "mountain", "overpass", "palace", "parking_lot", "railway",
    "railway_station", "rectangular_farmland", "river", "roundabout", "runway", "sea_ice", "ship", "snowberg",
    "sparse_residential", "stadium", "storage_tank", "tennis_court", "terrace", "thermal_power_station", "wetland",
)  # fmt: skip


@register
class NWPURESISC45(FolderClassSource):
    """NWPU-RESISC45 (REmote Sensing Image Scene Classification, Northwestern Polytechnical University).

    * Modality: optical RGB from Google Earth, 0.2 m to 30 m per pixel, 256x256 px.
    * Task: scene classification; the paper reports supervised top-1 accuracy on it.
    * Size: 31,500 images, 700 per class.
    * On-disk format: ``NWPU-RESISC45/<class_folder>/<class_folder>_<nnn>.jpg``; folders are lower snake case
      (``ground_track_field`` -> "ground track field"). ``root`` is ``NWPU-RESISC45`` or the folder above it.
    * Classes (45): airplane, airport, baseball diamond, basketball court, beach, bridge, chaparral, church,
      circular farmland, cloud, commercial area, dense residential, desert, forest, freeway, golf course, ground
      track field, harbor, industrial area, intersection, island, lake, meadow, medium residential, mobile home
      park, mountain, overpass, palace, parking lot, railway, railway station, rectangular farmland, river,
      roundabout, runway, sea ice, ship, snowberg, sparse residential, stadium, storage tank, tennis court,
      terrace, thermal power station, wetland.
    * Splits: none official (papers train on 10% or 20%). Here a deterministic SHA-1 hash of
      ``<class_folder>/<file name>`` sends ``test_fraction`` (default 0.2) of the images to "test".
    * Citation: G. Cheng, J. Han, X. Lu, "Remote Sensing Image Scene Classification: Benchmark and State of the
      Art", Proceedings of the IEEE 105(10), 2017.
    * Format relied on (no real files here): the class list and layout of the public release as documented by
      its authors and mirrored by common loaders (folder = class, lower snake case).
    """

    name = "nwpu_resisc45"
    sensor = "Google Earth"
    folder_labels: ClassVar[dict[str, str]] = {f: f.replace("_", " ") for f in _FOLDERS}
