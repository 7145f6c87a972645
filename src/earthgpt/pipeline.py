"""Glue from a built corpus to a trained model directory: tokenizer, model, stage recipe, training loop, save."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
import yaml
from accelerate import PartialState
from transformers import PreTrainedTokenizerBase

from earthgpt.data.augment import Augmentation
from earthgpt.data.chat_template import ChatTemplate
from earthgpt.data.conversation import Conversation
from earthgpt.data.corpus import iter_conversations, read_manifest
from earthgpt.data.dataset import Collator, ConversationDataset
from earthgpt.data.location_tokens import check_box_tokens
from earthgpt.data.tokenizer import (
    image_token_id,
    load_tokenizer,
    region_token_id,
    seg_token_id,
    train_tokenizer,
    view_token_id,
)
from earthgpt.errors import ConfigError
from earthgpt.models import EarthGPT, EarthGPTConfig, PretrainedSources, build_model, load_pretrained, named_config
from earthgpt.models.assemble import auto_config, describe, read_parts
from earthgpt.models.info import info_config, model_info
from earthgpt.training import TrainConfig, TrainResult
from earthgpt.training.recipes import recipe, run_stage
from earthgpt.training.stages import stage_info, stage_spec

log = logging.getLogger(__name__)

RUN_SET_FIELDS: tuple[str, ...] = ("out_dir", "extra", "base_weights")
"""TrainConfig fields that ``earthgpt train`` sets itself (from ``out``, the stage and ``init``)."""
ALIASES: dict[str, str] = {"steps": "max_steps"}
"""Other names accepted for TrainConfig fields (flags and YAML keys)."""
DEPRECATED: dict[str, str] = {"data": "build"}
"""Old TrainRun names still accepted for one release, with a warning naming the new one."""
RUN_RECORD = "train_run.json"
"""What a trained model directory records of the run that made it (provenance)."""


@dataclass(frozen=True)
class TrainRun:
    """What `earthgpt train` does: which corpus, which model, which stage; ``train`` overrides the stage's recipe."""

    build: str
    """A finished build directory (``earthgpt data build``): its train split is the corpus."""
    out: str
    """Model directory to write: config.json, model.safetensors, tokenizer files; training state under run/."""
    stage: str = "scratch"
    """A row of the stage table (training/stages.py): ``scratch`` trains a new random-weight model (CPU-size runs);
    ``1``/``2`` the paper's stages on ``init`` with the paper's recipe."""
    init: str | None = None
    """Model directory to start from (required for stages 1 and 2; see ``earthgpt model init``). With ``scratch`` it
    continues that model (a shipped one, or any ``earthgpt train`` output) with every parameter trainable: its
    tokenizer, size and parts are kept, and ``size``, ``vocab_size``, ``image_size``, ``box_tokens`` and ``x`` are
    ignored."""
    size: str = "tiny"
    """Named model size for ``scratch`` runs: tiny or paper."""
    vocab_size: int = 1024
    """Size of the BPE tokenizer trained on the corpus for ``scratch`` runs."""
    image_size: int | None = None
    """Input size in pixels of a ``scratch`` model (a multiple of 32; default: the size's own, 160 for tiny)."""
    box_tokens: str = "text"
    """How ``scratch`` runs tokenise boxes: ``text`` (the written digits) or ``location`` (one ``<loc_NNN>`` token per
    coordinate, written back as the text on decode; docs/boxes.md). Saved with the tokenizer."""
    max_length: int = 1024
    """Token budget of one conversation (longer ones are not trained; the run counts them)."""
    x: bool | None = None
    """Whether a ``scratch`` model gets the EarthGPT-X parts (prompt encoder, fusion, region tokens, mask decoder);
    None: when the corpus holds any conversation with visual prompts, target masks or a view plan."""
    images: str | None = None
    """Folder the corpus's image paths are relative to; default: the build's data root."""
    warmup_fraction: float | None = None
    """Warmup as a fraction of max_steps (default: the stage's, 3% for stages 1 and 2); --warmup-steps wins."""
    train: Mapping[str, Any] = field(default_factory=dict)
    """TrainConfig fields that replace the stage's defaults (flags such as --lr and --max-steps, or YAML keys)."""

    def train_config(self) -> TrainConfig:
        """The stage's recipe with this run's overrides; checkpoints go to ``out/run``."""
        base = self.init if stage_spec(self.stage).needs_init else None
        overrides = {"base_weights": base, **self.train}
        return recipe(self.stage, str(Path(self.out) / "run"), warmup_fraction=self.warmup_fraction, **overrides)


def _read_yaml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"training config {p} not found; pass a YAML file of TrainRun/TrainConfig fields")
    loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{p}: expected a mapping of training options, got {type(loaded).__name__}")
    return loaded


def _split_options(values: Mapping[str, Any], where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Flat options -> (TrainRun fields, TrainConfig overrides), resolving aliases and deprecated names."""
    run_fields = {f.name for f in fields(TrainRun)} - {"train"}
    train_fields = {f.name for f in fields(TrainConfig)} - set(RUN_SET_FIELDS)
    run: dict[str, Any] = {}
    train: dict[str, Any] = {}
    for key, value in values.items():
        if key in DEPRECATED:
            log.warning("%s: %r is deprecated for training, use %r (a build directory)", where, key, DEPRECATED[key])
            key = DEPRECATED[key]
        key = ALIASES.get(key, key)
        if key in run_fields:
            run[key] = value
        elif key in train_fields:
            train[key] = value
        elif key in RUN_SET_FIELDS:
            raise ConfigError(f"{where}: {key!r} is set by `earthgpt train` itself (from --out, --stage, --init)")
        else:
            known = sorted(run_fields | train_fields | set(ALIASES))
            raise ConfigError(f"{where}: unknown training option {key!r}; known: {known}")
    return run, train


def load_train_run(path: str | Path | None = None, **overrides: Any) -> TrainRun:
    """A TrainRun from a YAML file (TrainRun and TrainConfig fields, flat) with keyword overrides; the result is
    checked (stage, init, every TrainConfig value) before anything runs, and errors name the file and field."""
    where = str(path) if path is not None else "options"
    run, train = _split_options(_read_yaml(path) if path is not None else {}, where)
    more_run, more_train = _split_options(overrides, "options")
    run, train = run | more_run, train | more_train
    missing = [name for name in ("build", "out") if not run.get(name)]
    if missing:
        raise ConfigError(f"training needs {' and '.join('--' + m for m in missing)} (or set them in --config)")
    run["stage"] = str(run.get("stage", "scratch"))
    spec = stage_spec(run["stage"])
    if spec.needs_init and not run.get("init"):
        raise ConfigError(f"stage {run['stage']} continues a model: pass --init MODEL_DIR (`earthgpt model init`)")
    result = TrainRun(**run, train=train)
    try:
        check_box_tokens(result.box_tokens, f"{where}: box_tokens")
    except ValueError as e:
        raise ConfigError(str(e)) from e
    result.train_config()  # validates every value now, naming the field
    return result


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


def x_token_ids(tok: PreTrainedTokenizerBase) -> dict[str, int]:
    """The EarthGPT-X token ids a model config takes (``<region>``, ``<seg>``, ``<view>``)."""
    return {
        "region_token_id": region_token_id(tok),
        "seg_token_id": seg_token_id(tok),
        "view_token_id": view_token_id(tok),
    }


def new_model(
    conversations: list[Conversation],
    size: str = "tiny",
    vocab_size: int = 1024,
    seed: int = 0,
    x: bool = False,
    box_tokens: str = "text",
    image_size: int | None = None,
) -> tuple[EarthGPT, PreTrainedTokenizerBase]:
    """A random-weight model of a named size with a BPE tokenizer trained on the conversations' text (the ``scratch``
    row of the stage table then makes every parameter trainable: the vision encoders are random too). ``x`` adds
    the EarthGPT-X parts; ``box_tokens`` how the tokenizer writes boxes (data/location_tokens.py); ``image_size``
    replaces the size's input size."""
    texts = [m.text for c in conversations for m in c.messages]
    tok = train_tokenizer(texts, vocab_size=vocab_size, box_tokens=box_tokens)
    cfg = named_config(size, image_size, **token_ids(tok), **(x_token_ids(tok) if x else {}))
    torch.manual_seed(seed)
    return build_model(cfg), tok


def needs_x(conversation: Conversation) -> bool:
    """Whether a conversation uses an EarthGPT-X part: visual prompts, target masks or a view plan."""
    return bool(conversation.prompts or conversation.masks or conversation.views)


def whole_conversations(
    conversations: list[Conversation], template: ChatTemplate
) -> tuple[list[Conversation], list[tuple[str, int]]]:
    """The conversations that fit the template's ``max_length`` whole, and (id, token count) of those that do not.

    Decision: a conversation that does not fit is refused, not cut. A cut answer has no ``</s>``: trained on it, the
    model learns that a long answer (a dense frame's box list) goes on past where it was cut, and at generation it
    keeps emitting boxes, often one box over and over, until the token limit.
    """
    kept: list[Conversation] = []
    cut: list[tuple[str, int]] = []
    unbounded = ChatTemplate(template.tok, template.num_image_tokens, sys.maxsize, template.default_views)
    for conv in conversations:
        try:
            truncated = template.encode(conv).truncated
        except ValueError:  # a bad conversation (PromptError): the dataset skips and counts it by name
            truncated = False
        if truncated:
            cut.append((conv.id, len(unbounded.encode(conv).input_ids)))
        else:
            kept.append(conv)
    if not kept and cut:
        raise ValueError(
            f"every one of the {len(cut)} conversations is longer than max_length={template.max_length} tokens "
            f"(shortest {min(n for _, n in cut)}); raise max_length"
        )
    return kept, cut


def fit(
    model: EarthGPT,
    tok: PreTrainedTokenizerBase,
    conversations: list[Conversation],
    image_root: str | Path | None,
    config: TrainConfig,
    max_length: int = 1024,
) -> TrainResult:
    """Train ``model`` on conversations (images resolved against ``image_root``) with the stage of ``config``.

    Conversations longer than ``max_length`` tokens are skipped with a warning (see ``whole_conversations``).
    """
    template = ChatTemplate(tok, model.num_image_tokens, max_length=max_length)
    conversations, cut = whole_conversations(conversations, template)
    if cut:
        log.warning(
            "%d of %d conversations skipped: longer than max_length=%d tokens (first: %s, %d tokens); their answers "
            "would be cut before </s> and teach the model not to end; raise max_length to train on them",
            len(cut),
            len(cut) + len(conversations),
            max_length,
            cut[0][0],
            cut[0][1],
        )
    augment = Augmentation(tuple(config.augment), config.augment_prob, config.seed) if config.augment else None
    dataset = ConversationDataset(conversations, template, model.image_size, image_root, augment)
    result = run_stage(model, dataset, Collator(int(tok.pad_token_id)), config)
    if dataset.unreadable:
        first = next(iter(dataset.unreadable.items()))
        log.warning(
            "%d conversations skipped, their images unreadable (first: %s: %s)", len(dataset.unreadable), *first
        )
    return result


def train_from_build(run: TrainRun) -> TrainResult:
    """Train the run's stage on a build's train split and write a loadable model directory to ``run.out``."""
    config = run.train_config()
    conversations, root = corpus(run.build)
    out = Path(run.out)
    out.mkdir(parents=True, exist_ok=True)
    if run.init is not None:  # required by stages 1 and 2 (load_train_run checks it); a warm start for scratch
        model, tok = load_pretrained(run.init), load_tokenizer(run.init)
    else:
        x = run.x if run.x is not None else any(needs_x(c) for c in conversations)
        model, tok = new_model(
            conversations,
            run.size,
            run.vocab_size,
            config.seed,
            x=x,
            box_tokens=run.box_tokens,
            image_size=run.image_size,
        )
    result = fit(model, tok, conversations, Path(run.images) if run.images else root, config, run.max_length)
    processes = PartialState()
    if processes.is_main_process:  # one writer; the checkpoint holds the gathered weights under any engine
        model.save_pretrained(out, state_dict=result.model_tensors)
        tok.save_pretrained(out)
        record = asdict(run) | {"train": dict(run.train), "resolved": config.to_dict()}
        earlier = Path(run.init) / RUN_RECORD if run.init is not None else None
        if earlier is not None and earlier.is_file():  # a continued model keeps the record of what it continues
            record["init_run"] = json.loads(earlier.read_text(encoding="utf-8"))
        (out / RUN_RECORD).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
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
    x: bool = False,
) -> Path:
    """A model directory assembled from local pretrained parts (DINOv2 dir, ConvNeXt file or dir, LLaMA-family dir),
    ready for ``earthgpt train --stage 1 --init``. ``size="auto"`` reads each part's shape from its checkpoint
    (models/assemble.py); a named size checks the parts against it. The tokenizer is the LLM's (``tokenizer_dir``,
    default the LLaMA dir) with ``<image>`` and a pad token added; the embedding table grows to match. Nothing is
    downloaded. ``x`` (implied by ``sources.sam_dir``) adds the EarthGPT-X parts, the mask decoder from SAM."""
    tok_dir = tokenizer_dir or sources.llama_dir
    if tok_dir is None:
        raise ValueError("a tokenizer is needed: pass --llama (its tokenizer is used) or --tokenizer DIR")
    tok = load_tokenizer(tok_dir)
    ids = token_ids(tok)
    if x or sources.sam_dir is not None:
        ids |= x_token_ids(tok)
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


def describe_model(size: str | EarthGPTConfig, vocab_size: int = 32001) -> dict[str, Any]:
    """``earthgpt model info``: parameter counts per part and, per stage row, trainable and frozen counts, for a
    named size or the config of any model directory."""
    info = model_info(size, vocab_size=vocab_size)
    info["stages"] = stage_info(build_model(info_config(size, vocab_size), device="meta"))
    return info
