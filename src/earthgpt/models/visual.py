"""EarthGPT-X visual tokens: views with their view embedding, prompt fusion, region features, ``<seg>`` masks.

Everything here runs only when a batch carries EarthGPT-X inputs; a batch without them takes the plain EarthGPT
path of ``EarthGPT.embed_inputs`` unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from earthgpt.models.inputs import VisualInputs
from earthgpt.models.pixel.decoder import MaskDecoder, SegProjector
from earthgpt.models.projector import Projector
from earthgpt.models.prompts.encoder import RegionEncoder, SpatialAwareEncoder
from earthgpt.models.prompts.fusion import PromptFusion
from earthgpt.models.vision.hybrid import HybridEncoder

XPART_NAMES: tuple[str, ...] = (
    "prompt_encoder", "fusion", "region_encoder", "view_embedding", "seg_projector", "mask_decoder",
)  # fmt: skip
"""Submodule names of the EarthGPT-X parts on EarthGPT (the stage table and ``model info`` use them)."""


@dataclass
class XParts:
    """The EarthGPT-X modules a model holds beside the plain ones (built by ``builders.x_parts``)."""

    prompt_encoder: SpatialAwareEncoder
    fusion: PromptFusion
    region_encoder: RegionEncoder
    view_embedding: nn.Embedding
    seg_projector: SegProjector
    mask_decoder: MaskDecoder


@dataclass
class VisualTokens:
    """What the vision side gives the LLM input: image tokens of every view, region features, stage maps."""

    tokens: torch.Tensor
    """[sum V, N, D]: sample-major, view-major, with the view embedding added when the batch has views."""
    regions: torch.Tensor | None
    """[P, D]: one region feature per prompt row, or None without prompts."""
    stages: tuple[torch.Tensor, ...] | None
    """The CNN maps of the selected strides for every view row, stage k [sum V, C_k, h_k, h_k] (None if not run)."""
    first_rows: torch.Tensor
    """[B]: the row of each sample's global view in ``tokens``."""
    views: torch.Tensor
    """[B]: views per sample."""


def view_counts(visual: VisualInputs | None, num_rows: int, batch: int) -> torch.Tensor:
    """Views per sample [B] (ones without ``num_views``), checked against the ``num_rows`` pixel rows."""
    if visual is None or visual.num_views is None:
        if num_rows != batch:
            raise ValueError(f"{num_rows} images for {batch} token rows; give one image per row (or num_views)")
        return torch.ones(batch, dtype=torch.long)
    counts = visual.num_views.to("cpu", torch.long)
    if counts.numel() != batch or int(counts.sum()) != num_rows or bool((counts < 1).any()):
        raise ValueError(
            f"num_views={counts.tolist()} does not fit {num_rows} pixel rows for {batch} samples; the collator gives "
            "pixel_values [sum V, 3, S, S] with one count >= 1 per sample"
        )
    return counts


def _prompt_rows(visual: VisualInputs, batch: int) -> torch.Tensor:
    """The sample of every prompt row [P]."""
    assert visual.prompt_maps is not None
    per_sample = visual.prompts_per_sample
    if per_sample is None:
        raise ValueError("visual.prompt_maps given without prompts_per_sample; the collator sets both")
    per_sample = per_sample.to("cpu", torch.long)
    if per_sample.numel() != batch or int(per_sample.sum()) != visual.prompt_maps.shape[0]:
        raise ValueError(
            f"prompts_per_sample={per_sample.tolist()} does not fit {visual.prompt_maps.shape[0]} prompt maps "
            f"for {batch} samples"
        )
    return torch.repeat_interleave(torch.arange(batch), per_sample)


def fuse_prompts(
    parts: XParts, features: torch.Tensor, maps: torch.Tensor, owner: torch.Tensor, first_rows: torch.Tensor
) -> torch.Tensor:
    """Fuse each prompted sample's global-view features [sum V, N, C] with its prompts' tokens; others unchanged.

    ``maps`` [P, S, S], ``owner`` [P] (sample of each prompt row), ``first_rows`` [B].
    """
    prompt_tokens = parts.prompt_encoder(maps.to(features.device))  # [P, N, Cp]
    samples = torch.unique(owner)  # sorted
    counts = torch.stack([(owner == s).sum() for s in samples])  # [Bp]
    n, width = prompt_tokens.shape[1], prompt_tokens.shape[2]
    k_max = int(counts.max())
    padded = prompt_tokens.new_zeros(len(samples), k_max * n, width)  # [Bp, K*N, Cp]
    pad = torch.ones(len(samples), k_max * n, dtype=torch.bool, device=features.device)
    for i, s in enumerate(samples.tolist()):
        rows = prompt_tokens[owner == s].reshape(-1, width)  # [k*N, Cp]
        padded[i, : rows.shape[0]] = rows
        pad[i, : rows.shape[0]] = False
    rows = first_rows[samples].to(features.device)
    fused = parts.fusion(features[rows], padded, pad)  # [Bp, N, C]
    return features.index_copy(0, rows, fused.to(features.dtype))


def encode_visual(
    vision: HybridEncoder,
    projector: Projector,
    parts: XParts,
    pixel_values: torch.Tensor,
    visual: VisualInputs | None,
    batch: int,
    need_stages: bool,
    dtype: torch.dtype,
) -> VisualTokens:
    """The hybrid encoder over every view, prompt fusion on the global views, the projector, the view embedding
    and the region features: pixel_values [sum V, 3, S, S] -> ``VisualTokens``."""
    counts = view_counts(visual, pixel_values.shape[0], batch)
    first_rows = torch.cumsum(counts, 0) - counts  # [B]
    has_prompts = visual is not None and visual.prompt_maps is not None and visual.prompt_maps.shape[0] > 0
    stages = None
    if has_prompts or need_stages:
        features, all_stages = vision.encode_with_stages(pixel_values)  # [sum V, N, C]
        stages = tuple(all_stages[k] for k in vision.cnn.stage_indices)  # type: ignore[union-attr]
    else:
        features = vision(pixel_values)  # [sum V, N, C]
    regions = None
    if has_prompts:
        assert visual is not None and visual.prompt_maps is not None and stages is not None
        owner = _prompt_rows(visual, batch)  # [P]
        features = fuse_prompts(parts, features, visual.prompt_maps, owner, first_rows)
        prompt_rows = first_rows[owner].to(pixel_values.device)
        maps = visual.prompt_maps.to(pixel_values.device)
        regions = parts.region_encoder([s[prompt_rows] for s in stages], maps).to(dtype)  # [P, D]
    features = features.to(next(projector.parameters()).dtype)
    tokens = projector(features).to(dtype)  # [sum V, N, D]
    if visual is not None and visual.num_views is not None:
        view_index = torch.cat([torch.arange(int(c)) for c in counts]).to(tokens.device)  # [sum V]
        if int(view_index.max()) >= parts.view_embedding.num_embeddings:
            raise ValueError(
                f"a sample has {int(counts.max())} views; this model's view embedding holds "
                f"{parts.view_embedding.num_embeddings} (x.max_views): choose a smaller view plan"
            )
        tokens = tokens + parts.view_embedding(view_index).unsqueeze(1).to(dtype)  # [sum V, N, D]
    return VisualTokens(tokens=tokens, regions=regions, stages=stages, first_rows=first_rows, views=counts)


def scatter_regions(
    embeds: torch.Tensor, region_mask: torch.Tensor, regions: torch.Tensor | None, visual: VisualInputs | None
) -> torch.Tensor:
    """Region features [P, D] placed at the ``<region>`` placeholders (``region_mask`` [B, T]) via region_index."""
    found = int(region_mask.sum())
    index = None if visual is None else visual.region_index
    if found == 0 and (index is None or index.numel() == 0):
        return embeds
    if regions is None or index is None or index.numel() != found:
        given = 0 if index is None else index.numel()
        raise ValueError(
            f"input_ids hold {found} <region> placeholders but region_index lists {given} (with "
            f"{0 if regions is None else regions.shape[0]} prompt maps); build the batch with the Collator"
        )
    index = index.to(regions.device, torch.long)
    if bool((index < 0).any()) or bool((index >= regions.shape[0]).any()):
        raise ValueError(f"region_index {index.tolist()} points outside the {regions.shape[0]} prompt maps")
    return embeds.masked_scatter(region_mask.unsqueeze(-1), regions[index].to(embeds.dtype))


def seg_masks(
    parts: XParts, seg_hidden: torch.Tensor, stages: tuple[torch.Tensor, ...], image_rows: torch.Tensor
) -> torch.Tensor:
    """Mask logits [M, S, S] for ``seg_hidden`` [M, D]; ``image_rows`` [M] is the view row whose CNN maps each
    mask is decoded against (its sample's global view)."""
    unique, inverse = torch.unique(image_rows, return_inverse=True)
    unique = unique.to(stages[0].device)
    embeddings = parts.mask_decoder.image_embeddings([s[unique] for s in stages])  # [U, C, G, G]
    prompts = parts.seg_projector(seg_hidden)  # [M, C]
    return parts.mask_decoder(prompts, embeddings[inverse.to(embeddings.device)])  # type: ignore[no-any-return]
