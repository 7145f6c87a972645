"""The EarthGPT module: hybrid vision encoder -> projector -> visual tokens scattered into the LLaMA input.

With an EarthGPT-X config (``config.x``) it also holds the prompt encoder, fusion, region encoder, view embedding,
``<seg>`` projector and mask decoder (models/visual.py), used only when a batch carries their inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn
from transformers import LlamaForCausalLM
from transformers.cache_utils import Cache
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

from earthgpt.errors import CheckpointMismatchError
from earthgpt.models import adapters
from earthgpt.models.config import EarthGPTConfig
from earthgpt.models.generation import GenerationSettings, generate, positions_from_mask
from earthgpt.models.inputs import VisualInputs
from earthgpt.models.pixel.loss import mask_bce, mask_dice
from earthgpt.models.projector import Projector
from earthgpt.models.vision.base import PixelNormalizer
from earthgpt.models.vision.hybrid import HybridEncoder
from earthgpt.models.visual import XPART_NAMES, VisualTokens, XParts, encode_visual, scatter_regions, seg_masks

__all__ = ["CheckpointMismatchError", "EarthGPT", "EarthGPTOutput"]

logger = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


@dataclass
class EarthGPTOutput:
    """Loss (when labels are given), next-token logits [B, T, V] and the KV cache (when requested).

    EarthGPT-X: ``lm_loss`` (the token CE), ``mask_loss`` (bce * BCE + dice * Dice, with mask targets) and
    ``mask_logits`` [M, S, S] (one per ``<seg>`` of ``input_ids``, row-major; None without ``<seg>``); ``loss`` is
    then ce * lm_loss + mask_loss.
    """

    loss: torch.Tensor | None
    logits: torch.Tensor
    past_key_values: Cache | None = None
    lm_loss: torch.Tensor | None = None
    mask_loss: torch.Tensor | None = None
    mask_logits: torch.Tensor | None = None


class EarthGPT(nn.Module):
    """Eq. 7 then Eq. 8: V_p = Projection(Concat(V_a, V_b)) placed at the image placeholders of the LLM input.

    ``input_ids`` [B, T] hold exactly ``num_image_tokens`` placeholders (``config.image_token_id``) per sample;
    ``encode_images`` gives [B, N, D] and the N vectors of sample b replace its N placeholders in order (LLaVA-style
    masked scatter). ``pixel_values`` [B, 3, S, S] are floats in [0, 1]; each vision branch normalises them itself.
    """

    prompt_encoder: nn.Module | None
    fusion: nn.Module | None
    region_encoder: nn.Module | None
    view_embedding: nn.Embedding | None
    seg_projector: nn.Module | None
    mask_decoder: nn.Module | None

    def __init__(
        self,
        config: EarthGPTConfig,
        vision: HybridEncoder,
        projector: Projector,
        llm: LlamaForCausalLM,
        x: XParts | None = None,
    ) -> None:
        super().__init__()
        if vision.num_tokens != config.num_image_tokens or vision.image_size != config.image_size:
            raise ValueError(
                f"vision encoder gives {vision.num_tokens} tokens at {vision.image_size}px; the config expects "
                f"{config.num_image_tokens} at {config.image_size}px"
            )
        if (x is None) != (config.x is None):
            raise ValueError("config.x and the EarthGPT-X parts go together: build the model with build_model")
        self.config = config
        self.vision = vision
        self.projector = projector
        self.llm = llm
        for name in XPART_NAMES:
            setattr(self, name, None if x is None else getattr(x, name))

    @property
    def num_image_tokens(self) -> int:
        """N: visual tokens per image."""
        return self.vision.num_tokens

    @property
    def image_size(self) -> int:
        """S: the model takes a square S x S image."""
        return self.vision.image_size

    @property
    def device(self) -> torch.device:
        return self.llm.lm_head.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.llm.lm_head.weight.dtype

    def encode_images(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Visual tokens V_p in the LLM's width and dtype: [B, 3, S, S] -> [B, N, D]."""
        features = self.vision(pixel_values.to(self.device))  # [B, N, Ca + Cb]
        features = features.to(self.projector.layers[0].weight.dtype)
        return self.projector(features).to(self.dtype)  # [B, N, D]

    def embed_inputs(
        self,
        input_ids: torch.Tensor,
        pixel_values: torch.Tensor | None = None,
        image_features: torch.Tensor | None = None,
        visual: VisualInputs | None = None,
    ) -> torch.Tensor:
        """Token embeddings with the visual tokens scattered into the placeholders: [B, T] -> [B, T, D].

        ``image_features`` ([B, N, D], from ``encode_images``) may be given instead of ``pixel_values``.
        ``visual`` (EarthGPT-X): views (``pixel_values`` [sum V, 3, S, S]) with their view embedding, prompt maps
        fused into the global view's tokens, region features at the ``<region>`` placeholders.
        """
        return self._embed(input_ids, pixel_values, image_features, visual, need_stages=False)[0]

    def _embed(
        self,
        input_ids: torch.Tensor,
        pixel_values: torch.Tensor | None,
        image_features: torch.Tensor | None,
        visual: VisualInputs | None,
        need_stages: bool,
    ) -> tuple[torch.Tensor, VisualTokens | None]:
        cfg = self.config
        image_mask = input_ids == cfg.image_token_id  # [B, T]
        region_mask = input_ids == cfg.x.region_token_id if cfg.x is not None else torch.zeros_like(image_mask)
        ids = input_ids.masked_fill(image_mask | region_mask, cfg.pad_token_id)
        embeds = self.llm.get_input_embeddings()(ids)  # [B, T, D]
        if visual is not None or need_stages:
            return self._embed_x(embeds, image_mask, region_mask, pixel_values, visual, need_stages)
        if bool(region_mask.any()):
            raise ValueError("input_ids hold <region> placeholders but no visual prompts were given (visual=None)")
        if pixel_values is None and image_features is None:
            if bool(image_mask.any()):
                raise ValueError(
                    f"input_ids hold image placeholders (id {cfg.image_token_id}) but no pixel_values were given"
                )
            return embeds, None
        if image_features is None:
            assert pixel_values is not None
            image_features = self.encode_images(pixel_values)  # [B, N, D]
        self._check_placeholders(image_mask, torch.ones(image_features.shape[0], dtype=torch.long))
        return embeds.masked_scatter(image_mask.unsqueeze(-1), image_features.to(embeds.dtype)), None

    def _x_parts(self) -> XParts:
        if self.config.x is None:
            raise ValueError(
                "this model has no prompt encoder / mask decoder (its config has no x part): visual prompts, views "
                "and <seg> masks need an EarthGPT-X model (`earthgpt model init` with the X tokens, or --sam)"
            )
        return XParts(**{name: getattr(self, name) for name in XPART_NAMES})

    def _embed_x(
        self,
        embeds: torch.Tensor,
        image_mask: torch.Tensor,
        region_mask: torch.Tensor,
        pixel_values: torch.Tensor | None,
        visual: VisualInputs | None,
        need_stages: bool,
    ) -> tuple[torch.Tensor, VisualTokens]:
        parts = self._x_parts()
        if pixel_values is None:
            raise ValueError("EarthGPT-X inputs (views, prompts, <seg>) need pixel_values: give the image")
        vt = encode_visual(
            self.vision,
            self.projector,
            parts,
            pixel_values.to(self.device),
            visual.to(self.device) if visual is not None else None,
            image_mask.shape[0],
            need_stages,
            self.dtype,
        )
        self._check_placeholders(image_mask, vt.views)
        embeds = embeds.masked_scatter(image_mask.unsqueeze(-1), vt.tokens.to(embeds.dtype))
        return scatter_regions(embeds, region_mask, vt.regions, visual), vt

    def _check_placeholders(self, image_mask: torch.Tensor, views: torch.Tensor) -> None:
        """Each sample b holds ``views[b]`` x N image placeholders; ``views`` [rows of images] for one view each."""
        if views.numel() != image_mask.shape[0]:
            raise ValueError(f"{views.numel()} images for {image_mask.shape[0]} token rows; give one image per row")
        counts = image_mask.sum(dim=1).cpu()  # [B]
        expected = views.cpu() * self.num_image_tokens  # [B]
        bad = (counts != expected).nonzero()
        if bad.numel():
            b = int(bad[0, 0])
            raise ValueError(
                f"sample {b} holds {int(counts[b])} image placeholders (id {self.config.image_token_id}); "
                f"expected exactly {int(expected[b])} ({int(views[b])} view(s) x {self.num_image_tokens}): expand "
                "the image token to N placeholders per view"
            )

    def forward(
        self,
        pixel_values: torch.Tensor | None,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        *,
        visual: VisualInputs | None = None,
        mask_targets: torch.Tensor | None = None,
        masks_per_sample: torch.Tensor | None = None,
    ) -> EarthGPTOutput:
        """Next-token logits [B, T, V] and, with ``labels`` [B, T] (-100 = no loss), the mean cross-entropy (Eq. 14).

        EarthGPT-X: ``visual`` as in ``embed_inputs``; every ``<seg>`` of ``input_ids`` gives one mask
        (``mask_logits`` [M, S, S]); ``mask_targets`` [M, S, S] in {0, 1} add the BCE and Dice terms.
        """
        x = self.config.x
        seg_mask = input_ids == x.seg_token_id if x is not None else None  # [B, T]
        has_seg = seg_mask is not None and bool(seg_mask.any())
        if mask_targets is not None and not has_seg:
            raise ValueError(f"{mask_targets.shape[0]} mask targets but input_ids hold no <seg> token")
        embeds, vt = self._embed(input_ids, pixel_values, None, visual, need_stages=has_seg)  # [B, T, D]
        position_ids = positions_from_mask(attention_mask) if attention_mask is not None else None
        extra = {"output_hidden_states": True} if has_seg else {}
        out = self.llm(
            inputs_embeds=embeds,
            attention_mask=attention_mask,
            position_ids=position_ids,
            labels=labels,
            use_cache=False,
            **extra,
        )
        if x is None:
            return EarthGPTOutput(loss=out.loss, logits=out.logits)
        mask_logits = None
        if has_seg:
            assert seg_mask is not None and vt is not None and vt.stages is not None
            seg_hidden = out.hidden_states[-1][seg_mask]  # [M, D]
            rows = vt.first_rows[seg_mask.nonzero()[:, 0].cpu()]  # [M]
            mask_logits = seg_masks(self._x_parts(), seg_hidden, vt.stages, rows)  # [M, S, S]
        mask_loss = None
        if mask_targets is not None:
            assert mask_logits is not None and seg_mask is not None
            self._check_masks(mask_targets, seg_mask, masks_per_sample)
            targets = mask_targets.to(mask_logits.device)
            mask_loss = x.bce_weight * mask_bce(mask_logits, targets) + x.dice_weight * mask_dice(mask_logits, targets)
        loss = None if out.loss is None else x.ce_weight * out.loss
        if mask_loss is not None:
            loss = mask_loss if loss is None else loss + mask_loss.to(loss.dtype)
        return EarthGPTOutput(
            loss=loss, logits=out.logits, lm_loss=out.loss, mask_loss=mask_loss, mask_logits=mask_logits
        )

    def _check_masks(
        self, targets: torch.Tensor, seg_mask: torch.Tensor, masks_per_sample: torch.Tensor | None
    ) -> None:
        found = seg_mask.sum(dim=1).cpu()  # [B]
        s = self.image_size
        if targets.dim() != 3 or tuple(targets.shape[1:]) != (s, s) or targets.shape[0] != int(found.sum()):
            raise ValueError(
                f"mask_targets {tuple(targets.shape)} for {int(found.sum())} <seg> tokens: expected "
                f"[{int(found.sum())}, {s}, {s}], one target per <seg> in the model's input geometry"
            )
        if masks_per_sample is not None and not torch.equal(masks_per_sample.cpu().long(), found.long()):
            raise ValueError(
                f"masks_per_sample={masks_per_sample.tolist()} but the samples hold {found.tolist()} <seg> tokens"
            )

    def decode_masks(self, seg_hidden: torch.Tensor, pixel_values: torch.Tensor) -> torch.Tensor:
        """Mask logits [M, S, S] for the ``<seg>`` hidden states [M, D] of ONE sample (after generation);
        ``pixel_values`` [1 or V, 3, S, S] are its views (masks are decoded against view 0, the global view)."""
        parts = self._x_parts()
        if seg_hidden.dim() != 2 or seg_hidden.shape[1] != self.config.llm.hidden_size:
            raise ValueError(f"seg_hidden {tuple(seg_hidden.shape)}: expected [M, {self.config.llm.hidden_size}]")
        if seg_hidden.shape[0] == 0:
            s = self.image_size
            return torch.zeros(0, s, s, device=self.device)
        stages = self.vision.cnn.stage_maps(pixel_values[:1].to(self.device))  # type: ignore[union-attr,operator]
        selected = tuple(stages[k] for k in self.vision.cnn.stage_indices)  # type: ignore[union-attr]
        rows = torch.zeros(seg_hidden.shape[0], dtype=torch.long)
        return seg_masks(parts, seg_hidden.to(self.device), selected, rows)  # [M, S, S]

    @torch.no_grad()
    def generate(
        self,
        pixel_values: torch.Tensor | None,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        max_new_tokens: int = 64,
        do_sample: bool = False,
        temperature: float = 1.0,
        top_p: float = 1.0,
        eos_token_id: int | None = None,
        stop_sequences: Sequence[Sequence[int]] | None = None,
        seed: int | None = None,
        visual: VisualInputs | None = None,
    ) -> list[list[int]]:
        """New tokens per sample (prompt, EOS and matched stop sequence excluded); prompts are LEFT-padded.

        ``eos_token_id`` defaults to the config's EOS (pass -1 to run to ``max_new_tokens``). Greedy unless
        ``do_sample``; ``seed`` makes sampling reproducible. See ``generation.GenerationSettings``; for the
        log-probabilities and ``<seg>`` states of each sample use ``generation.generate_samples``. ``visual``
        (EarthGPT-X views and prompts) goes to ``embed_inputs``.
        """
        settings = GenerationSettings(
            max_new_tokens=max_new_tokens,
            do_sample=do_sample,
            temperature=temperature,
            top_p=top_p,
            eos_token_id=self.config.eos_token_id if eos_token_id is None else eos_token_id,
            stop_sequences=tuple(tuple(s) for s in stop_sequences or ()),
            seed=seed,
        )
        return generate(self, pixel_values, input_ids, attention_mask, settings, visual)

    # ----- stage-2 adapters -------------------------------------------------------------------------------------

    def add_adapters(self, seed: int | None = 0) -> list[str]:
        """Put Eq. 15 scale/bias factors on every decoder linear layer (lm_head excluded); idempotent."""
        names = adapters.add_adapters(self.llm.model.layers, self.config.adapter_mu, self.config.adapter_sigma, seed)
        self.config = replace(self.config, adapters=True)
        return names

    def merge_adapters(self) -> list[str]:
        """Fold the factors into plain linear weights with biases; the model's outputs are unchanged."""
        names = adapters.merge_adapters_into(self.llm.model.layers)
        if names:
            self.config = replace(self.config, adapters=False, llm_linear_bias="all")
        return names

    # ----- checkpoints ------------------------------------------------------------------------------------------

    def save_pretrained(
        self,
        directory: str | Path,
        state_dict: dict[str, torch.Tensor] | None = None,
        config: EarthGPTConfig | None = None,
    ) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (never pickle) into ``directory``.

        ``state_dict``/``config`` override the model's own (used to export a merged model without changing it).
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        state = self.state_dict() if state_dict is None else state_dict
        save_file({k: v.detach().contiguous().cpu() for k, v in state.items()}, str(out / WEIGHTS_NAME))
        (config or self.config).save(out / CONFIG_NAME)
        return out

    def reset_buffers(self, device: str | torch.device) -> None:
        """Recreate the non-persistent buffers (pixel statistics, rotary frequencies) on ``device``."""
        for module in self.modules():
            if isinstance(module, PixelNormalizer):
                module.reset_buffers(device)
        with torch.device(device):
            self.llm.model.rotary_emb = LlamaRotaryEmbedding(config=self.llm.config)
