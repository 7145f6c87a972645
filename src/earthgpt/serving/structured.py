"""Structured output next to the answer text: its boxes and masks in the input image's pixels, and GeoJSON in the
image's CRS for a georeferenced input."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from earthgpt.data.imagery import RasterInfo
from earthgpt.geometry import HBB, LabeledBox, denormalize, parse_boxes
from earthgpt.geometry.prompts import RleMask
from earthgpt.inference.output import Generation
from earthgpt.inference.scene.export import geojson
from earthgpt.inference.scene.predict import Answer, box_scores
from earthgpt.inference.scene.slicing import Scene
from earthgpt.serving.images import InputImage
from earthgpt.serving.protocol import BoxOut, EarthGPTOutput, MaskOut

__all__ = ["answer_boxes", "mask_polygons", "structured_output"]

Affine6 = tuple[float, float, float, float, float, float]


def answer_boxes(gen: Generation, width: int, height: int) -> list[LabeledBox]:
    """The boxes the answer writes in the paper's codec (normalised to the centred square of side max(w, h)) as
    pixel boxes of the ``width`` x ``height`` input, each scored by the model's own token probabilities."""
    parsed = parse_boxes(gen.text)
    answer = Answer(gen.text, tuple(gen.token_logprobs or ()), tuple(gen.token_spans or ()))
    scores = box_scores(answer, parsed.spans)
    out = []
    for lb, score in zip(parsed.boxes, scores, strict=True):
        box = denormalize(lb.box, width, height)
        if all(math.isfinite(v) for v in box.as_tuple()):
            out.append(LabeledBox(lb.label, box, score))
    return out


def mask_polygons(mask: RleMask, transform: Affine6 | None = None) -> list[list[list[float]]]:
    """The outer ring of each connected part of the mask as [[x, y], ...] (closed), in pixels or, with ``transform``
    (GDAL order a, b, c, d, e, f), in map coordinates; [] without rasterio (pip install earthgpt[geo])."""
    try:
        from rasterio.features import shapes
        from rasterio.transform import Affine
    except ImportError:
        return []
    arr = mask.to_array()  # [H, W] bool
    if not arr.any():
        return []
    affine = Affine(*transform) if transform is not None else Affine.identity()
    rings = []
    for geom, _ in shapes(arr.astype(np.uint8), mask=arr, transform=affine):
        rings.append([[float(x), float(y)] for x, y in geom["coordinates"][0]])
    return rings


def _mask_features(masks: list[RleMask], transform: Affine6) -> list[dict[str, Any]]:
    features = []
    for i, m in enumerate(masks):
        for ring in mask_polygons(m, transform):
            features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                             "properties": {"kind": "mask", "mask_index": i}})  # fmt: skip
    return features


def resize_mask(mask: RleMask, width: int, height: int) -> RleMask:
    """The mask at ``width`` x ``height`` (nearest pixel); itself when it has that size already."""
    if (mask.width, mask.height) == (width, height):
        return mask
    arr = Image.fromarray(mask.to_array().astype(np.uint8) * 255).resize((width, height), Image.Resampling.NEAREST)
    return RleMask.from_array(np.asarray(arr) > 0)


def structured_output(gen: Generation, image: InputImage) -> EarthGPTOutput:
    """Boxes, masks and (for a georeferenced image) GeoJSON of one answer about ``image``; masks given on a
    decimated view of a large image are brought back to its full size."""
    boxes = answer_boxes(gen, image.width, image.height)
    masks = [resize_mask(m, image.width, image.height) for m in gen.masks or ()]
    box_out = [
        BoxOut(
            kind="hbb" if isinstance(b.box, HBB) else "obb", coords=list(b.box.as_tuple()), label=b.label, score=b.score
        )
        for b in boxes
    ]
    mask_out = [
        MaskOut(rle=m.to_dict(), polygons=[[v for xy in ring for v in xy] for ring in mask_polygons(m)]) for m in masks
    ]
    collection = None
    if image.crs is not None and image.transform is not None:
        info = RasterInfo(width=image.width, height=image.height, bands=3, dtype="uint8")
        scene = Scene(Path("upload"), info, image.crs, image.transform, None)
        collection = geojson(scene, boxes)
        collection["features"] += _mask_features(masks, image.transform)
    return EarthGPTOutput(
        boxes=box_out,
        masks=mask_out,
        geojson=collection,
        width=image.width,
        height=image.height,
        crs=image.crs,
        warnings=list(image.warnings),
    )
