"""The model the repository ships (``models/earthgpt-tiny``): where commands find it, and how a run becomes it.

``default_model_dir`` is what ``chat``, ``eval``, ``serve``, ``scene`` and ``demo`` load when ``--model`` is not
given. ``ship_model`` turns a training run's model directory into a shipped one: the inference weights only, in a
smaller float dtype, with config, tokenizer and a model card, under a size limit fit for a git repository.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from earthgpt.models.earthgpt import CONFIG_NAME, WEIGHTS_NAME

__all__ = [
    "MAX_SHIPPED_BYTES",
    "MODEL_CARD",
    "MODEL_ENV",
    "SHIP_DTYPES",
    "default_model_dir",
    "repo_root",
    "resolve_model",
    "ship_model",
    "shipped_dir",
]

MODEL_ENV = "EARTHGPT_MODEL"
"""Environment variable naming the default model directory (wins over the shipped one)."""
SHIPPED_NAME = "models/earthgpt-tiny"
"""The shipped model's folder, relative to the repository root."""
MAX_SHIPPED_BYTES = 30 * 10**6
"""Largest model.safetensors ``ship_model`` writes (30 MB): the file is committed to git."""
MODEL_CARD = "MODEL_CARD.md"
SHIP_DTYPES: dict[str, torch.dtype] = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
"""``--dtype`` names -> the float dtype the weights are stored in."""
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
_PROVENANCE = "train_run.json"


def repo_root() -> Path:
    """The checkout this package was imported from (``src/earthgpt`` -> the folder above ``src``)."""
    return Path(__file__).resolve().parents[3]


def shipped_dir() -> Path:
    """Where the shipped model lies in this checkout (it may be absent: an installed wheel has no ``models/``)."""
    return repo_root() / SHIPPED_NAME


def default_model_dir() -> Path:
    """``$EARTHGPT_MODEL`` if set, else this checkout's ``models/earthgpt-tiny``; FileNotFoundError naming both
    (and the fixes) when the one chosen holds no model."""
    env = os.environ.get(MODEL_ENV)
    if env:
        path = Path(env)
        if not (path / CONFIG_NAME).is_file():
            raise FileNotFoundError(
                f"${MODEL_ENV}={env} is not a model directory (no {CONFIG_NAME}): point it at one (config.json, "
                f"model.safetensors, tokenizer files), unset it to use {shipped_dir()}, or pass --model DIR"
            )
        return path
    path = shipped_dir()
    if not (path / CONFIG_NAME).is_file():
        raise FileNotFoundError(
            f"no model given and no default: ${MODEL_ENV} is not set and {path} holds no {CONFIG_NAME}; pass "
            f"--model DIR, set ${MODEL_ENV}=DIR, or train and ship one with `make demo TRAIN=1`"
        )
    return path


def resolve_model(model: str | Path | None) -> Path:
    """A ``--model`` value: the directory given, else :func:`default_model_dir`."""
    return Path(model) if model else default_model_dir()


def _weights_bytes(state: dict[str, torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in state.values())


def ship_model(model_dir: str | Path, out: str | Path, dtype: str = "bf16", max_bytes: int = MAX_SHIPPED_BYTES) -> Path:
    """Write ``model_dir``'s model into ``out`` as a shipped model; returns ``out``.

    ``out`` gets model.safetensors (every floating tensor in ``dtype``; no optimizer state, no checkpoints),
    config.json, the tokenizer files, the run's train_run.json when there is one, and a MODEL_CARD.md stub unless one
    is already there (a written card is never overwritten). ValueError, before anything is written, when the weights
    would exceed ``max_bytes``.
    """
    from earthgpt.data.tokenizer import load_tokenizer
    from earthgpt.models.loading import load_pretrained

    if dtype not in SHIP_DTYPES:
        raise ValueError(f"--dtype {dtype!r}: expected one of {sorted(SHIP_DTYPES)}")
    src, dst = Path(model_dir), Path(out)
    if src.resolve() == dst.resolve():
        raise ValueError(f"--out {dst} is the model directory itself: ship into another folder")
    model = load_pretrained(src, dtype=torch.float32)
    tok = load_tokenizer(src)  # before writing: a run without tokenizer files fails here, naming them
    target = SHIP_DTYPES[dtype]
    state = {
        k: (v.to(target) if v.is_floating_point() else v).detach().contiguous() for k, v in model.state_dict().items()
    }
    size = _weights_bytes(state)
    if size > max_bytes:
        raise ValueError(
            f"{src}: its weights take {size / 1e6:.1f} MB in {dtype}, more than the {max_bytes / 1e6:.0f} MB a "
            "shipped model may hold: ship a smaller model, or a smaller --dtype (bf16, fp16)"
        )
    dst.mkdir(parents=True, exist_ok=True)
    save_file(state, str(dst / WEIGHTS_NAME), metadata={"format": "pt", "dtype": dtype})
    model.config.save(dst / CONFIG_NAME)
    tok.save_pretrained(dst)
    if (src / _PROVENANCE).is_file():
        record = portable_record(json.loads((src / _PROVENANCE).read_text(encoding="utf-8")))
        (dst / _PROVENANCE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    for name in (f for f in _TOKENIZER_FILES if not (dst / f).is_file()):
        if (src / name).is_file():
            (dst / name).write_bytes((src / name).read_bytes())
    if not (dst / MODEL_CARD).is_file():
        (dst / MODEL_CARD).write_text(_card_stub(src, dst, dtype, sum(v.numel() for v in state.values())), "utf-8")
    return dst


_PATH_FIELDS = ("build", "out", "init", "images", "out_dir", "base_weights")


def portable_record(run: dict[str, Any]) -> dict[str, Any]:
    """A run's train_run.json without this machine's paths: each path field keeps only its folder name (a shipped
    model is committed and read elsewhere; the recipe files name the corpus and run)."""
    out: dict[str, Any] = {}
    for key, value in run.items():
        if isinstance(value, dict):
            out[key] = portable_record(value)
        elif key in _PATH_FIELDS and isinstance(value, str) and value:
            out[key] = Path(value).name
        else:
            out[key] = value
    return out


def _card_stub(src: Path, dst: Path, dtype: str, parameters: int) -> str:
    """The facts a card needs that the run records; the held-out figures are left for `earthgpt eval` to fill."""
    lines = [f"# {dst.name}", "", f"Shipped from `{src.name}` by `earthgpt model ship` ({dtype} weights).", ""]
    lines.append(f"- parameters: {parameters:,}")
    record = src / _PROVENANCE
    if record.is_file():
        run = json.loads(record.read_text(encoding="utf-8"))
        resolved = run.get("resolved", {})
        lines += [
            f"- corpus: `{run.get('build')}` (stage {run.get('stage')}, size {run.get('size')})",
            f"- steps: {resolved.get('max_steps')} at batch {resolved.get('batch_size')}, seed {resolved.get('seed')}",
        ]
    lines += [
        "",
        "## Held-out figures",
        "",
        "Not measured yet: `earthgpt eval --model DIR --tasks rsscn7,aid,hit_uav_hbb` writes them.",
        "",
    ]
    return "\n".join(lines)
