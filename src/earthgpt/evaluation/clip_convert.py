"""open_clip ViT checkpoints (RemoteCLIP's format) -> the local Hugging Face CLIPModel directory ``ClipScorer`` reads.

RemoteCLIP (Liu et al., 2024) publishes ``RemoteCLIP-ViT-B-32.pt`` and friends as open_clip state dicts. The
paper ranks generated boxes with a RemoteCLIP score; ``--scorer clip:DIR`` needs DIR in ``CLIPModel`` format.
``convert_open_clip`` renames the tensors (the q/k/v projections are split out of ``in_proj_weight``, the
projections transposed), infers the sizes from the tensor shapes, and copies the CLIP BPE tokenizer files from a
local Hugging Face CLIP directory (open_clip checkpoints hold no tokenizer). Nothing is downloaded.

Choices the checkpoint cannot tell: attention heads default to width // 64 (open_clip's rule for its ViT
configs); the activation defaults to ``gelu``, as ``open_clip.create_model("ViT-B-32")`` builds the model that
RemoteCLIP's README loads the weights into (pass ``hidden_act="quick_gelu"`` for OpenAI-style models).
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

__all__ = ["TOKENIZER_FILES", "convert_open_clip", "open_clip_to_hf_state_dict"]

log = logging.getLogger(__name__)

TOKENIZER_FILES = (
    "vocab.json",
    "merges.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "preprocessor_config.json",
)
_BLOCK = re.compile(r"^(visual\.)?transformer\.resblocks\.(\d+)\.(.+)$")
_BLOCK_PARTS = {
    "ln_1": "layer_norm1",
    "ln_2": "layer_norm2",
    "mlp.c_fc": "mlp.fc1",
    "mlp.c_proj": "mlp.fc2",
    "attn.out_proj": "self_attn.out_proj",
}
_TOP = {
    "token_embedding.weight": "text_model.embeddings.token_embedding.weight",
    "positional_embedding": "text_model.embeddings.position_embedding.weight",
    "ln_final.weight": "text_model.final_layer_norm.weight",
    "ln_final.bias": "text_model.final_layer_norm.bias",
    "visual.class_embedding": "vision_model.embeddings.class_embedding",
    "visual.positional_embedding": "vision_model.embeddings.position_embedding.weight",
    "visual.conv1.weight": "vision_model.embeddings.patch_embedding.weight",
    "visual.ln_pre.weight": "vision_model.pre_layrnorm.weight",  # sic: the HF name
    "visual.ln_pre.bias": "vision_model.pre_layrnorm.bias",
    "visual.ln_post.weight": "vision_model.post_layernorm.weight",
    "visual.ln_post.bias": "vision_model.post_layernorm.bias",
    "logit_scale": "logit_scale",
}


def _block(tower: str, layer: str, rest: str, value: torch.Tensor) -> dict[str, torch.Tensor]:
    """One residual-block tensor -> its HF name(s); the fused q/k/v projection becomes three."""
    prefix = f"{tower}.encoder.layers.{layer}."
    if rest in ("attn.in_proj_weight", "attn.in_proj_bias"):
        kind = rest.rsplit("_", 1)[1]
        q, k, v = value.chunk(3, dim=0)
        return {f"{prefix}self_attn.{n}_proj.{kind}": t.clone() for n, t in zip("qkv", (q, k, v), strict=True)}
    module, _, param = rest.rpartition(".")
    if module not in _BLOCK_PARTS:
        raise KeyError(f"unexpected open_clip block tensor {rest!r}")
    return {f"{prefix}{_BLOCK_PARTS[module]}.{param}": value}


def open_clip_to_hf_state_dict(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """An open_clip ViT state dict (optionally under ``state_dict`` / ``module.``) -> CLIPModel tensor names.

    KeyError naming the tensor when the checkpoint is not an open_clip ViT (e.g. a ResNet or ConvNeXt tower).
    """
    out: dict[str, torch.Tensor] = {}
    for raw, value in state.items():
        name = raw.removeprefix("module.")
        m = _BLOCK.match(name)
        if m is not None:
            out.update(_block("vision_model" if m.group(1) else "text_model", m.group(2), m.group(3), value))
        elif name in _TOP:
            out[_TOP[name]] = value.reshape(-1) if name == "logit_scale" else value
        elif name == "visual.proj":
            out["visual_projection.weight"] = value.t().contiguous()
        elif name == "text_projection":
            out["text_projection.weight"] = value.t().contiguous()
        elif name != "attn_mask":
            raise KeyError(
                f"tensor {raw!r} is not part of an open_clip ViT checkpoint: only ViT towers convert "
                "(RemoteCLIP-ViT-B-32 / ViT-L-14; the RN50 one does not)"
            )
    out["logit_scale"] = out["logit_scale"].reshape(())
    return out


def _config(state: Mapping[str, torch.Tensor], heads: tuple[int | None, int | None], act: str) -> dict[str, Any]:
    """CLIPConfig arguments from the tensor shapes (see the module docstring for what they cannot tell)."""

    def layers(prefix: str) -> int:
        return 1 + max(int(k.split(".")[3]) for k in state if k.startswith(f"{prefix}.encoder.layers."))

    v_width = int(state["vision_model.embeddings.patch_embedding.weight"].shape[0])
    patch = int(state["vision_model.embeddings.patch_embedding.weight"].shape[-1])
    grid = round((state["vision_model.embeddings.position_embedding.weight"].shape[0] - 1) ** 0.5)
    t_width = int(state["text_model.embeddings.token_embedding.weight"].shape[1])
    return {
        "projection_dim": int(state["visual_projection.weight"].shape[0]),
        "vision_config": {
            "hidden_size": v_width,
            "intermediate_size": int(state["vision_model.encoder.layers.0.mlp.fc1.weight"].shape[0]),
            "num_hidden_layers": layers("vision_model"),
            "num_attention_heads": heads[0] or v_width // 64,
            "image_size": grid * patch,
            "patch_size": patch,
            "hidden_act": act,
        },
        "text_config": {
            "hidden_size": t_width,
            "intermediate_size": int(state["text_model.encoder.layers.0.mlp.fc1.weight"].shape[0]),
            "num_hidden_layers": layers("text_model"),
            "num_attention_heads": heads[1] or t_width // 64,
            "vocab_size": int(state["text_model.embeddings.token_embedding.weight"].shape[0]),
            "max_position_embeddings": int(state["text_model.embeddings.position_embedding.weight"].shape[0]),
            "hidden_act": act,
        },
    }


def convert_open_clip(
    checkpoint: str | Path | Mapping[str, torch.Tensor],
    out_dir: str | Path,
    tokenizer_dir: str | Path,
    vision_heads: int | None = None,
    text_heads: int | None = None,
    hidden_act: str = "gelu",
) -> Path:
    """Write ``out_dir`` as a CLIPModel directory (config, weights, tokenizer) from an open_clip ViT checkpoint.

    ``tokenizer_dir`` is a local HF CLIP directory whose tokenizer files are copied (and its
    ``preprocessor_config.json``, if any: the image mean and std); its eos token id goes into the text config.
    """
    from transformers import AutoTokenizer, CLIPConfig, CLIPModel

    src = Path(tokenizer_dir)
    if not any((src / f).is_file() for f in TOKENIZER_FILES[:3]):
        raise FileNotFoundError(
            f"{src} holds no tokenizer (vocab.json + merges.txt or tokenizer.json): pass a local Hugging Face CLIP "
            "directory (e.g. a saved openai/clip-vit-base-patch32); open_clip checkpoints carry no tokenizer"
        )
    if isinstance(checkpoint, Mapping):
        raw: Any = checkpoint
    else:
        raw = torch.load(Path(checkpoint), map_location="cpu", weights_only=True)
    raw = raw.get("state_dict", raw) if isinstance(raw, Mapping) else raw
    state = open_clip_to_hf_state_dict(raw)
    cfg = _config(state, (vision_heads, text_heads), hidden_act)
    tok = AutoTokenizer.from_pretrained(src, local_files_only=True)
    cfg["text_config"].update(eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id or 0)
    model = CLIPModel(CLIPConfig(**cfg))
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise KeyError(f"conversion left tensors unmatched: missing {missing[:5]}, unexpected {unexpected[:5]}")
    out = Path(out_dir)
    model.save_pretrained(out)
    for name in TOKENIZER_FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, out / name)
    log.info("wrote %s: CLIPModel %s", out, cfg["vision_config"])
    return out
