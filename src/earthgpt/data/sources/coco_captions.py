"""Captions in COCO caption format (``images`` + ``annotations`` with ``caption``), e.g. RSICD converted to COCO."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from earthgpt.data.records import CaptionRecord, ImageRef, Record
from earthgpt.data.sources._annotation_formats import AnnotationError, read_int
from earthgpt.data.sources._karpathy import load_json
from earthgpt.data.sources._shared import ImageFinder, IndexedSource, probe_ref
from earthgpt.data.sources.base import DataRootError, Skip, register


@register
class COCOCaptions(IndexedSource[dict[str, Any]]):
    """Image captions in the COCO caption format.

    * Modality: optical (whatever the converted dataset holds; e.g. RSICD, 224x224 px).
    * Task: image captioning; every caption of an image is kept, repeats included.
    * On-disk format: ``{"images": [{"id", "file_name", "width", "height"}], "annotations": [{"id",
      "image_id", "caption"}], "info": {...}}``. The file is ``captions_<split>2017.json`` or
      ``captions_<split>.json`` anywhere below ``root`` (option ``annotation`` gives it relative to ``root``).
      Images are found by ``file_name`` anywhere below ``root``; their size is read from the file, never from the
      json (converted copies often state 224x224 for images stored at another size).
    * Option ``require_images`` (default True): when False, an image absent from disk still yields a record with
      the json's width/height, for text-only use (tokeniser, caption metrics); otherwise it is a "missing_image"
      skip.
    * Splits: train, val, test = which file is read. For the RSICD conversion (jwdevx/RSICD_multimodal_image_
      captioning) the split is the converter's own, NOT the official RSICD split.
    * Citation: that of the converted dataset (RSICD: X. Lu et al., IEEE TGRS 56(4), 2018).
    * Format relied on: the real RSICD COCO conversion in the project's shared data.
    """

    name = "coco_captions"
    tasks = ("caption",)
    splits = ("train", "val", "test")

    def __init__(
        self, root: str | Path, split: str = "train", annotation: str | None = None, require_images: bool = True
    ) -> None:
        super().__init__(root, split)
        self.annotation = self._find(annotation)
        self.require_images = require_images
        self._captions: dict[str, list[str]] = {}
        self._finder = ImageFinder(self.root)

    def _find(self, annotation: str | None) -> Path:
        if annotation:
            p = self.root / annotation
            if p.is_file():
                return p
            raise DataRootError(f"coco_captions: annotation file {p} not found; check option annotation=...")
        names = (f"captions_{self.split}2017.json", f"captions_{self.split}.json")
        found = sorted(p for n in names for p in self.root.rglob(n))
        if not found:
            raise DataRootError(
                f"coco_captions: no {' or '.join(names)} below {self.root}; pass the folder holding it or give "
                "option annotation=<file relative to root>"
            )
        return found[0]

    def read_entries(self) -> dict[str, dict[str, Any]]:
        images: dict[str, dict[str, Any]] = {}
        try:
            data = load_json(self.annotation)
            image_list, ann_list = data["images"], data["annotations"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            self._bad["annotation"] = f"{self.annotation}: {e}"
            image_list, ann_list = [], []
        for i, im in enumerate(image_list):
            if not isinstance(im, dict) or "id" not in im or not isinstance(im.get("file_name"), str):
                self._bad[f"image:{i}"] = f"images[{i}] of {self.annotation.name} lacks id or file_name"
                continue
            images[str(im["id"])] = im
            self._captions[str(im["id"])] = []
        for i, ann in enumerate(ann_list):
            key = str(ann.get("image_id")) if isinstance(ann, dict) else ""
            if key not in images or not isinstance(ann.get("caption"), str):
                self._bad[f"annotation:{i}"] = f"annotations[{i}] has no caption or an unknown image_id"
                continue
            self._captions[key].append(ann["caption"].strip())
        return images

    def _ref(self, item: str, im: dict[str, Any]) -> ImageRef | Skip:
        rel = self._finder.find(im["file_name"])
        if rel is not None:
            return probe_ref(self, rel, item=item)
        if self.require_images:
            return self.skip(
                item, "missing_image", f"{im['file_name']} ({self.annotation.name}) is not below {self.root}"
            )
        try:
            width, height = read_int(im.get("width"), "width"), read_int(im.get("height"), "height")
            return ImageRef(path=im["file_name"], width=width, height=height)
        except AnnotationError:
            return self.skip(item, "malformed_annotation", f"image {item} has no width/height in the json")

    def load_entry(self, item: str, im: dict[str, Any] | None) -> Iterator[Record | Skip]:
        if im is None:
            yield self.skip(item, "missing_annotation", f"image id {item} is not in {self.annotation}")
            return
        captions = tuple(c for c in self._captions[item] if c)
        if not captions:
            yield self.skip(item, "empty_annotation", f"image id {item} ({im['file_name']}) has no caption")
            return
        ref = self._ref(item, im)
        if isinstance(ref, Skip):
            yield ref
            return
        yield CaptionRecord(
            id=Path(im["file_name"]).stem, source=self.name, split=self.split, image=ref, captions=captions
        )
