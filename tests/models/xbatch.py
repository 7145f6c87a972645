"""EarthGPT-X batches built by hand as contract.md describes them (ids, views, prompt maps, region index, masks)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from earthgpt.models import EarthGPT, EarthGPTConfig, build_model, tiny_config
from earthgpt.models.inputs import VisualInputs

from .conftest import BOS, EOS, IMAGE, PAD, VOCAB

REGION, SEG, VIEW = 4, 5, 6
N, S = 100, 160


def tiny_x_cfg() -> EarthGPTConfig:
    return tiny_config(
        vocab_size=VOCAB, image_token_id=IMAGE, pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS,
        region_token_id=REGION, seg_token_id=SEG, view_token_id=VIEW,
    )  # fmt: skip


def make_tiny_x(seed: int = 0) -> EarthGPT:
    return build_model(tiny_x_cfg(), seed=seed).eval()


@dataclass
class Sample:
    """One sample: its views, prompt boxes (x0, y0, x1, y1 in input pixels) and ``<seg>`` count."""

    views: int = 1
    prompts: tuple[tuple[int, int, int, int], ...] = ()
    segs: int = 0


@dataclass
class XBatch:
    pixel_values: torch.Tensor
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor
    visual: VisualInputs | None
    mask_targets: torch.Tensor | None
    masks_per_sample: torch.Tensor | None


def _ids(sample: Sample, seed: int) -> tuple[list[int], int]:
    """Token ids (right part = the 'answer') and where the answer starts."""
    g = torch.Generator().manual_seed(seed)
    text = lambda n: torch.randint(10, VOCAB, (n,), generator=g).tolist()  # noqa: E731
    ids = [BOS]
    for _ in range(sample.views):
        ids += ([VIEW] if sample.views > 1 else []) + [IMAGE] * N
    for _ in sample.prompts:
        ids += text(2) + [REGION]  # "<regionK>" as text, then its placeholder
    ids += text(3)
    start = len(ids)
    ids += text(2) + [t for _ in range(sample.segs) for t in (SEG, *text(1))] + [EOS]
    return ids, start


def x_batch(samples: list[Sample], seed: int = 0) -> XBatch:
    """Right-padded batch; pixel rows sample-major (view 0 global); prompts filled boxes; masks = prompt boxes."""
    g = torch.Generator().manual_seed(seed)
    rows = [_ids(s, seed + i) for i, s in enumerate(samples)]
    width = max(len(r) for r, _ in rows)
    ids = torch.full((len(samples), width), PAD)
    mask = torch.zeros(len(samples), width, dtype=torch.long)
    labels = torch.full((len(samples), width), -100)
    for b, (r, start) in enumerate(rows):
        ids[b, : len(r)] = torch.tensor(r)
        mask[b, : len(r)] = 1
        labels[b, start : len(r)] = torch.tensor(r[start:])
    pixels = torch.rand(sum(s.views for s in samples), 3, S, S, generator=g)
    maps, region_index, targets = [], [], []
    for s in samples:
        first = len(maps)
        for x0, y0, x1, y1 in s.prompts:
            m = torch.zeros(S, S)
            m[y0:y1, x0:x1] = 1.0
            maps.append(m)
        region_index += [first + k for k in range(len(s.prompts))]
        for k in range(s.segs):
            t = torch.zeros(S, S)
            t[20 + 10 * k : 60 + 10 * k, 30:90] = 1.0
            targets.append(t)
    fields: dict[str, torch.Tensor] = {}
    if any(s.views > 1 for s in samples):
        fields["num_views"] = torch.tensor([s.views for s in samples])
    if maps:
        fields["prompt_maps"] = torch.stack(maps)
        fields["prompts_per_sample"] = torch.tensor([len(s.prompts) for s in samples])
        fields["region_index"] = torch.tensor(region_index)
    visual = VisualInputs(**fields) if fields else None  # type: ignore[arg-type]
    has_masks = bool(targets)
    return XBatch(
        pixel_values=pixels,
        input_ids=ids,
        attention_mask=mask,
        labels=labels,
        visual=visual,
        mask_targets=torch.stack(targets) if has_masks else None,
        masks_per_sample=torch.tensor([s.segs for s in samples]) if has_masks else None,
    )
