"""HRSID mini test: HRSID SAR tiles with PNG ship masks; one ship per connected component of the mask."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

import numpy as np

from earthgpt.data.records import Modality, Record
from earthgpt.data.sources._detection import BoxKind, DetectionSource, RawObject, check_kind
from earthgpt.data.sources.base import DataRootError, Skip, register
from earthgpt.geometry.masks import mask_hbb, mask_obb
from earthgpt.geometry.prompts import RleMask

MIN_PIXELS = 4
"""A component smaller than this many pixels is raster noise, not a ship: it is skipped as ``empty_mask``."""


def ship_components(mask: np.ndarray) -> list[np.ndarray]:
    """The 8-connected components of a binary mask [H, W], in reading order of their first pixel."""
    from scipy import ndimage

    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    return [labels == k for k in range(1, n + 1)]


@register
class HrsidMini(DetectionSource):
    """HRSID mini test (atlan-antillia's copy of 36 HRSID tiles, 2025) with PNG ship masks.

    * Modality: SAR (800x800 HRSID tiles, SAR amplitude replicated to 3-channel JPEG). Task: ship detection with
      masks; boxes (HBB or, with ``kind="obb"``, the minimum-area rectangle) are derived from each ship's mask.
    * On disk (the root to pass is the folder holding ``mini_test``)::

        mini_test/images/<name>.jpg    the HRSID tile
        mini_test/masks/<name>.png     800x800 RGB, ship pixels (0, 255, 0), background black

    * Ships: the masks hold no instance ids; each 8-connected component is one ship (touching ships merge: a
      limit of the format). Components below ``MIN_PIXELS`` are skipped as ``empty_mask``; a mask whose size
      differs from its image is skipped whole as ``mask_size_mismatch``.
    * Masks were rasterised by the third party from HRSID's COCO polygons (their README), not by HRSID.
    * Classes: ship. Splits: ``test`` (the folder's name).

    Citation: S. Wei et al. "HRSID: A high-resolution SAR images dataset for ship detection and instance
    segmentation." IEEE Access 8:120234-120254, 2020.
    """

    name: ClassVar[str] = "hrsid_mini"
    modality: ClassVar[Modality] = "sar"
    sensor: ClassVar[str] = "Sentinel-1B, TerraSAR-X, TanDEM-X"
    splits: ClassVar[tuple[str, ...]] = ("test",)
    categories: tuple[str, ...] = ("ship",)
    label_map: Mapping[str, str] = {"ship": "ship"}

    def __init__(self, root: str | Path, split: str = "test", kind: BoxKind = "hbb") -> None:
        super().__init__(root, split)
        self.kind = check_kind(self.name, kind)
        self.mask_dir = self.root / "mini_test" / "masks"
        if not self.mask_dir.is_dir():
            raise DataRootError(f"hrsid_mini: {self.mask_dir} not found; pass the folder that holds mini_test/")

    def items(self) -> list[str]:
        return sorted(p.stem for p in self.mask_dir.glob("*.png"))

    def load(self, item: str) -> Iterator[Record | Skip]:
        from PIL import Image

        image = self.image_ref(item, f"mini_test/images/{item}.jpg")
        if isinstance(image, Skip):
            yield image
            return
        try:
            with Image.open(self.mask_dir / f"{item}.png") as im:
                rgb = np.asarray(im.convert("RGB"))  # [H, W, 3]
        except OSError as e:
            yield self.skip(item, "malformed_annotation", f"mask {item}.png: {e}")
            return
        if rgb.shape[:2] != (image.height, image.width):
            detail = f"mask {item}.png is {rgb.shape[1]}x{rgb.shape[0]} px, the image {image.width}x{image.height}"
            yield self.skip(item, "mask_size_mismatch", detail)
            return
        ships = rgb[..., 1] > 127  # green channel: ship pixels are (0, 255, 0)
        objects: list[RawObject] = []
        skips: list[Skip] = []
        for n, part in enumerate(ship_components(ships)):
            rows, cols = np.nonzero(part)
            if rows.size < MIN_PIXELS:
                skips.append(self.skip(item, "empty_mask", f"component {n}: {rows.size} px < {MIN_PIXELS}"))
                continue
            box = mask_hbb(rows, cols) if self.kind == "hbb" else mask_obb(rows, cols)
            objects.append(RawObject("ship", box, mask=RleMask.from_array(part)))
        yield from self.detections(item, image, objects, skips)
