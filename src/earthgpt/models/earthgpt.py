"""The EarthGPT module: hybrid vision encoder -> projector -> visual tokens scattered into the LLaMA input."""

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
from earthgpt.models.projector import Projector
from earthgpt.models.vision.base import PixelNormalizer
from earthgpt.models.vision.hybrid import HybridEncoder

__all__ = ["CheckpointMismatchError", "EarthGPT", "EarthGPTOutput"]

logger = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


@dataclass
class EarthGPTOutput:
    """Loss (when labels are given), next-token logits [B, T, V] and the KV cache (when requested)."""

    loss: torch.Tensor | None
    logits: torch.Tensor
    past_key_values: Cache | None = None


class EarthGPT(nn.Module):
    """Eq. 7 then Eq. 8: V_p = Projection(Concat(V_a, V_b)) placed at the image placeholders of the LLM input.

    ``input_ids`` [B, T] hold exactly ``num_image_tokens`` placeholders (``config.image_token_id``) per sample;
    ``encode_images`` gives [B, N, D] and the N vectors of sample b replace its N placeholders in order (LLaVA-style
    masked scatter). ``pixel_values`` [B, 3, S, S] are floats in [0, 1]; each vision branch normalises them itself.
    """

    def __init__(
        self, config: EarthGPTConfig, vision: HybridEncoder, projector: Projector, llm: LlamaForCausalLM
    ) -> None:
        super().__init__()
        if vision.num_tokens != config.num_image_tokens or vision.image_size != config.image_size:
            raise ValueError(
                f"vision encoder gives {vision.num_tokens} tokens at {vision.image_size}px; the config expects "
                f"{config.num_image_tokens} at {config.image_size}px"
            )
        self.config = config
        self.vision = vision
        self.projector = projector
        self.llm = llm

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
    ) -> torch.Tensor:
        """Token embeddings with the visual tokens scattered into the placeholders: [B, T] -> [B, T, D].

        ``image_features`` ([B, N, D], from ``encode_images``) may be given instead of ``pixel_values``.
        """
        cfg = self.config
        image_mask = input_ids == cfg.image_token_id  # [B, T]
        ids = input_ids.masked_fill(image_mask, cfg.pad_token_id)
        embeds = self.llm.get_input_embeddings()(ids)  # [B, T, D]
        if pixel_values is None and image_features is None:
            if bool(image_mask.any()):
                raise ValueError(
                    f"input_ids hold image placeholders (id {cfg.image_token_id}) but no pixel_values were given"
                )
            return embeds
        if image_features is None:
            assert pixel_values is not None
            image_features = self.encode_images(pixel_values)  # [B, N, D]
        self._check_placeholders(image_mask, image_features.shape[0])
        return embeds.masked_scatter(image_mask.unsqueeze(-1), image_features.to(embeds.dtype))

    def _check_placeholders(self, image_mask: torch.Tensor, num_images: int) -> None:
        if image_mask.shape[0] != num_images:
            raise ValueError(f"{num_images} images for {image_mask.shape[0]} token rows; give one image per row")
        counts = image_mask.sum(dim=1)  # [B]
        bad = (counts != self.num_image_tokens).nonzero()
        if bad.numel():
            b = int(bad[0, 0])
            raise ValueError(
                f"sample {b} holds {int(counts[b])} image placeholders (id {self.config.image_token_id}); "
                f"expected exactly {self.num_image_tokens}: expand the image token to N placeholders"
            )

    def forward(
        self,
        pixel_values: torch.Tensor | None,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> EarthGPTOutput:
        """Next-token logits [B, T, V] and, with ``labels`` [B, T] (-100 = no loss), the mean cross-entropy (Eq. 14)."""
        embeds = self.embed_inputs(input_ids, pixel_values)  # [B, T, D]
        position_ids = positions_from_mask(attention_mask) if attention_mask is not None else None
        out = self.llm(
            inputs_embeds=embeds,
            attention_mask=attention_mask,
            position_ids=position_ids,
            labels=labels,
            use_cache=False,
        )
        return EarthGPTOutput(loss=out.loss, logits=out.logits)

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
