"""CLRS: 25-class continual-learning scene benchmark (a zero-shot evaluation set of the paper)."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._folder_classes import FolderClassSource
from earthgpt.data.sources.base import register

_FOLDERS = (
    "airport", "bare-land", "beach", "bridge", "commercial", "desert", "farmland", "forest", "golf-course",
    "highway", "industrial", "meadow", "mountain", "overpass", "park", "parking", "playground", "port", "railway",
    "railway-station", "residential", "river", "runway", "stadium", "storage-tank",
)  # fmt: skip


@register
class CLRS(FolderClassSource):
    """CLRS (Continual Learning benchmark for Remote Sensing image scene classification).

    * Modality: optical RGB from Google Earth, Bing, Google Maps and Tianditu, 0.26 m to 8.85 m, 256x256 px.
    * Task: scene classification; the paper uses it for ZERO-SHOT evaluation (never in training).
    * Size: 15,000 images, 600 per class.
    * On-disk format: ``CLRS/<class>/<class>_<nnnn>.tif``; folders are lower case with hyphens
      (``railway-station`` -> "railway station"). ``root`` is ``CLRS`` or the folder above it.
    * Classes (25): airport, bare land, beach, bridge, commercial, desert, farmland, forest, golf course,
      highway, industrial, meadow, mountain, overpass, park, parking, playground, port, railway, railway
      station, residential, river, runway, stadium, storage tank.
    * Splits: none official. Here a deterministic SHA-1 hash of ``<class>/<file name>`` sends ``test_fraction``
      (default 0.2) of the images to "test"; use split "all" for zero-shot evaluation.
    * Citation: H. Li et al., "CLRS: Continual Learning Benchmark for Remote Sensing Image Scene
      Classification", Sensors 20(4), 2020.
    * Format relied on (no real files here): the class folder names used by public CLRS loaders; any image
      suffix is accepted.
    """

    name = "clrs"
    folder_labels: ClassVar[dict[str, str]] = {f: f.replace("-", " ") for f in _FOLDERS}
