"""InfiRay Aerial-mancar: infrared aerial (drone) images of people and cars (VOC xml)."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources.base import register
from earthgpt.data.sources.sea_shipping import OpenClassVoc


@register
class AerialMancar(OpenClassVoc):
    """InfiRay Aerial-mancar (2021): infrared aerial (drone) images of people and cars (EarthGPT Table I: 33,051 training samples).

    * Modality: infrared (thermal). Task: horizontal object detection.
    * Source: InfiRay (iRay Technology) open data, http://openai.raytrontek.com/apply/Aerial_mancar.html (download after registration).
    * On disk and classes: see :class:`~earthgpt.data.sources.sea_shipping.OpenClassVoc` (VOC layout; classes as
      named in the xml).
    * Relied on: InfiRay distributes its open infrared sets for VOC/YOLO training; we could not get a copy or an
      authoritative description of this release, so the layout is the PASCAL VOC one and the class list is read
      from the files. The fake in tests/data/fakes/aerial_mancar.py is in that layout; check a real copy before relying
      on it.

    Citation: InfiRay. Aerial_mancar. http://openai.raytrontek.com/apply/Aerial_mancar.html, 2021.
    """

    name: ClassVar[str] = "aerial_mancar"
    sensor: ClassVar[str] = "InfiRay thermal camera"
