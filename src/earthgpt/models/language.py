"""The LLaMA-style language model: HF LlamaForCausalLM built from our config or loaded from a local directory."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn
from transformers import LlamaConfig, LlamaForCausalLM

from earthgpt.models.config import LinearBias, LLMConfig

logger = logging.getLogger(__name__)

QKV_NAMES: tuple[str, ...] = ("q_proj", "k_proj", "v_proj")


def llama_hf_config(
    cfg: LLMConfig, vocab_size: int, pad_token_id: int, bos_token_id: int, eos_token_id: int
) -> LlamaConfig:
    """The HF LlamaConfig for our LLM settings (untied input/output embeddings, as LLaMA-2)."""
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_kv_heads or cfg.num_heads,
        max_position_embeddings=cfg.max_position_embeddings,
        rms_norm_eps=cfg.rms_norm_eps,
        rope_parameters={"rope_type": "default", "rope_theta": cfg.rope_theta},
        initializer_range=cfg.initializer_range,
        pad_token_id=pad_token_id,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
        tie_word_embeddings=False,
        attention_bias=False,
        mlp_bias=False,
    )


def add_linear_biases(llm: LlamaForCausalLM, which: LinearBias) -> list[str]:
    """Give LLM linear layers a zero-initialised bias (q/k/v only, or every decoder linear); returns their names.

    LLaMA has no biases; Eqs. 9-11 train b_q, b_k, b_v, which start at zero so the model's function is unchanged.
    Layers that already have a bias keep it. ``lm_head`` never gets one.
    """
    added: list[str] = []
    for name, module in llm.model.layers.named_modules():
        if not isinstance(module, nn.Linear) or module.bias is not None:
            continue
        if which == "qkv" and name.rsplit(".", 1)[-1] not in QKV_NAMES:
            continue
        w = module.weight
        module.bias = nn.Parameter(torch.zeros(module.out_features, device=w.device, dtype=w.dtype))
        added.append(name)
    return added


def load_llama(local_dir: str | Path, cfg: LLMConfig, vocab_size: int, dtype: torch.dtype) -> LlamaForCausalLM:
    """Load HF-format LLaMA weights from a local directory and check they match ``cfg``.

    When ``vocab_size`` exceeds the checkpoint's vocabulary (added special tokens such as the image placeholder),
    the embeddings are resized and the new rows initialised to the mean embedding.
    """
    path = Path(local_dir)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path}: not an HF LLaMA directory (no config.json); pass the local LLaMA-2 dir")
    llm = LlamaForCausalLM.from_pretrained(path, local_files_only=True, dtype=dtype)
    hf = llm.config
    got = (hf.hidden_size, hf.num_hidden_layers, hf.num_attention_heads, hf.intermediate_size)
    want = (cfg.hidden_size, cfg.num_layers, cfg.num_heads, cfg.intermediate_size)
    if got != want:
        raise ValueError(
            f"{path}: LLaMA (hidden, layers, heads, ffn)={got} but the model config asks for {want}; "
            "use the matching size or edit the llm config"
        )
    if hf.vocab_size != vocab_size:
        logger.info("resizing LLaMA embeddings from %d to %d tokens", hf.vocab_size, vocab_size)
        llm.resize_token_embeddings(vocab_size, mean_resizing=True)
    return llm
