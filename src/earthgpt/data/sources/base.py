"""The source interface: one dataset on disk in its native format -> typed records, with every skip named."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from earthgpt.data.records import Modality, Record

log = logging.getLogger(__name__)

SKIP_REASONS: tuple[str, ...] = (
    "missing_image",  # the annotation names an image that is not on disk
    "unreadable_image",  # the image exists but cannot be decoded (or is truncated)
    "image_over_pixel_budget",  # a valid image read whole that needs more pixels than $EARTHGPT_MAX_PIXELS allows
    "missing_annotation",  # an image (or split entry) without its annotation file
    "malformed_annotation",  # the annotation file cannot be parsed or lacks a required field
    "orphan_annotation",  # annotations of an image id that the annotation file does not list
    "empty_annotation",  # parsed, but holds nothing usable (e.g. a detection file with no objects)
    "box_outside_image",  # a box that lies wholly outside the image
    "box_beyond_image",  # a horizontal box reaching far past the image edge (written for another image size)
    "zero_area_box",  # a box with no area
    "nan_coordinate",  # a coordinate that is NaN or infinite
    "unknown_class",  # a class name outside the dataset's category list
    "ignored_region",  # an annotation that marks a region to ignore, not an object (DontCare, iscrowd, ...)
    "tile_without_objects",  # a tile cut from a large image that keeps no object
    "object_larger_than_tile",  # an object below the visibility threshold in every tile of its image
    "mask_size_mismatch",  # an object mask whose size differs from its image's
    "self_intersecting_polygon",  # a segmentation polygon whose edges cross (its area is ambiguous)
    "empty_mask",  # an RLE or polygon that sets no pixel
    "malformed_mask",  # a segmentation that is neither a COCO RLE nor a list of polygons
    "point_outside_mask",  # a point prompt that lies outside the mask of its object
    "source_error",  # an exception raised inside a source or a conversion (a bug to report, not bad data)
)


class DataRootError(FileNotFoundError):
    """The dataset's root directory is missing or is not laid out as the source expects."""


@dataclass(frozen=True)
class Skip:
    """One item (an image, an annotation file or a single object) that was not converted, and why."""

    source: str
    item: str
    reason: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.reason not in SKIP_REASONS:
            raise ValueError(f"unknown skip reason {self.reason!r}: add it to SKIP_REASONS with a comment")


class Source(ABC):
    """A dataset in its native on-disk format.

    ``items()`` lists the units of work (usually one image or annotation file) in a stable order; ``load(item)``
    turns one unit into records and skips. ``load`` never raises on bad data: every problem becomes a :class:`Skip`.
    The class docstring of each source is its dataset card.
    """

    name: ClassVar[str]
    modality: ClassVar[Modality] = "optical"
    tasks: ClassVar[tuple[str, ...]] = ()
    splits: ClassVar[tuple[str, ...]] = ("train",)

    def __init__(self, root: str | Path, split: str = "train") -> None:
        self.root = Path(root)
        if split not in self.splits:
            raise ValueError(f"{self.name}: unknown split {split!r}; this source has {self.splits}")
        self.split = split
        if not self.root.is_dir():
            raise DataRootError(
                f"{self.name}: data directory {self.root} does not exist; pass the folder that holds the "
                f"{self.name} files (option --data or environment variable EARTHGPT_DATA)"
            )

    @abstractmethod
    def items(self) -> list[str]:
        """The units of work, sorted, as strings that ``load`` accepts."""

    @abstractmethod
    def load(self, item: str) -> Iterator[Record | Skip]:
        """Records and skips for one unit; never raises on bad data."""

    def __iter__(self) -> Iterator[Record | Skip]:
        for item in self.items():
            yield from self.load(item)

    def skip(self, item: str, reason: str, detail: str = "") -> Skip:
        return Skip(source=self.name, item=item, reason=reason, detail=detail)


REGISTRY: dict[str, type[Source]] = {}


def register(cls: type[Source]) -> type[Source]:
    """Class decorator: make a source available by its ``name``."""
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ValueError(f"two sources are named {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls
