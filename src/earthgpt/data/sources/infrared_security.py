"""InfiRay Infrared-security: infrared images of people and vehicles from security cameras (VOC xml)."""

from __future__ import annotations

from typing import ClassVar

from earthgpt.data.sources.base import register
from earthgpt.data.sources.sea_shipping import OpenClassVoc


@register
class InfraredSecurity(OpenClassVoc):
    """InfiRay Infrared-security (2021): infrared images of people and vehicles from security cameras (EarthGPT Table I: 17,234 training samples).

    * Modality: infrared (thermal). Task: horizontal object detection.
    * Source: InfiRay (iRay Technology) open data, http://openai.iraytek.com/apply/Infrared_security.html (download after registration).
    * On disk and classes: see :class:`~earthgpt.data.sources.sea_shipping.OpenClassVoc` (VOC layout; classes as
      named in the xml).
    * Relied on: InfiRay distributes its open infrared sets for VOC/YOLO training; we could not get a copy or an
      authoritative description of this release, so the layout is the PASCAL VOC one and the class list is read
      from the files. The fake in tests/data/fakes/infrared_security.py is in that layout; check a real copy before relying
      on it.

    Citation: InfiRay. Infrared_security. http://openai.iraytek.com/apply/Infrared_security.html, 2021.
    """

    name: ClassVar[str] = "infrared_security"
    sensor: ClassVar[str] = "InfiRay thermal camera"
