"""The EarthGPT-X inputs that travel beside the pixels: views, prompt maps and region placeholders of a batch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import torch

__all__ = ["VisualInputs", "forward_kwargs"]


@dataclass
class VisualInputs:
    """What a batch holds beyond ``pixel_values``/``input_ids`` (every field optional; ``None`` = plain EarthGPT).

    - ``num_views`` [B] long: views per sample; ``pixel_values`` is then [sum V, 3, S, S], sample-major, the global
      view first. Absent: one view per sample, ``pixel_values`` [B, 3, S, S].
    - ``prompt_maps`` [P, S, S] float in [0, 1]: one rasterised prompt per row, in the global view's input geometry,
      sample-major; ``prompts_per_sample`` [B] long.
    - ``region_index`` [R] long: for each region placeholder of ``input_ids`` in row-major order, the row of
      ``prompt_maps`` whose region feature replaces it.
    """

    num_views: torch.Tensor | None = None
    prompt_maps: torch.Tensor | None = None
    prompts_per_sample: torch.Tensor | None = None
    region_index: torch.Tensor | None = None

    @staticmethod
    def from_batch(batch: Mapping[str, object]) -> VisualInputs | None:
        """The fields a Collator batch holds, or ``None`` when it holds none of them."""
        values = {f.name: batch.get(f.name) for f in fields(VisualInputs)}
        if all(v is None for v in values.values()):
            return None
        return VisualInputs(**values)  # type: ignore[arg-type]

    def to(self, device: torch.device | str) -> VisualInputs:
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        return VisualInputs(**{k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in moved.items()})


def forward_kwargs(batch: Mapping[str, object]) -> dict[str, object]:
    """A Collator batch as ``EarthGPT.forward`` keywords: the VisualInputs fields gathered into ``visual``."""
    names = {f.name for f in fields(VisualInputs)}
    kwargs = {k: v for k, v in batch.items() if k not in names}
    visual = VisualInputs.from_batch(batch)
    if visual is not None:
        kwargs["visual"] = visual
    return kwargs
