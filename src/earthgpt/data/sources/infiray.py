"""The InfiRay open infrared releases (Sea-shipping, Infrared-security, Aerial-mancar, Double-light-vehicle): one
reader, one table row per release, each registered under its own name with its own dataset card."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from earthgpt.data.sources._open_class_voc import OpenClassVoc
from earthgpt.data.sources.base import register


@dataclass(frozen=True)
class InfiRayRelease:
    """One InfiRay release: its source name, its title and download page, what it shows and how much the paper
    used (EarthGPT Table I training samples)."""

    name: str
    title: str
    content: str
    task: str
    samples: int
    url: str


INFIRAY_RELEASES: tuple[InfiRayRelease, ...] = (
    InfiRayRelease(
        "sea_shipping",
        "Sea-shipping",
        "infrared images of ships at sea and in harbours",
        "horizontal ship detection",
        16023,
        "http://openai.iraytek.com/apply/Sea_shipping.html",
    ),
    InfiRayRelease(
        "infrared_security",
        "Infrared-security",
        "infrared images of people and vehicles from security cameras",
        "horizontal object detection",
        17234,
        "http://openai.iraytek.com/apply/Infrared_security.html",
    ),
    InfiRayRelease(
        "aerial_mancar",
        "Aerial-mancar",
        "infrared aerial (drone) images of people and cars",
        "horizontal object detection",
        33051,
        "http://openai.raytrontek.com/apply/Aerial_mancar.html",
    ),
    InfiRayRelease(
        "double_light_vehicle",
        "Double-light-vehicle",
        "vehicle-mounted infrared images from a dual-light (visible + thermal) camera; the infrared frames are read",
        "horizontal object detection",
        7922,
        "http://openai.raytrontek.com/apply/Double_light_vehicle.html",
    ),
)


class InfiRayVoc(OpenClassVoc):
    """An InfiRay open infrared release in the VOC layout of :class:`OpenClassVoc`; ``release`` says which."""

    sensor: ClassVar[str] = "InfiRay thermal camera"
    release: ClassVar[InfiRayRelease]


def dataset_card(r: InfiRayRelease) -> str:
    """The class docstring of one release: what it is, where it comes from, what is relied on, the citation."""
    return f"""InfiRay {r.title} (2021): {r.content} (EarthGPT Table I: {r.samples:,} training samples).

    * Modality: infrared (thermal). Task: {r.task}.
    * Source: InfiRay (iRay Technology) open data, {r.url} (download after registration).
    * On disk and classes: see :class:`~earthgpt.data.sources._open_class_voc.OpenClassVoc` (VOC layout; classes
      as named in the xml).
    * Relied on: InfiRay distributes its open infrared sets for VOC/YOLO training; we could not get a copy or an
      authoritative description of this release, so the layout is the PASCAL VOC one and the class list is read
      from the files. The fake in tests/data/fakes/{r.name}.py is in that layout; check a real copy before
      relying on it.

    Citation: InfiRay. {r.title.replace("-", "_")}. {r.url}, 2021.
    """


def _release_class(r: InfiRayRelease) -> type[InfiRayVoc]:
    class_name = "".join(part.capitalize() for part in r.name.split("_"))
    attrs = {
        "name": r.name,
        "release": r,
        "__doc__": dataset_card(r),
        "__module__": __name__,
        "__qualname__": class_name,
    }
    return type(class_name, (InfiRayVoc,), attrs)


SOURCES: dict[str, type[InfiRayVoc]] = {r.name: _release_class(r) for r in INFIRAY_RELEASES}
for _cls in SOURCES.values():
    register(_cls)
    globals()[_cls.__name__] = _cls  # a module attribute, so that pickle (spawned build workers) finds it by name
