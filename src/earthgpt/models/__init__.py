"""The EarthGPT model: hybrid vision encoder, projector, LLaMA-style language model, stage adapters.

Component -> file (paper equations):
  vision/base.py       VisionEncoder interface (embed_dim, num_tokens, image_size), per-branch pixel normalisation
  vision/vit.py        multi-layer ViT branch, DINOv2 block outputs concatenated (Eqs. 1-3)
  vision/cnn.py        multi-scale CNN branch, ConvNeXt strides 4-32 on the ViT grid, 1x1 per scale (Eqs. 4-6)
  vision/hybrid.py     Concat(V_a, V_b) (Eq. 7, inner part)
  projector.py         the learnable projection to the LLM width (Eq. 7)
  language.py          LLaMA (HF LlamaForCausalLM) with zero-initialised q/k/v biases (Eqs. 9-11)
  adapters.py          stage-2 scale/bias factors on every decoder linear layer, and merging (Eqs. 15-16)
  earthgpt.py          visual tokens scattered into the token sequence (Eq. 8), loss (Eq. 14), checkpoints
  generation.py        batched KV-cached generation, sampling, stop rules, multi-turn ChatSession
  builders.py          component builders, the ``tiny`` and ``paper`` sizes, build_model
  convnext_weights.py  open_clip/timm ConvNeXt state dicts -> HF ConvNextModel
  state_dict.py        the one check of a state dict against a model (missing, unexpected, misshapen keys)
  loading.py           a saved model directory back into an EarthGPT
  info.py              parameter counts per part
EarthGPT-X (docs/earthgpt-x.md):
  inputs.py            VisualInputs: views, prompt maps, region placeholders of a batch
  prompts/rasterise.py prompts and masks in the input geometry, masks back to the image
  prompts/encoder.py   spatial-aware encoder (ViT over prompt maps), mask-pooled region tokens
  prompts/fusion.py    image/prompt fusion block before the projector
  pixel/decoder.py     <seg> projector and the SAM mask decoder over the CNN maps; pixel/loss.py BCE + Dice
  visual.py            the X side of embed_inputs: views + view embedding, fusion, regions, <seg> masks
  views.py             view plans (global, grid:K, region:K) and their pixels
"""

from earthgpt.models.builders import (
    SIZES,
    PretrainedSources,
    build_model,
    named_config,
    paper_config,
    tiny_config,
)
from earthgpt.models.config import CNNConfig, ConfigError, EarthGPTConfig, LLMConfig, ViTConfig
from earthgpt.models.earthgpt import CheckpointMismatchError, EarthGPT, EarthGPTOutput
from earthgpt.models.generation import ChatSession, GenerationSettings
from earthgpt.models.loading import load_pretrained

__all__ = [
    "SIZES",
    "CNNConfig",
    "ChatSession",
    "CheckpointMismatchError",
    "ConfigError",
    "EarthGPT",
    "EarthGPTConfig",
    "EarthGPTOutput",
    "GenerationSettings",
    "LLMConfig",
    "PretrainedSources",
    "ViTConfig",
    "build_model",
    "load_pretrained",
    "named_config",
    "paper_config",
    "tiny_config",
]
