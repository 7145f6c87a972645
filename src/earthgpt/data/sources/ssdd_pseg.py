"""SSDD PSeg: the polygon-segmentation release of SSDD, VOC-style xml with one ``<segm>`` polygon per ship."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from typing import ClassVar

from earthgpt.data.masks import mask_from_polygons
from earthgpt.data.records import ImageRef, Modality, Record
from earthgpt.data.sources._annotation_formats import AnnotationError, read_number, read_xml, text
from earthgpt.data.sources._detection import RawObject, VocSource
from earthgpt.data.sources.base import Skip, register
from earthgpt.geometry import HBB
from earthgpt.geometry.polygons import min_area_obb

_FOLDER = "PSeg_SSDD/voc_style"


def segm_points(obj: ET.Element) -> list[tuple[float, float]]:
    """The polygon of an ``<object>``: its ``<segm><point>x,y</point>...`` vertices, in order."""
    segm = obj.find("segm")
    if segm is None:
        raise AnnotationError("<object> has no <segm> polygon")
    points: list[tuple[float, float]] = []
    for p in segm.findall("point"):
        x, _, y = (p.text or "").partition(",")
        points.append((read_number(x.strip(), "segm point x"), read_number(y.strip(), "segm point y")))
    return points


@register
class SsddPseg(VocSource):
    """SSDD, official release, polygon segmentation part (Zhang et al., Remote Sensing 13(18):3690, 2021).

    The 1,160 SSDD chips with each ship outlined by a polygon (the same images and split as ``ssdd``).

    * Modality: SAR. Task: ship detection with masks: the mask is the polygon rasterised by pycocotools, the box
      the polygon's enclosing box (``kind="hbb"``) or minimum-area rectangle (``kind="obb"``).
    * On disk (Official-SSDD-OPEN, the root to pass)::

        PSeg_SSDD/voc_style/Annotations_{train,test}/<stem>.xml   VOC xml, <size>, per <object> a <name> and a
                                                                   <segm> of <point>x,y</point> vertices
        PSeg_SSDD/voc_style/JPEGImages_{train,test}/<stem>.jpg

    * Bad polygons skip their ship: ``self_intersecting_polygon`` (crossing edges), ``empty_mask``,
      ``malformed_annotation`` (no <segm>, fewer than 3 points).
    * Classes: ship. Splits: the official ``train`` (928) and ``test`` (232) folders.
    * Relied on: public converters of PSeg_SSDD that read ``segm/point`` as "x,y" text (no real file here); the
      fake in tests/data/fakes/ssdd_pseg.py follows them.

    Citation: T. Zhang et al. "SAR ship detection dataset (SSDD): Official release and comprehensive data
    analysis." Remote Sensing 13(18):3690, 2021.
    """

    name: ClassVar[str] = "ssdd_pseg"
    modality: ClassVar[Modality] = "sar"
    sensor: ClassVar[str] = "RadarSat-2, TerraSAR-X, Sentinel-1"
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    categories: tuple[str, ...] = ("ship",)
    label_map: Mapping[str, str] = {"ship": "ship"}
    loose_labels: ClassVar[bool] = True
    annotation_dirs: ClassVar[dict[str, str]] = {
        "hbb": f"{_FOLDER}/Annotations_{{split}}",
        "obb": f"{_FOLDER}/Annotations_{{split}}",
    }
    split_by_folder: ClassVar[bool] = True

    def image_path(self, item: str, root: ET.Element) -> str:
        return self.find_image(item, [f"{_FOLDER}/JPEGImages_{self.split}"], (".jpg", ".png"))

    def load(self, item: str) -> Iterator[Record | Skip]:
        path = self.annotation_dir / f"{item}.xml"
        if not path.is_file():
            yield self.skip(item, "missing_annotation", f"{path} does not exist")
            return
        try:
            root = read_xml(path)
        except AnnotationError as e:
            yield self.skip(item, "malformed_annotation", str(e))
            return
        image = self.image_ref(item, self.image_path(item, root))
        if isinstance(image, Skip):
            yield image
            return
        objects, skips = self.read_objects(item, root.findall("object"), lambda o: self._object(o, image))
        yield from self.detections(item, image, objects, skips)

    def _object(self, obj: ET.Element, image: ImageRef) -> RawObject:
        points = segm_points(obj)
        flat = [v for xy in points for v in xy]
        mask = mask_from_polygons([flat], image.height, image.width, f"{text(obj, 'name', 'ship')} polygon")
        xs, ys = [x for x, _ in points], [y for _, y in points]
        box = HBB(min(xs), min(ys), max(xs), max(ys)) if self.kind == "hbb" else min_area_obb(points)
        return RawObject(text(obj, "name"), box, mask=mask)
