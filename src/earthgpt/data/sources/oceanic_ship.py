"""Oceanic ship: infrared ship images from Shandong University (VOC xml)."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources._open_class_voc import OpenClassVoc
from earthgpt.data.sources.base import register


@register
class OceanicShip(OpenClassVoc):
    """Oceanic ship (2020): infrared images of ships at sea (EarthGPT Table I: 2,505 training samples).

    * Modality: infrared. Task: horizontal ship detection.
    * Source: Center for Optics Research and Engineering of Shandong University,
      http://www.gxzx.sdu.edu.cn/info/1133/2174.html.
    * On disk and classes: see :class:`~earthgpt.data.sources._open_class_voc.OpenClassVoc` (VOC layout; classes as
      named in the xml).
    * Relied on: nothing authoritative could be found about this release's files; the layout is the PASCAL VOC
      one and the class list is read from the files. The fake in tests/data/fakes/oceanic_ship.py is in that
      layout; check a real copy before relying on it.

    Citation: Center for Optics Research and Engineering of Shandong University. oceanic-ship.
    http://www.gxzx.sdu.edu.cn/info/1133/2174.html, 2020.
    """

    name: ClassVar[str] = "oceanic_ship"
    sensor: ClassVar[str] = "infrared camera"
