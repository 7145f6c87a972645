"""DOTA object-level classification: each DOTA object's window of its image, labelled with its class."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from earthgpt.data.records import ImageRef, Record, SceneRecord, Tile
from earthgpt.data.sources._annotation_formats import DotaObject
from earthgpt.data.sources._detection import box_problem
from earthgpt.data.sources._dota import DotaLayout, DotaVersion
from earthgpt.data.sources.base import Skip, register
from earthgpt.geometry.polygons import enclosing_hbb


def with_tile(image: ImageRef, tile: Tile) -> ImageRef:
    """``image`` seen through a window: width/height become the window's, the tile records offset and source size."""
    return dataclasses.replace(image, width=tile.width, height=tile.height, tile=tile)


@register
class DotaCls(DotaLayout):
    """DOTA objects as a classification set (EarthGPT Table I lists DOTA under classification, 163,486 samples).

    Each object of a DOTA image becomes one :class:`SceneRecord` whose image is the window around the object in
    the original scene, given as an ImageRef with a :class:`Tile` (offset and size in scene pixels, no file is
    cut), and whose label is the object's class.

    * Modality: optical. Task: scene (object) classification.
    * On disk: the DOTA layout (see ``dota``): ``<split>/labelTxt/<stem>.txt`` and ``<split>/images/<stem>.png``.
    * Window: the box enclosing the object's polygon, grown by ``margin`` (a fraction of its width and height on
      each side, default 0), rounded outwards to whole pixels and clipped to the scene.
    * Objects whose polygon is NaN, has no area or lies outside the scene are skipped with that reason; difficult
      objects are kept. Classes and ``version``: as ``dota``.
    * Splits: the official ``train`` and ``val`` folders.

    Citation: G.-S. Xia et al. "DOTA: A large-scale dataset for object detection in aerial images." CVPR 2018.
    """

    name: ClassVar[str] = "dota_cls"
    tasks: ClassVar[tuple[str, ...]] = ("scene",)

    def __init__(
        self, root: str | Path, split: str = "train", version: DotaVersion = "1.0", margin: float = 0.0
    ) -> None:
        super().__init__(root, split, version)
        if not (margin >= 0.0 and math.isfinite(margin)):
            raise ValueError(f"dota_cls: option margin must be a finite fraction >= 0, got {margin!r}")
        self.margin = margin

    def load_objects(self, item: str, parsed: list[DotaObject], skips: list[Skip]) -> Iterator[Record | Skip]:
        scene = self.scene_ref(item)
        if isinstance(scene, Skip):
            yield scene
            return
        yield from skips
        for n, obj in enumerate(parsed):
            yield self._record(item, n, obj, scene)

    def _record(self, item: str, n: int, obj: DotaObject, scene: ImageRef) -> SceneRecord | Skip:
        category = self.category_of(obj.label)
        if category is None:
            return self.skip(item, "unknown_class", f"object {n}: {obj.label!r} is not one of {sorted(self.label_map)}")
        problem = box_problem(obj.box, scene.width, scene.height)
        if problem is not None:
            return self.skip(item, problem[0], f"object {n}: {problem[1]}")
        return SceneRecord(
            id=f"{item}/{n}",
            source=self.name,
            split=self.split,
            image=with_tile(scene, self.window(obj, scene)),
            label=category,
            categories=self.categories,
        )

    def window(self, obj: DotaObject, scene: ImageRef) -> Tile:
        """The object's window in scene pixels: enclosing box plus margin, whole pixels, inside the scene."""
        box = enclosing_hbb(obj.box)
        dx, dy = self.margin * box.width, self.margin * box.height
        x1 = max(0, math.floor(box.x1 - dx))
        y1 = max(0, math.floor(box.y1 - dy))
        x2 = min(scene.width, math.ceil(box.x2 + dx))
        y2 = min(scene.height, math.ceil(box.y2 + dy))
        return Tile(x=x1, y=y1, width=x2 - x1, height=y2 - y1, source_width=scene.width, source_height=scene.height)
