"""Glue from a built corpus to a trained model directory: tokenizer, model, stage, training loop, save."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

import torch
import yaml
from accelerate import PartialState
from transformers import PreTrainedTokenizerBase

from earthgpt.data.chat_template import ChatTemplate
from earthgpt.data.conversation import Conversation
from earthgpt.data.corpus import iter_conversations, read_manifest
from earthgpt.data.dataset import Collator, ConversationDataset
from earthgpt.data.tokenizer import image_token_id, load_tokenizer, train_tokenizer
from earthgpt.models import EarthGPT, EarthGPTConfig, PretrainedSources, build_model, named_config
from earthgpt.models.assemble import auto_config, describe, read_parts
from earthgpt.training import TrainConfig, TrainResult, train
from earthgpt.training.checkpoint import MODEL_FILE, read_model_tensors
from earthgpt.training.stages import apply_stage, train_everything

log = logging.getLogger(__name__)

Stage = Literal["scratch", "1", "2"]


@dataclass(frozen=True)
class TrainRun:
    """What `earthgpt train` does: which corpus, which model, which stage, how long."""

    data: str
    """A finished build directory (``earthgpt data build``): its train split is used."""
    out: str
    """Model directory to write: config.json, model.safetensors, tokenizer files; training state under run/."""
    stage: Stage = "scratch"
    """``scratch``: every parameter of a new model trains (CPU-size runs); ``1``/``2``: the paper's stages on ``init``."""
    init: str | None = None
    """Model directory to start from (required for stages 1 and 2)."""
    size: str = "tiny"
    """Named model size for ``scratch`` runs."""
    steps: int = 200
    batch_size: int = 8
    grad_accum: int = 1
    lr: float | None = None
    """Peak learning rate; default 1e-3 from scratch, the paper's 2e-5 for stages 1 and 2."""
    warmup_steps: int = 10
    seed: int = 0
    vocab_size: int = 1024
    """Size of the BPE tokenizer trained on the corpus for ``scratch`` runs."""
    max_length: int = 1024
    """Token budget of one conversation (longer ones are cut at the end)."""
    images: str | None = None
    """Folder the corpus's image paths are relative to; default: the build's data root."""
    resume: bool = False
    save_every: int = 0
    log_every: int = 10
    """Append a record to ``OUT/run/log.jsonl`` every this many steps (and at the last one)."""
    progress: bool = True


def load_train_run(path: str | Path | None = None, **overrides: Any) -> TrainRun:
    """A TrainRun from a YAML file (any of its fields) with keyword overrides; errors name the file and field."""
    values: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"training config {p} not found; pass a YAML file with TrainRun fields")
        loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{p}: expected a mapping of TrainRun fields, got {type(loaded).__name__}")
        values.update(loaded)
    values.update(overrides)
    known = {f.name for f in fields(TrainRun)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{path or 'options'}: unknown training option(s) {unknown}; known: {sorted(known)}")
    missing = [name for name in ("data", "out") if not values.get(name)]
    if missing:
        raise ValueError(f"training needs {' and '.join('--' + m for m in missing)} (or set them in --config)")
    if "stage" in values:
        values["stage"] = str(values["stage"])
        if values["stage"] not in ("scratch", "1", "2"):
            raise ValueError(f"stage must be scratch, 1 or 2, got {values['stage']!r}")
    return TrainRun(**values)


def corpus(build_dir: str | Path, split: str = "train") -> tuple[list[Conversation], Path]:
    """The conversations of one split of a build, and the folder their image paths are relative to."""
    manifest = read_manifest(build_dir)
    root = Path(manifest["config"]["data_root"])  # the build records the resolved (absolute) data root
    convs = [Conversation.from_dict(d) for d in iter_conversations(build_dir, split=split)]
    if not convs:
        raise ValueError(f"{build_dir}: the build holds no {split!r} conversations; add a {split} split to its sources")
    return convs, root


def token_ids(tok: PreTrainedTokenizerBase) -> dict[str, int]:
    """The vocabulary size and special token ids a model config takes from its tokenizer."""
    return {
        "vocab_size": len(tok),
        "image_token_id": image_token_id(tok),
        "pad_token_id": int(tok.pad_token_id),
        "bos_token_id": int(tok.bos_token_id),
        "eos_token_id": int(tok.eos_token_id),
    }


def new_model(
    conversations: list[Conversation], size: str = "tiny", vocab_size: int = 1024, seed: int = 0
) -> tuple[EarthGPT, PreTrainedTokenizerBase]:
    """A random-weight model of a named size with a BPE tokenizer trained on the conversations' text; every
    parameter inside the computation trainable (the vision encoders are random too, so they must learn)."""
    texts = [m.text for c in conversations for m in c.messages]
    tok = train_tokenizer(texts, vocab_size=vocab_size)
    cfg = named_config(size, **token_ids(tok))
    torch.manual_seed(seed)
    model = build_model(cfg)
    train_everything(model)
    return model, tok


def fit(
    model: EarthGPT,
    tok: PreTrainedTokenizerBase,
    conversations: list[Conversation],
    image_root: str | Path | None,
    config: TrainConfig,
    max_length: int = 1024,
) -> TrainResult:
    """Train ``model`` on conversations (images resolved against ``image_root``) with the training loop."""
    template = ChatTemplate(tok, model.num_image_tokens, max_length=max_length)
    dataset = ConversationDataset(conversations, template, model.image_size, image_root)
    return train(model, dataset, Collator(int(tok.pad_token_id)), config)


def train_from_build(run: TrainRun) -> TrainResult:
    """Train on a build's train split and write a loadable model directory to ``run.out``."""
    conversations, root = corpus(run.data)
    out = Path(run.out)
    out.mkdir(parents=True, exist_ok=True)
    if run.stage == "scratch":
        model, tok = new_model(conversations, run.size, run.vocab_size, run.seed)
    else:
        if not run.init:
            raise ValueError(f"stage {run.stage} continues a model: pass --init MODEL_DIR")
        model, tok = EarthGPT.from_pretrained(run.init), load_tokenizer(run.init)
        log.info("stage %s:\n%s", run.stage, apply_stage(model, int(run.stage), seed=run.seed))
    lr = run.lr if run.lr is not None else (1e-3 if run.stage == "scratch" else 2e-5)
    config = TrainConfig(
        out_dir=str(out / "run"),
        max_steps=run.steps,
        batch_size=run.batch_size,
        grad_accum=run.grad_accum,
        lr=lr,
        warmup_steps=min(run.warmup_steps, run.steps - 1),
        seed=run.seed,
        resume=run.resume,
        save_every=run.save_every,
        progress_bar=run.progress,
        log_every=run.log_every,
        save_full_model=True,
        extra={"stage": run.stage, "data": str(run.data)},
    )
    result = fit(model, tok, conversations, Path(run.images) if run.images else root, config, run.max_length)
    processes = PartialState()
    if processes.is_main_process:  # one writer; the checkpoint holds the gathered weights under any engine
        final = result.checkpoint_dir
        model.save_pretrained(out, state_dict=read_model_tensors(final / MODEL_FILE) if final else None)
        tok.save_pretrained(out)
        (out / "train_run.json").write_text(json.dumps(asdict(run), indent=1) + "\n", encoding="utf-8")
        if result.losses:
            log.info("model written to %s (loss %.3f -> %.3f)", out, result.losses[0], result.losses[-1])
    processes.wait_for_everyone()
    return result


def init_pretrained(
    sources: PretrainedSources,
    out: str | Path,
    tokenizer_dir: str | Path | None = None,
    size: str = "paper",
    config_fn: Callable[..., EarthGPTConfig] | None = None,
    image_size: int = 224,
) -> Path:
    """A model directory assembled from local pretrained parts (DINOv2 dir, ConvNeXt file or dir, LLaMA-family dir),
    ready for ``earthgpt train --stage 1 --init``. ``size="auto"`` reads each part's shape from its checkpoint
    (models/assemble.py); a named size checks the parts against it. The tokenizer is the LLM's (``tokenizer_dir``,
    default the LLaMA dir) with ``<image>`` and a pad token added; the embedding table grows to match. Nothing is
    downloaded."""
    tok_dir = tokenizer_dir or sources.llama_dir
    if tok_dir is None:
        raise ValueError("a tokenizer is needed: pass --llama (its tokenizer is used) or --tokenizer DIR")
    tok = load_tokenizer(tok_dir)
    ids = token_ids(tok)
    if config_fn is not None:
        cfg = config_fn(**ids)
    elif size == "auto":
        if None in (sources.dinov2_dir, sources.convnext_weights, sources.llama_dir):
            raise ValueError("--size auto reads the shapes from the checkpoints: pass --dinov2, --convnext and --llama")
        parts = read_parts(sources.dinov2_dir, sources.convnext_weights, sources.llama_dir)  # type: ignore[arg-type]
        cfg = auto_config(parts, image_size, **ids)
        log.info("assembled from the checkpoints: %s", json.dumps(describe(cfg)))
    else:
        cfg = named_config(size, **ids)
    model = build_model(cfg, pretrained=sources)
    out = Path(out)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    log.info("initial %s model written to %s", cfg.name, out)
    return out
