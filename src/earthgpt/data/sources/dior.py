"""DIOR: optical object detection in 20 classes with horizontal boxes (VOC xml)."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._dior import DiorLayout
from earthgpt.data.sources.base import register


@register
class Dior(DiorLayout):
    """DIOR (Li et al., ISPRS J. Photogramm. Remote Sens. 159, 2020), horizontal boxes.

    23,463 Google Earth images of 800x800 pixels (0.5-30 m), 192,472 objects in 20 classes.

    * Modality: optical. Task: object detection with horizontal boxes (``kind="hbb"``; oriented boxes are the
      separate ``dior_r`` source).
    * On disk (the official release)::

        Annotations/Horizontal Bounding Boxes/<id>.xml   VOC xml, <bndbox> xmin/ymin/xmax/ymax
        JPEGImages-trainval/<id>.jpg, JPEGImages-test/<id>.jpg
        ImageSets/Main/{train,val,test}.txt               split lists (CRLF line endings)

    * Coordinates are taken as written (pixel-edge coordinates, no 1-based shift).
    * Classes as written in the xml (matched ignoring case, as mmrotate does): airplane, airport, baseballfield,
      basketballcourt, bridge, chimney, dam, Expressway-Service-area, Expressway-toll-station, golffield,
      groundtrackfield, harbor, overpass, ship, stadium, storagetank, tenniscourt, trainstation, vehicle,
      windmill -> "airplane", ..., "expressway service area", "golf field", "ground track field", ...
    * Splits: the official train (5,862), val (5,863) and test (11,738) lists.
    * Relied on: the DIOR xml and split files as mirrored at zhuyuerong/rsclip (six real xml files and the split
      lists are in the shared data) and the DIOR-R layout used by mmrotate's ``DIORDataset``.

    Citation: K. Li, G. Wan, G. Cheng, L. Meng, J. Han. "Object detection in optical remote sensing images: A
    survey and a new benchmark." ISPRS J. Photogramm. Remote Sens. 159:296-307, 2020.
    """

    name: ClassVar[str] = "dior"
    annotation_dirs: ClassVar[dict[str, str]] = {"hbb": "Annotations/Horizontal Bounding Boxes"}
