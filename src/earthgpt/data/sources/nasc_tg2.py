"""NaSC-TG2: 10-class natural scene classification from Tiangong-2 (a zero-shot evaluation set of the paper)."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._folder_classes import FolderClassSource
from earthgpt.data.sources.base import register


@register
class NaSCTG2(FolderClassSource):
    """NaSC-TG2 (Natural Scene Classification with Tiangong-2 remotely sensed imagery).

    * Modality: optical RGB composites from the Tiangong-2 wide-band imaging spectrometer, 100 m per pixel,
      128x128 px. (A multispectral/hyperspectral version of each scene also exists; this source reads the RGB
      release.)
    * Task: scene classification; the paper uses it for ZERO-SHOT evaluation (never in training).
    * Size: 20,000 images, 2,000 per class.
    * On-disk format: ``<root>/<Class>/<image>`` with one folder per class. Folder spellings differ between
      copies (``Circle_Farmland``, ``circle farmland``, ``CircleFarmland``), so folders are matched ignoring case
      and separators.
    * Classes (10): beach, circle farmland, cloud, desert, forest, mountain, rectangle farmland, residential,
      river, snowberg.
    * Splits: none official. Here a deterministic SHA-1 hash of ``<Class>/<file name>`` sends ``test_fraction``
      (default 0.2) of the images to "test"; use split "all" for zero-shot evaluation.
    * Citation: Z. Zhou et al., "NaSC-TG2: Natural Scene Classification With Tiangong-2 Remotely Sensed
      Imagery", IEEE JSTARS 14, 2021.
    * Format relied on (no real files here): the class list of the paper; folder = class as in the BED4RS
      distribution. Exact folder spelling is not assumed (see above).
    """

    name = "nasc_tg2"
    sensor = "Tiangong-2"
    folder_labels: ClassVar[dict[str, str]] = {
        "beach": "beach",
        "circle_farmland": "circle farmland",
        "cloud": "cloud",
        "desert": "desert",
        "forest": "forest",
        "mountain": "mountain",
        "rectangle_farmland": "rectangle farmland",
        "residential": "residential",
        "river": "river",
        "snowberg": "snowberg",
    }
