"""BuildConfig: which sources go into the instruction corpus and how; one docstring per field, saved as YAML."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import yaml

from earthgpt.data.corpus.splits import SplitError, check_training_split, split_options
from earthgpt.data.instructions.convert import InstructionOptions
from earthgpt.errors import ConfigError

ObbClip = Literal["polygon_quad", "min_area_rect"]
Missing = Literal["fail", "skip"]
OBB_CLIP_CHOICES: tuple[str, ...] = ("polygon_quad", "min_area_rect")
DATA_ENV = "EARTHGPT_DATA"


@dataclass
class SourceSpec:
    """One dataset of the corpus: which source reads it, where it lives, which splits and options."""

    name: str
    """Registered source name (``earthgpt list sources``), e.g. "aid", "hit_uav", "dota"."""

    root: str
    """The dataset's own folder, relative to ``data_root`` (an absolute path is used as is)."""

    splits: list[str] = field(default_factory=lambda: ["train"])
    """Splits to read, each one of the source's splits (e.g. ["train", "val"])."""

    options: dict[str, Any] = field(default_factory=dict)
    """Keyword options of the source's constructor, e.g. {"kind": "obb"} for sources with HBB and OBB boxes."""

    tag: str = ""
    """Part of this entry's record ids (``<name>/<tag>/<id>``); required to tell apart two entries of the same
    source (e.g. HIT-UAV read once with kind="hbb" and once with kind="obb")."""

    tile: bool = True
    """Cut this source's detection images larger than ``tiling.size`` into tiles (when ``tiling.enabled``)."""


@dataclass
class TilingOptions:
    """How large detection images (DOTA, FAIR1M, whole satellite scenes) are cut into model-sized tiles."""

    enabled: bool = True
    """Cut detection images whose width or height exceeds ``size``; False keeps every image whole."""

    size: int = 800
    """Side of a tile in output pixels (a tile of an image narrower than this is as wide as the image)."""

    overlap: int = 200
    """Output pixels shared by neighbouring tiles; the stride is ``size - overlap``."""

    scales: list[float] = field(default_factory=lambda: [1.0])
    """Output pixels per source pixel, one tiling pass each (0.5 cuts windows of 2 * size source pixels)."""

    min_visible: float = 0.7
    """An object is kept in a tile when at least this fraction of its area (inside the image) lies in the tile."""

    keep_empty: bool = False
    """Keep tiles without any kept object as records without objects; False skips them ("tile_without_objects")."""

    obb_clip: ObbClip = "polygon_quad"
    """An oriented box cut by a tile edge becomes: "polygon_quad", the visible polygon reduced to four corners by
    merging the ends of its shortest edge (DOTA devkit style; stays inside the tile), or "min_area_rect", the
    minimum-area rectangle around the visible polygon with its corners clamped into the tile."""

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or self.size < 1:
            raise ConfigError(f"tiling.size must be an integer >= 1, got {self.size!r}")
        if not isinstance(self.overlap, int) or not 0 <= self.overlap < self.size:
            raise ConfigError(f"tiling.overlap must be an integer in [0, size={self.size}), got {self.overlap!r}")
        self.scales = [float(s) for s in self.scales]
        if not self.scales or not all(math.isfinite(s) and s > 0 for s in self.scales):
            raise ConfigError(f"tiling.scales must be a non-empty list of numbers > 0, got {self.scales!r}")
        if not 0.0 < self.min_visible <= 1.0:
            raise ConfigError(f"tiling.min_visible must lie in (0, 1], got {self.min_visible!r}")
        if self.obb_clip not in OBB_CLIP_CHOICES:
            raise ConfigError(f"tiling.obb_clip must be one of {OBB_CLIP_CHOICES}, got {self.obb_clip!r}")


@dataclass
class BuildConfig:
    """An instruction corpus build (paper Section IV): sources -> records -> tiles -> conversations -> shards."""

    sources: list[SourceSpec]
    """The datasets, in output order."""

    data_root: str = ""
    """Folder holding every dataset folder; relative paths are taken from the current directory. The option
    ``--data`` and then the environment variable EARTHGPT_DATA override it."""

    out_dir: str = "runs/mmrs"
    """Output folder: shards, records, ``manifest.json``; a rerun resumes the build found there."""

    seed: int = 0
    """Seed of every random choice of the build: the instruction paraphrases when ``paraphrase`` is true (the
    paper's strings, the default, involve no randomness)."""

    paraphrase: bool = False
    """Use seeded paraphrases of the instruction strings instead of the paper's strings only."""

    instructions: InstructionOptions = field(default_factory=InstructionOptions)
    """How records become conversations (decimals of box coordinates, referring sessions, HBB from OBB, a cap on the
    boxes of one answer)."""

    tiling: TilingOptions = field(default_factory=TilingOptions)
    """How large detection images are cut into tiles."""

    shard_size: int = 10000
    """Conversations per shard: a shard closes at the end of the first item that brings it to this size."""

    workers: int = 1
    """Worker processes converting items (1 converts in this process); the output does not depend on it."""

    missing: Missing = "fail"
    """A configured source whose folder is absent: "fail" stops the build naming it; "skip" builds the sources
    present and lists the absent ones in the manifest (``--skip-missing``)."""

    def __post_init__(self) -> None:
        if not self.sources:
            raise ConfigError("sources is empty: list at least one source (name and root)")
        if not isinstance(self.shard_size, int) or self.shard_size < 1:
            raise ConfigError(f"shard_size must be an integer >= 1, got {self.shard_size!r}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ConfigError(f"workers must be an integer >= 1, got {self.workers!r}")
        if self.missing not in ("fail", "skip"):
            raise ConfigError(f"missing must be 'fail' or 'skip', got {self.missing!r}")
        seen: dict[tuple[str, str], int] = {}
        for i, spec in enumerate(self.sources):
            if "/" in spec.tag:
                raise ConfigError(f"sources[{i}].tag {spec.tag!r} may not contain '/'")
            key = (spec.name, spec.tag)
            if key in seen:
                raise ConfigError(
                    f"sources[{i}] and sources[{seen[key]}] are both {spec.name!r} with tag {spec.tag!r}: give them "
                    "different `tag`s so that their record ids differ"
                )
            seen[key] = i
            _check_splits(i, spec)

    def instruction_options(self) -> InstructionOptions:
        """The instruction options with the paraphrase seed filled from ``seed`` when ``paraphrase`` is on, and the
        seed of the EarthGPT-X region choices (``x_seed``) from ``seed`` when ``x_tasks`` are chosen."""
        opts = (
            dataclasses.replace(self.instructions, x_seed=self.seed) if self.instructions.x_tasks else self.instructions
        )
        if self.paraphrase and opts.paraphrase_seed is None:
            return dataclasses.replace(opts, paraphrase_seed=self.seed)
        return opts

    def to_dict(self) -> dict[str, Any]:
        """Plain values, ready for YAML or JSON."""
        d = dataclasses.asdict(self)
        d["instructions"]["x_tasks"] = list(self.instructions.x_tasks)  # YAML has lists, not tuples
        return d

    def content_dict(self) -> dict[str, Any]:
        """The fields that decide the output bytes (not where data and output live, the worker count, nor what to do
        about absent sources: the sources built are in ``sources``)."""
        d = self.to_dict()
        for key in ("data_root", "out_dir", "workers", "missing"):
            d.pop(key)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<dict>") -> BuildConfig:
        """Build from plain values; unknown or missing keys raise ConfigError naming ``source`` and the field."""
        values = _check_keys(cls, data, source)
        if "sources" not in values:
            raise ConfigError(f"{source}: missing field `sources`: list the datasets to build (name and root)")
        specs = values["sources"]
        if not isinstance(specs, list):
            raise ConfigError(f"{source}: `sources` must be a list, got {type(specs).__name__}")
        values["sources"] = [_spec_from_dict(s, f"{source}: sources[{i}]") for i, s in enumerate(specs)]
        if "instructions" in values:
            inst = _check_keys(InstructionOptions, values["instructions"] or {}, f"{source}: instructions")
            try:
                values["instructions"] = InstructionOptions(**inst)
            except ValueError as e:
                raise ConfigError(f"{source}: {e}") from None
        if "tiling" in values:
            values["tiling"] = TilingOptions(**_check_keys(TilingOptions, values["tiling"] or {}, f"{source}: tiling"))
        for key in ("data_root", "out_dir"):
            if key in values:
                values[key] = "" if values[key] is None else str(values[key])
        return cls(**values)

    def save(self, path: str | Path) -> None:
        """Write the config as YAML."""
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> BuildConfig:
        """Read a YAML config written by hand or by :meth:`save`."""
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file {p} does not exist: pass the path of a build config (configs/data/*.yaml)")
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise ConfigError(f"{p}: not valid YAML: {e}") from e
        if not isinstance(data, dict):
            raise ConfigError(f"{p}: expected a mapping of BuildConfig fields, got {type(data).__name__}")
        return cls.from_dict(data, source=str(p))


def _check_splits(index: int, spec: SourceSpec) -> None:
    """ConfigError if the entry would train on benchmark items (see ``earthgpt.data.corpus.splits``)."""
    where = f"sources[{index}] ({spec.name})"
    try:
        split_options(spec.name, spec.options, f"{where}.options")
        for split in spec.splits:
            check_training_split(spec.name, split, f"{where}.splits")
    except SplitError as e:
        raise ConfigError(str(e)) from None


def _check_keys(cls: type, data: Any, where: str) -> dict[str, Any]:
    """``data`` as a dict whose keys are all fields of the dataclass ``cls``; ConfigError naming ``where`` if not."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {unknown}; known fields: {sorted(known)}")
    return dict(data)


def _spec_from_dict(data: Any, where: str) -> SourceSpec:
    values = _check_keys(SourceSpec, data, where)
    for key in ("name", "root"):
        if not values.get(key):
            raise ConfigError(f"{where}: missing field `{key}`")
    splits = values.get("splits", ["train"])
    if isinstance(splits, str):
        splits = [splits]
    values["splits"] = [str(s) for s in splits]
    values["options"] = dict(values.get("options") or {})
    values["root"] = str(values["root"])
    values["tag"] = str(values.get("tag") or "")
    return SourceSpec(**values)


def override_roots(config: BuildConfig, roots: dict[str, str]) -> BuildConfig:
    """``config`` with the ``root`` of the entries named in ``roots`` (``<source>`` or ``<source>/<tag>`` -> folder,
    absolute or relative to data_root) replaced; ConfigError for a name that no entry has."""
    keys = {spec.name for spec in config.sources} | {f"{s.name}/{s.tag}" for s in config.sources if s.tag}
    unknown = sorted(set(roots) - keys)
    if unknown:
        raise ConfigError(f"--root {unknown[0]}=...: no source entry is named so; the entries are {sorted(keys)}")
    sources = [
        dataclasses.replace(s, root=str(roots.get(f"{s.name}/{s.tag}", roots.get(s.name, s.root))))
        for s in config.sources
    ]
    return dataclasses.replace(config, sources=sources)


def parse_roots(values: list[str]) -> dict[str, str]:
    """``NAME=DIR`` strings (the ``--root`` option) as a dict; ConfigError naming a malformed one."""
    out: dict[str, str] = {}
    for v in values:
        name, sep, folder = v.partition("=")
        if not sep or not name.strip() or not folder.strip():
            raise ConfigError(f"--root {v!r}: expected NAME=DIR, e.g. --root rsicd=/data/RSICD")
        out[name.strip()] = folder.strip()
    return out


def load_config(
    path: str | Path,
    *,
    data_root: str | Path | None = None,
    out_dir: str | Path | None = None,
    workers: int | None = None,
    roots: dict[str, str] | None = None,
    skip_missing: bool = False,
) -> BuildConfig:
    """Read a YAML build config and apply overrides: ``data_root`` (else $EARTHGPT_DATA, else the file's value),
    ``out_dir`` and ``workers`` when given, per-source ``roots``, and ``missing: skip`` when ``skip_missing``."""
    config = BuildConfig.load(path)
    if roots:
        config = override_roots(config, roots)
    changes: dict[str, Any] = {"missing": "skip"} if skip_missing else {}
    env = os.environ.get(DATA_ENV)
    if data_root is not None:
        changes["data_root"] = str(data_root)
    elif env:
        changes["data_root"] = env
    if out_dir is not None:
        changes["out_dir"] = str(out_dir)
    if workers is not None:
        changes["workers"] = workers
    return dataclasses.replace(config, **changes) if changes else config


def resolve_data_root(config: BuildConfig) -> Path:
    """The data root as an existing directory; ConfigError naming the field and options to set otherwise."""
    if not config.data_root:
        raise ConfigError(f"data_root is not set: set `data_root` in the build config, pass --data, or set {DATA_ENV}")
    root = Path(config.data_root).expanduser()
    if not root.is_dir():
        raise ConfigError(
            f"data_root {root} does not exist (resolved from {Path.cwd()}): set `data_root` in the build config, "
            f"pass --data, or set {DATA_ENV} to the folder holding the dataset folders"
        )
    return root.resolve()
