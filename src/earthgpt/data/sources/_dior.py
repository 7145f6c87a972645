"""The DIOR release as ``dior`` and ``dior_r`` read it: class names, image folders and the official split lists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from earthgpt.data.records import Modality
from earthgpt.data.sources._detection import VocSource

# class name as written in the DIOR / DIOR-R xml -> category name
DIOR_LABELS: dict[str, str] = {
    "airplane": "airplane",
    "airport": "airport",
    "baseballfield": "baseball field",
    "basketballcourt": "basketball court",
    "bridge": "bridge",
    "chimney": "chimney",
    "dam": "dam",
    "Expressway-Service-area": "expressway service area",
    "Expressway-toll-station": "expressway toll station",
    "golffield": "golf field",
    "groundtrackfield": "ground track field",
    "harbor": "harbor",
    "overpass": "overpass",
    "ship": "ship",
    "stadium": "stadium",
    "storagetank": "storage tank",
    "tenniscourt": "tennis court",
    "trainstation": "train station",
    "vehicle": "vehicle",
    "windmill": "windmill",
}
DIOR_IMAGE_DIRS = ("JPEGImages-trainval", "JPEGImages-test")
DIOR_SPLIT_FILES: dict[str, tuple[str, ...]] = {
    "train": ("ImageSets/Main/train.txt",),
    "val": ("ImageSets/Main/val.txt",),
    "test": ("ImageSets/Main/test.txt",),
}


class DiorLayout(VocSource):
    """The DIOR release: 23,463 Google Earth images in ``JPEGImages-trainval`` / ``JPEGImages-test``, the 20 classes
    as the xml writes them (matched ignoring case, as mmrotate does) and the ``ImageSets/Main/{train,val,test}.txt``
    lists. ``dior`` (horizontal boxes) and ``dior_r`` (oriented boxes) add their annotation folder."""

    modality: ClassVar[Modality] = "optical"
    sensor: ClassVar[str] = "Google Earth"
    splits: ClassVar[tuple[str, ...]] = ("train", "val", "test")
    categories: tuple[str, ...] = tuple(DIOR_LABELS.values())
    label_map: Mapping[str, str] = DIOR_LABELS
    loose_labels: ClassVar[bool] = True
    image_dirs: ClassVar[tuple[str, ...]] = DIOR_IMAGE_DIRS
    split_files: ClassVar[dict[str, tuple[str, ...]]] = DIOR_SPLIT_FILES
