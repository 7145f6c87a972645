"""InfiRay Double-light-vehicle: vehicle-mounted infrared images from a dual-light (visible + thermal) camera; the infrared frames are read (VOC xml)."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources.base import register
from earthgpt.data.sources.sea_shipping import OpenClassVoc


@register
class DoubleLightVehicle(OpenClassVoc):
    """InfiRay Double-light-vehicle (2021): vehicle-mounted infrared images from a dual-light (visible + thermal) camera; the infrared frames are read (EarthGPT Table I: 7,922 training samples).

    * Modality: infrared (thermal). Task: horizontal object detection.
    * Source: InfiRay (iRay Technology) open data, http://openai.raytrontek.com/apply/Double_light_vehicle.html (download after registration).
    * On disk and classes: see :class:`~earthgpt.data.sources.sea_shipping.OpenClassVoc` (VOC layout; classes as
      named in the xml).
    * Relied on: InfiRay distributes its open infrared sets for VOC/YOLO training; we could not get a copy or an
      authoritative description of this release, so the layout is the PASCAL VOC one and the class list is read
      from the files. The fake in tests/data/fakes/double_light_vehicle.py is in that layout; check a real copy before relying
      on it.

    Citation: InfiRay. Double_light_vehicle. http://openai.raytrontek.com/apply/Double_light_vehicle.html, 2021.
    """

    name: ClassVar[str] = "double_light_vehicle"
    sensor: ClassVar[str] = "InfiRay thermal camera"
