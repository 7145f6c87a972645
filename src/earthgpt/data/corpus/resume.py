"""What a rerun into a build folder keeps: the plan as segments of entries, and new sources appended after them.

A build's units are ordered entry by entry. A rerun of the same config resumes after the last committed shard. A
rerun in which sources became present (``missing: skip``) or were added to the config keeps every committed unit
and appends the new entries' units as a new segment: their conversations come after the earlier ones instead of in
config order (same conversations as a fresh build, other shard layout and sha256; the manifest lists the segments).
Anything else that changed (an entry's items, options or root; the build options; an entry gone) would change
committed shards, and the rerun stops, naming what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import Any

from earthgpt.data.corpus.config import BuildConfig, ConfigError, SourceSpec
from earthgpt.data.corpus.units import Unit

__all__ = ["BuildConflictError", "Plan", "entry_key", "make_plan"]

Plan = dict[str, Any]


class BuildConflictError(ConfigError):
    """The output folder holds a build of another config or of other data."""


def entry_key(spec: SourceSpec) -> str:
    """An entry's name in plans and manifests: ``<source>`` or ``<source>/<tag>``."""
    return f"{spec.name}/{spec.tag}" if spec.tag else spec.name


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def _entries(config: BuildConfig, units: list[Unit], plan_skips: list[dict[str, str]]) -> dict[str, str]:
    """Entry key -> hash of what decides its lines: its config, its planned items and its unopenable splits."""
    items: dict[int, list[str]] = defaultdict(list)
    for u in units:
        items[u.spec].append(f"{u.split}\t{u.item}")
    out: dict[str, str] = {}
    for i, spec in enumerate(config.sources):
        key = entry_key(spec)
        skips = [s for s in plan_skips if s["source"] == spec.name and s["tag"] == spec.tag]
        out[key] = _hash({"spec": config.to_dict()["sources"][i], "items": items[i], "skips": skips})
    return out


def _content(config: BuildConfig) -> str:
    """Hash of the build options every entry's lines depend on (everything but the sources)."""
    d = config.content_dict()
    d.pop("sources")
    return _hash(d)


def _conflict(previous: Plan, content: str, entries: dict[str, str]) -> str | None:
    """Why the committed shards cannot be kept, or None."""
    if previous.get("content") != content:
        return "its build options (instructions, tiling, seed, paraphrase, shard_size) differ from this config's"
    for key, fp in previous["entries"].items():
        if key not in entries:
            return f"it holds {key}, which this config does not build (absent now, or no longer configured)"
        if entries[key] != fp:
            return f"{key} changed since (its items on disk, options, splits or root)"
    return None


def make_plan(
    config: BuildConfig, units: list[Unit], plan_skips: list[dict[str, str]], previous: Plan | None
) -> tuple[Plan, list[Unit]]:
    """The plan of this run and its units in build order: the previous plan's segments, then the entries it lacks.
    BuildConflictError naming what changed when the previous build's units cannot be kept."""
    content, entries = _content(config), _entries(config, units, plan_skips)
    keys = [entry_key(s) for s in config.sources]
    segments: list[list[str]] = [keys]
    if previous is not None:
        why = _conflict(previous, content, entries) if "segments" in previous else "it was made by an older version"
        if why is not None:
            raise BuildConflictError(
                f"{config.out_dir} holds a build that this run cannot extend: {why}. Choose another out_dir "
                "(--out) or pass overwrite=True (--overwrite) to rebuild it"
            )
        added = [k for k in keys if k not in previous["entries"]]
        segments = [*previous["segments"], *([added] if added else [])]
    index = {k: i for i, k in enumerate(keys)}
    by_entry: dict[int, list[Unit]] = defaultdict(list)
    for u in units:
        by_entry[u.spec].append(u)
    ordered = [u for segment in segments for k in segment for u in by_entry[index[k]]]
    plan = {"content": content, "entries": entries, "segments": segments, "units": len(ordered)}
    return plan, ordered
