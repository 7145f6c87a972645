"""Where each configured source is on disk: found (common layout variants recognised), absent, or in another layout."""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from earthgpt.data.corpus.config import BuildConfig, ConfigError, SourceSpec
from earthgpt.data.corpus.splits import split_options
from earthgpt.data.sources import DataRootError, Source, get_source

__all__ = ["Located", "expected_layout", "locate", "locate_all", "present_config"]

log = logging.getLogger(__name__)

Status = Literal["found", "absent", "layout"]
_IGNORED = {"__MACOSX"}


@dataclass(frozen=True)
class Located:
    """One configured entry on disk: ``status``, the folder used (relative to the data root when below it) and how
    it was chosen, or the problem and its fix."""

    index: int
    spec: SourceSpec
    status: Status
    root: str = ""
    note: str = ""
    problem: str = ""

    @property
    def key(self) -> str:
        """The entry's name in manifests: ``<source>`` or ``<source>/<tag>``."""
        return f"{self.spec.name}/{self.spec.tag}" if self.spec.tag else self.spec.name

    def describe(self, data_root: Path) -> dict[str, str]:
        """A JSON-ready row (what the manifest lists for an absent source)."""
        return {
            "source": self.spec.name,
            "tag": self.spec.tag,
            "root": self.spec.root,
            "status": self.status,
            "expected": f"{data_root / self.spec.root}: {expected_layout(self.spec.name)}",
            "problem": self.problem,
        }


def expected_layout(source: str) -> str:
    """The on-disk layout a source reads, from its dataset card (the ``On-disk format`` item of its docstring)."""
    doc = get_source(source).__doc__ or ""
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        if "On-disk format" in line or "on-disk format" in line:
            text = [line.split(":", 1)[1]] if ":" in line else []
            for more in lines[i + 1 :]:
                if more.strip().startswith("*") or not more.strip():
                    break
                text.append(more)
            return " ".join(" ".join(text).split())
    return doc.strip().splitlines()[0] if doc.strip() else f"the {source} release as distributed"


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def find_folder(data_root: Path, rel: str) -> tuple[Path | None, str]:
    """The folder ``rel`` below ``data_root``: the exact path, else the one path whose parts equal it but for case
    and separators ("rsicd" for "RSICD", "hit_uav" for "HIT-UAV"); (None, "") when there is none or several."""
    path = Path(rel).expanduser()
    if path.is_absolute() or (data_root / path).is_dir():
        full = path if path.is_absolute() else data_root / path
        return (full if full.is_dir() else None), ""
    current = data_root
    for part in path.parts:
        if (current / part).is_dir():
            current = current / part
            continue
        matches = [c for c in sorted(current.iterdir()) if c.is_dir() and _key(c.name) == _key(part)]
        if len(matches) != 1:
            return None, ""
        current = matches[0]
    return current, f"found {rel!r} as {current.relative_to(data_root).as_posix()!r} (case or separators differ)"


def _inner_folder(root: Path) -> Path | None:
    """The one folder inside ``root`` (files beside it ignored): an archive unzipped into a folder of its name."""
    folders = [c for c in root.iterdir() if c.is_dir() and not c.name.startswith(".") and c.name not in _IGNORED]
    return folders[0] if len(folders) == 1 else None


def _open_all(cls: type[Source], root: Path, spec: SourceSpec, where: str) -> None:
    """Open every configured split at ``root``; DataRootError when the layout is not the source's."""
    options = split_options(spec.name, spec.options, f"{where}.options")
    for split in spec.splits:
        try:
            cls(root, split=split, **options)
        except DataRootError:
            raise
        except TypeError as e:
            raise ConfigError(f"{where}.options {spec.options}: {e}") from e
        except Exception as e:  # a plain ValueError is a bad split or option, as in units.SourceBank
            if type(e) is ValueError:
                raise ConfigError(f"{where}, split {split!r}: {e}") from e
            continue  # corrupt data read by a constructor: the build skips that split and says why


def locate(data_root: Path, index: int, spec: SourceSpec) -> Located:
    """Find one entry's folder and check that the source reads every configured split there; ConfigError for an
    unknown source name or a bad option (config problems, not data problems)."""
    where = f"sources[{index}] ({spec.name})"
    try:
        cls = get_source(spec.name)
    except KeyError as e:
        raise ConfigError(f"{where}.name: {e.args[0]}") from None
    folder, note = find_folder(data_root, spec.root)
    if folder is None:
        problem = (
            f"{where}.root: {data_root / spec.root} does not exist; put the {spec.name} release there, or set "
            f"sources[{index}].root (or --root {spec.name}=DIR) to the folder holding it"
        )
        return Located(index, spec, "absent", problem=problem)
    try:
        _open_all(cls, folder, spec, where)
    except DataRootError as first:
        inner = _inner_folder(folder)
        try:
            if inner is None:
                raise first
            _open_all(cls, inner, spec, where)
        except DataRootError:
            fix = f"set sources[{index}].root (or --root {spec.name}=DIR) to the folder that holds the files"
            return Located(index, spec, "layout", _rel(folder, data_root), note, f"{where}.root: {first}; {fix}")
        note = f"{note}; " if note else ""
        note += f"using the single folder {inner.name!r} inside {_rel(folder, data_root)!r} (an extra top folder)"
        folder = inner
    if note:
        log.info("%s: %s", where, note)
    return Located(index, spec, "found", _rel(folder, data_root), note)


def _rel(folder: Path, data_root: Path) -> str:
    try:
        return folder.relative_to(data_root).as_posix()
    except ValueError:
        return str(folder)


def locate_all(config: BuildConfig, data_root: Path) -> list[Located]:
    """Every configured entry, located."""
    return [locate(data_root, i, spec) for i, spec in enumerate(config.sources)]


def present_config(config: BuildConfig, data_root: Path) -> tuple[BuildConfig | None, list[Located]]:
    """The config of the entries found, each ``root`` the folder found, and the entries left out (absent, with
    ``missing: skip``). ConfigError naming the entry for an absent source under ``missing: fail`` and for a folder in
    another layout; (None, absent) when no configured source is present."""
    located = locate_all(config, data_root)
    for loc in located:
        if loc.status == "layout" or (loc.status == "absent" and config.missing == "fail"):
            hint = (
                " (or build from the sources present: --skip-missing / missing: skip)" if loc.status == "absent" else ""
            )
            raise ConfigError(loc.problem + hint)
    found = [dataclasses.replace(loc.spec, root=loc.root) for loc in located if loc.status == "found"]
    absent = [loc for loc in located if loc.status == "absent"]
    for loc in absent:
        log.warning("%s: absent, not built (missing: skip)", loc.key)
    if not found:
        return None, absent
    return dataclasses.replace(config, sources=found), absent
