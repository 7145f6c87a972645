"""EuroSAT: Sentinel-2 land use / land cover classification, RGB jpg release and 13-band GeoTIFF release."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from earthgpt.data.sources._folder_classes import FolderClassSource, camel_to_words
from earthgpt.data.sources.base import register

_FOLDERS = (
    "AnnualCrop", "Forest", "HerbaceousVegetation", "Highway", "Industrial", "Pasture", "PermanentCrop",
    "Residential", "River", "SeaLake",
)  # fmt: skip

_RGB_DIRS = ("2750", "EuroSAT_RGB", "EuroSAT")
_MS_DIRS = ("ds/images/remote_sensing/otherDatasets/sentinel_2/tif", "EuroSAT_MS", "EuroSATallBands")
Release = Literal["auto", "rgb", "all_bands"]


@register
class EuroSAT(FolderClassSource):
    """EuroSAT, land use and land cover classification from Sentinel-2.

    * Modality: optical, Sentinel-2 MSI, 10 m per pixel, 64x64 px patches over 34 European countries.
    * Task: scene classification.
    * Size: 27,000 patches, 2,000 to 3,000 per class.
    * On-disk formats (option ``release``):
      - ``"rgb"``: ``EuroSAT.zip`` -> ``2750/<Class>/<Class>_<n>.jpg`` (newer copies: ``EuroSAT_RGB/<Class>/``),
        3-band uint8 JPEG.
      - ``"all_bands"``: ``EuroSATallBands.zip`` ->
        ``ds/images/remote_sensing/otherDatasets/sentinel_2/tif/<Class>/<Class>_<n>.tif`` (newer copies:
        ``EuroSAT_MS/<Class>/``), 13-band uint16 GeoTIFF (B01..B12 with B8A). Records keep ``bands=13`` and
        ``dtype="uint16"``; the 8-bit stretch happens at the model input.
      - ``"auto"`` (default): whichever of the two is found under ``root`` (RGB first).
      ``root`` is the unzipped folder or any of the nested folders above.
    * Classes (10): annual crop, forest, herbaceous vegetation, highway, industrial, pasture, permanent crop,
      residential, river, sea lake.
    * Splits: none official. Here a deterministic SHA-1 hash of ``<Class>/<file stem>`` (the stem, so a patch
      falls in the same split in both releases) sends ``test_fraction`` (default 0.2) to "test".
    * Citation: P. Helber et al., "EuroSAT: A Novel Dataset and Deep Learning Benchmark for Land Use and Land
      Cover Classification", IEEE JSTARS 12(7), 2019.
    * Format relied on (no real files here): the two official zips' layouts as documented by the authors and
      by torchgeo's EuroSAT loader.
    """

    name = "eurosat"
    sensor = "Sentinel-2 MSI"
    folder_labels: ClassVar[dict[str, str]] = {f: camel_to_words(f) for f in _FOLDERS}

    def __init__(
        self, root: str | Path, split: str = "train", test_fraction: float = 0.2, release: Release = "auto"
    ) -> None:
        if release not in ("auto", "rgb", "all_bands"):
            raise ValueError(f"eurosat: option release={release!r}; expected 'auto', 'rgb' or 'all_bands'")
        self.release = release
        if release == "rgb":
            self.nested_dirs, self.suffixes = _RGB_DIRS, (".jpg",)
        elif release == "all_bands":
            self.nested_dirs, self.suffixes = _MS_DIRS, (".tif",)
        else:
            self.nested_dirs, self.suffixes = _RGB_DIRS + _MS_DIRS, (".jpg", ".tif")
        super().__init__(root, split, test_fraction)

    def split_of(self, key: str) -> str:
        """The split of ``<Class>/<file name>``, keyed on the stem so both releases agree."""
        return super().split_of(str(Path(key).with_suffix("")))
