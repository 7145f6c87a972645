"""EarthGPT-X requests of the Predictor: an RGB image with visual prompts and a view plan -> the model's inputs, and
the ``<seg>`` states after generation -> masks on the image (the inference side of data/dataset.py's ``x_parts``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from earthgpt.data.chat_template import ChatTemplate
from earthgpt.data.conversation import Message
from earthgpt.geometry.prompts import RleMask, VisualPrompt, region_name
from earthgpt.models.inputs import VisualInputs
from earthgpt.models.prompts.rasterise import mask_to_image, rasterise_prompts
from earthgpt.models.views import ViewPlan, plan_views, view_pixels


@dataclass(frozen=True)
class XRequest:
    """One dialogue's EarthGPT-X inputs: ``pixels`` [V, 3, S, S] (view 0 global), ``prompt_maps`` [P, S, S],
    ``region_index`` (K - 1 per ``<region>`` placeholder of ``input_ids``), and the image size masks map back to."""

    input_ids: list[int]
    pixels: torch.Tensor
    prompt_maps: torch.Tensor
    region_index: tuple[int, ...]
    width: int
    height: int


def build_request(
    template: ChatTemplate,
    rgb: np.ndarray,
    dialogue: Sequence[Message],
    prompts: Sequence[VisualPrompt],
    views: str,
    size: int,
) -> XRequest:
    """Check the prompts against the image (PromptError naming ``<regionK>``), plan and read the views, rasterise
    the prompts in the global view's input geometry and encode the dialogue with its region placeholders."""
    if rgb.ndim not in (2, 3):
        raise ValueError(f"the image is an array of shape {rgb.shape}; give [H, W, 3] RGB (or [H, W])")
    height, width = int(rgb.shape[0]), int(rgb.shape[1])
    checked = [p.validate(width, height, region_name(k)) for k, p in enumerate(prompts)]
    windows = plan_views(ViewPlan.parse(views, template.default_views), width, height, checked)
    pixels = torch.from_numpy(view_pixels(rgb, windows, size))  # [V, 3, S, S]
    enc = template.encode_request(dialogue, num_views=len(windows), num_prompts=len(checked))
    maps = torch.from_numpy(rasterise_prompts(checked, width, height, size))  # [P, S, S]
    return XRequest(enc.input_ids, pixels, maps, tuple(enc.region_index), width, height)


def tensor_request(template: ChatTemplate, pixels: torch.Tensor, dialogue: Sequence[Message]) -> XRequest:
    """A request from a ready model input [3, S, S] (no prompts, the global view only): its masks come back in the
    S x S pixels of that input, as nothing else is known of the image."""
    size = int(pixels.shape[-1])
    enc = template.encode_request(dialogue)
    return XRequest(enc.input_ids, pixels[None], torch.zeros(0, size, size), (), size, size)


def batch_visual(requests: Sequence[XRequest]) -> tuple[torch.Tensor, VisualInputs | None]:
    """Pixels [sum V, 3, S, S] (or [B, 3, S, S]) and the VisualInputs of a batch, None when it has no X content
    (one view and no prompt anywhere: the plain EarthGPT path)."""
    views = torch.tensor([r.pixels.shape[0] for r in requests], dtype=torch.long)  # [B]
    counts = torch.tensor([r.prompt_maps.shape[0] for r in requests], dtype=torch.long)  # [B]
    pixels = torch.cat([r.pixels for r in requests])
    if int(views.max()) == 1 and int(counts.sum()) == 0:
        return pixels, None
    starts = torch.cumsum(counts, 0) - counts  # [B] first prompt row of each sample
    index = [torch.tensor(r.region_index, dtype=torch.long) + starts[b] for b, r in enumerate(requests)]
    visual = VisualInputs(
        num_views=views if int(views.max()) > 1 else None,
        prompt_maps=torch.cat([r.prompt_maps for r in requests]) if int(counts.sum()) else None,
        prompts_per_sample=counts if int(counts.sum()) else None,
        region_index=torch.cat(index) if int(counts.sum()) else None,
    )
    return pixels, visual


def masks_on_image(mask_logits: torch.Tensor, request: XRequest) -> list[RleMask]:
    """Mask logits [M, S, S] in the global view's input geometry -> M masks on the request's image."""
    return [mask_to_image(m, request.width, request.height) for m in mask_logits]
