"""What each training stage trains, as a table: parameter groups by name, stage -> trainable groups.

Stage 1, cross-modal alignment (Section III-C, Eqs. 9-14): the q/k/v projections (weights and their added,
zero-initialised biases), every RMSNorm scale (both per-layer norms and the final norm), the projector and the
per-scale 1x1 projections of the CNN branch (the "randomly initialized visual projections" of V-A). Everything else
is frozen; both vision encoders stay frozen in every stage.

Stage 2, unified instruction tuning (Section III-D, Eqs. 15-16): everything trained in stage 1 is frozen; every
linear layer of the LLM decoder becomes y = alpha * (W x + beta) with beta = 0 and alpha ~ N(mu, sigma^2) at init
(mu = 1, sigma = 0.02 by default, from the model config: the layer starts within a few percent of its stage-1
function, so the stage-2 loss starts where stage 1 ended). Only alpha and beta train. Decisions the paper leaves
open: ``lm_head`` gets no factors (it is the vocabulary read-out, not a layer of the transformer blocks, as in
LLaMA-Adapter V2's bias tuning), and the projector stays frozen ("we freeze all the weights from the cross-modal
mutual comprehension phase").

Stage x, EarthGPT-X one-stage fusion training (docs/earthgpt-x.md): the new parts (prompt encoder, fusion, region
encoder, view embedding, ``<seg>`` projector, mask decoder), the projector and the per-scale 1x1 projections, and of
the LLM what stage 1 trains (q/k/v with biases, RMSNorm scales) plus the input embeddings and ``lm_head``: the LLM
must attend to tokens it has never seen (prompt-fused image tokens, region features, other views) - the stage-1
set is the smallest one shown to align new visual tokens - and it must read and predict the new ``<region>``,
``<seg>`` and ``<view>`` tokens, whose embedding and output rows start untrained (LISA trains both tables too).
Both vision encoders stay frozen. A model without X parts is refused.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, get_args

from earthgpt.errors import ConfigError
from earthgpt.models.adapters import ScaleBiasLinear, merged_state_dict
from earthgpt.models.earthgpt import EarthGPT

logger = logging.getLogger(__name__)

Group = Literal[
    "vit", "cnn", "cnn_scale_proj", "projector", "llm_embed", "llm_qkv", "llm_norm", "llm_adapters", "llm_other",
    "lm_head", "prompt_encoder", "fusion", "region_encoder", "view_embedding", "seg_projector", "mask_decoder",
]  # fmt: skip
X_GROUPS: tuple[Group, ...] = (
    "prompt_encoder", "fusion", "region_encoder", "view_embedding", "seg_projector", "mask_decoder",
)  # fmt: skip
"""The EarthGPT-X parts, one group each (the submodule of the same name)."""

# Ordered: the first matching rule names a parameter's group.
GROUP_RULES: tuple[tuple[Group, re.Pattern[str]], ...] = (
    ("llm_adapters", re.compile(r"^llm\..*\.adapter_(scale|bias)$")),
    ("vit", re.compile(r"^vision\.vit\.")),
    ("cnn_scale_proj", re.compile(r"^vision\.cnn\.scale_proj\.")),
    ("cnn", re.compile(r"^vision\.cnn\.")),
    ("projector", re.compile(r"^projector\.")),
    ("llm_qkv", re.compile(r"^llm\.model\.layers\.\d+\.self_attn\.[qkv]_proj\.(weight|bias)$")),
    ("llm_norm", re.compile(r"^llm\.model\.(layers\.\d+\.(input_layernorm|post_attention_layernorm)|norm)\.weight$")),
    ("llm_embed", re.compile(r"^llm\.model\.embed_tokens\.")),
    ("lm_head", re.compile(r"^llm\.lm_head\.")),
    ("llm_other", re.compile(r"^llm\.")),
    *((g, re.compile(rf"^{g}\.")) for g in X_GROUPS),
)


ALL_GROUPS: tuple[Group, ...] = get_args(Group)

PAPER_RECIPE: dict[str, Any] = {
    "lr": 2e-5, "min_lr": 0.0, "betas": (0.9, 0.95), "weight_decay": 0.0, "max_grad_norm": 1.0,
    "mixed_precision": "auto", "max_steps": 1000, "batch_size": 8, "save_every": 1000, "keep_last": 3,
    "log_every": 10, "save_full_model": False,
}  # fmt: skip
"""Section V-A: AdamW (0.9, 0.95), peak LR 2e-5, minimum 0; the rest is ours (see training/recipes.py)."""


@dataclass(frozen=True)
class StageSpec:
    """One row of the stage table: what trains, and the training defaults of the stage's recipe."""

    name: str
    trainable: tuple[Group, ...]
    adapters: bool
    """Whether the stage needs the Eq. 15 factors on the LLM's linear layers."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """TrainConfig field values of the stage's recipe; any of them can be overridden (flags, YAML, keywords)."""
    warmup_fraction: float | None = None
    """Warmup as a fraction of ``max_steps`` (used when ``warmup_steps`` is not given); None: ``defaults`` decide."""
    needs_init: bool = False
    """Whether the stage continues an existing model directory (``--init``) instead of a new random one."""
    data: str = ""
    """The data the stage trains on (the paper's, for the paper's stages)."""
    needs_x: bool = False
    """Whether the stage trains the EarthGPT-X parts (a model without them is refused)."""


STAGES: dict[str, StageSpec] = {
    "scratch": StageSpec(
        "scratch", ALL_GROUPS, adapters=False,
        defaults={"lr": 1e-3, "max_steps": 200, "batch_size": 8, "warmup_steps": 10, "log_every": 10,
                  "save_full_model": True},
        data="any build: a new random-weight model learns everything (CPU-size runs)",
    ),
    "1": StageSpec(
        "alignment", ("llm_qkv", "llm_norm", "projector", "cnn_scale_proj"), adapters=False,
        defaults=PAPER_RECIPE, warmup_fraction=0.03, needs_init=True,
        data="image-caption pairs (paper: LAION-400M, COCO Caption)",
    ),
    "2": StageSpec(
        "instruction_tuning", ("llm_adapters",), adapters=True,
        defaults=PAPER_RECIPE, warmup_fraction=0.03, needs_init=True,
        data="multi-sensor RS instruction conversations (paper: MMRS-1M)",
    ),
    "x": StageSpec(
        "x_fusion", (*X_GROUPS, "projector", "cnn_scale_proj", "llm_qkv", "llm_norm", "llm_embed", "lm_head"),
        adapters=False, defaults={**PAPER_RECIPE, "lr": 1e-4}, warmup_fraction=0.03, needs_init=True, needs_x=True,
        data="all sensors and tasks mixed, with per-task sampling weights: referring (visual prompts), pixel "
             "grounding (<seg> masks), zoomed views, and the EarthGPT instruction data",
    ),
}  # fmt: skip
"""Stage name -> row; ``earthgpt train --stage`` offers exactly these keys (an EarthGPT-X row goes here)."""


def stage_spec(stage: int | str) -> StageSpec:
    """The row of ``stage`` (``1`` and ``"1"`` name the same row); ConfigError listing the rows otherwise."""
    spec = STAGES.get(str(stage))
    if spec is None:
        raise ConfigError(f"unknown stage {stage}; choose one of {', '.join(STAGES)}")
    return spec


def group_of(name: str) -> Group:
    """The parameter group of a parameter name (KeyError for names outside the EarthGPT layout)."""
    for group, pattern in GROUP_RULES:
        if pattern.search(name):
            return group
    raise KeyError(f"parameter {name!r} belongs to no group; extend GROUP_RULES in training/stages.py")


# Parameters no forward pass reads, whatever the stage: DINOv2's mask token (masked-image pretraining only) and final
# LayerNorm (features are taken from the blocks, before it), ConvNeXt's final LayerNorm (it norms the pooled vector,
# which the CNN branch never reads). They stay in the model, frozen, so pretrained checkpoints load key for key.
UNUSED_RULES: tuple[re.Pattern[str], ...] = (
    re.compile(r"^vision\.vit\.model\.embeddings\.mask_token$"),
    re.compile(r"^vision\.vit\.model\.layernorm\."),
    re.compile(r"^vision\.cnn\.model\.layernorm\."),
    # SAM's IoU head scores its masks; nothing here trains it (LISA drops it too), it stays loadable from SAM
    re.compile(r"^mask_decoder\.decoder\.iou_prediction_head\."),
)


def unused_parameters(model: EarthGPT) -> set[str]:
    """Names of the parameters outside the computation: :data:`UNUSED_RULES`, plus the ViT blocks after the last
    feature layer and the ConvNeXt stages after the last feature stride (they run but feed nothing)."""
    vision = model.vision
    prefixes: list[str] = []
    vit_layers = getattr(vision.vit, "feature_layers", None)
    if vit_layers is not None:
        blocks = len(vision.vit.model.encoder.layer)  # type: ignore[union-attr,arg-type]
        prefixes += [f"vision.vit.model.encoder.layer.{i}." for i in range(max(vit_layers), blocks)]
    cnn_stages = getattr(vision.cnn, "stage_indices", None)
    if cnn_stages is not None:
        stages = len(vision.cnn.model.encoder.stages)  # type: ignore[union-attr,arg-type]
        prefixes += [f"vision.cnn.model.encoder.stages.{k}." for k in range(max(cnn_stages) + 1, stages)]
    return {
        name
        for name, _ in model.named_parameters()
        if any(rule.search(name) for rule in UNUSED_RULES) or name.startswith(tuple(prefixes))
    }


def train_everything(model: EarthGPT) -> list[str]:
    """The ``scratch`` row: every parameter inside the computation trainable, the rest frozen, so that every trainable
    parameter gets a gradient (DDP requires it). Returns the names left frozen."""
    apply_stage(model, "scratch")
    return sorted(unused_parameters(model))


@dataclass
class StageReport:
    """Trainable and frozen parameters after ``apply_stage``, per group."""

    stage: str
    name: str
    trainable_names: list[str] = field(default_factory=list)
    groups: dict[str, tuple[int, int, bool]] = field(default_factory=dict)
    """group -> (tensors, parameters, whether the stage trains the group)."""
    trainable_params: int = 0
    frozen_params: int = 0
    unused_params: int = 0
    """Parameters outside the computation (:func:`unused_parameters`): frozen even inside a trainable group."""

    def __str__(self) -> str:
        return self.table()

    def table(self) -> str:
        lines = [f"stage {self.stage} ({self.name})", f"{'group':<16}{'tensors':>9}{'params':>16}  state"]
        for group, (tensors, params, trainable) in self.groups.items():
            lines.append(f"{group:<16}{tensors:>9}{params:>16,}  {'trainable' if trainable else 'frozen'}")
        lines.append(f"{'trainable':<16}{'':>9}{self.trainable_params:>16,}")
        lines.append(f"{'frozen':<16}{'':>9}{self.frozen_params:>16,}")
        if self.unused_params:
            lines.append(f"{'of which unused':<16}{'':>9}{self.unused_params:>16,}  (outside the computation)")
        return "\n".join(lines)


def apply_stage(model: EarthGPT, stage: int | str, seed: int | None = 0) -> StageReport:
    """Set ``requires_grad`` for ``stage`` (adding the stage-2 factors first if needed) and log the table."""
    spec = stage_spec(stage)
    if spec.needs_x and model.config.x is None:
        raise ConfigError(
            f"stage {stage} trains the EarthGPT-X parts but this model has none (its config has no x part): "
            "initialise an EarthGPT-X model first (a tokenizer with the <region>/<seg>/<view> tokens, --sam DIR)"
        )
    if spec.adapters and not model.config.adapters:
        model.add_adapters(seed=seed)
    report = StageReport(stage=str(stage), name=spec.name)
    unused = unused_parameters(model)
    for name, param in model.named_parameters():
        group = group_of(name)
        trainable = group in spec.trainable and name not in unused
        param.requires_grad_(trainable)
        tensors, count, _ = report.groups.get(group, (0, 0, group in spec.trainable))
        report.groups[group] = (tensors + 1, count + param.numel(), group in spec.trainable)
        if name in unused:  # outside the computation: frozen in every stage, even in a trainable group
            report.unused_params += param.numel()
        if trainable:
            report.trainable_params += param.numel()
            report.trainable_names.append(name)
        else:
            report.frozen_params += param.numel()
    logger.info("\n%s", report.table())
    return report


def stage_info(model: EarthGPT) -> dict[str, dict[str, Any]]:
    """Trainable and frozen counts per stage row, per group, for ``model`` (build it on the meta device)."""
    info: dict[str, dict[str, Any]] = {}
    for stage in STAGES:
        if model.config.x is None and STAGES[stage].needs_x:
            continue
        report = apply_stage(model, stage)
        info[stage] = {
            "name": report.name,
            "trainable": report.trainable_params,
            "frozen": report.frozen_params,
            "groups": {g: {"params": n, "trainable": t} for g, (_, n, t) in report.groups.items()},
        }
    return info


def merge_adapters(model: EarthGPT) -> list[str]:
    """Fold the stage-2 factors into plain linear weights in place (outputs unchanged); returns the layer names."""
    return model.merge_adapters()


def export_merged(model: EarthGPT, out_dir: str | Path) -> Path:
    """Write the model with its adapters merged (loadable by models.load_pretrained); ``model`` is unchanged."""
    has_adapters = any(isinstance(m, ScaleBiasLinear) for m in model.modules())
    if not has_adapters:
        return model.save_pretrained(out_dir)
    config = replace(model.config, adapters=False, llm_linear_bias="all")
    return model.save_pretrained(out_dir, state_dict=merged_state_dict(model), config=config)
