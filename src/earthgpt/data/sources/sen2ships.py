"""sen2ships: whole Sentinel-2 port scenes with ship masks (COCO RLE), boxes derived from the masks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from earthgpt.data.records import Modality
from earthgpt.data.sources._annotation_formats import CocoImage
from earthgpt.data.sources._detection import BoxKind, CocoSource, RawObject
from earthgpt.data.sources._shared import hash_split
from earthgpt.data.sources.base import register
from earthgpt.geometry.masks import mask_hbb, mask_obb, rle_pixels

ANNOTATION_FILE = "sen2ships/coco_annotations.json"


@register
class Sen2Ships(CocoSource):
    """sen2ships (ShipDetectionExperts, 2023): vessels in Sentinel-2 L2A scenes of 20 ports, annotated in CVAT.

    One scene per port (424x316 to 2473x2305 pixels, 10 m, EPSG:3857), 582 ships of median size about 12x13
    pixels. The scenes stay whole here; the builder tiles them.

    * Modality: optical (multispectral Sentinel-2 MSI). Task: ship detection, horizontal (``kind="hbb"``) or
      oriented (``kind="obb"``).
    * On disk (the repository as distributed; the root is the repository folder)::

        sen2ships/coco_annotations.json      the combined COCO file (authoritative): images[{id, file_name
                                             '<port>_rgb.tiff', width, height}], annotations[{image_id, bbox,
                                             segmentation: uncompressed RLE {counts, size [h, w]}}], category ship
        sen2ships/<port>/<port>_rgb.tiff     true-colour GeoTIFF, 3 bands (uint16 in the copies we checked;
                                             only some ports ship it)
        sen2ships/<port>/*True_color.{png,jpg}  the same view exported from Sentinel Hub (PNG is RGBA)
        sen2ships/<port>/*_B02|B03|B04_(Raw).tiff  raw 16-bit single-band GeoTIFFs
        sen2ships/<port>/<port>_coco.json    older per-port files whose ids do not match: not read

    * Image: the ``<port>_rgb.tiff`` GeoTIFF, else the True_color PNG/JPG export (same size); ImageRef ``bands``
      and ``dtype`` describe that file as stored; its CRS and transform stay in the file. A port with only the
      separate raw band files is skipped as ``missing_image`` (an ImageRef names one raster; stacking B04/B03/B02
      into ``<port>_rgb.tiff`` makes it usable).
    * Boxes: from each RLE mask (pixel (r, c) covers [c, c+1] x [r, r+1]): HBB = the box enclosing the mask
      (equal to the json ``bbox``), OBB = the minimum-area rectangle around the mask's pixels. The uncompressed
      RLE is expanded run by run (tested equal to ``pycocotools.mask.decode``); compressed RLE uses pycocotools.
    * Masks: each object keeps its RLE mask (``DetectionRecord.masks``), checked against the image size.
    * Classes: ship. Splits: none official; a deterministic split by hash of the image file name, 20 % ``test``.
    * Relied on: the real repository files in the shared data (README, PROVENANCE, json, rasters).

    Citation: ShipDetectionExperts. sen2ships. https://github.com/ShipDetectionExperts/sen2ships, 2023.
    """

    name: ClassVar[str] = "sen2ships"
    modality: ClassVar[Modality] = "optical"
    sensor: ClassVar[str] = "Sentinel-2 MSI"
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    categories: tuple[str, ...] = ("ship",)
    label_map: Mapping[str, str] = {"ship": "ship"}
    test_fraction: ClassVar[float] = 0.2

    def __init__(self, root: str | Path, split: str = "train", kind: BoxKind = "hbb") -> None:
        super().__init__(root, split, ANNOTATION_FILE, "sen2ships", kind)

    def items(self) -> list[str]:
        names = super().items()
        if self._index is None:
            return names
        return [n for n in names if hash_split(n, self.test_fraction) == self.split]

    def image_path(self, entry: CocoImage) -> str:
        port = entry.file_name.removesuffix("_rgb.tiff")
        folder = self.root / self.image_dir / port
        rgb = folder / entry.file_name
        candidates = [rgb, *sorted(folder.glob("*True_color.png")), *sorted(folder.glob("*True_color.jpg"))]
        found = next((p for p in candidates if p.is_file()), rgb)
        return found.relative_to(self.root).as_posix()

    def read_annotation(self, ann: dict[str, Any], image: CocoImage) -> RawObject:
        mask = self.annotation_mask(ann, image)  # checked: size, content (MaskError skips the object)
        rows, cols = rle_pixels(ann.get("segmentation"), image.height, image.width)
        box = mask_hbb(rows, cols) if self.kind == "hbb" else mask_obb(rows, cols)
        return RawObject(self.label_of(ann), box, mask=mask)
