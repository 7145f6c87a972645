"""`earthgpt data check`: a row per configured source (found / absent / layout problem), what is there, and the fix.

Only folder listings, index files and nothing of the images beyond their names: a check of the full MMRS root
lists files and reads annotation indexes, it decodes no image.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from earthgpt.data.corpus.config import BuildConfig
from earthgpt.data.corpus.locate import Located, expected_layout, locate_all
from earthgpt.data.corpus.splits import split_options
from earthgpt.data.corpus.stats import format_table
from earthgpt.data.sources import get_source
from earthgpt.data.sources._shared import IMAGE_SUFFIXES

__all__ = ["SourceCheck", "check", "check_exit_code", "format_check"]

ANNOTATION_SUFFIXES = (".xml", ".json", ".txt", ".csv", ".tsv")


@dataclass
class SourceCheck:
    """One entry's state: where it was looked for, what is there, and what to do when it is not usable."""

    located: Located
    images: int = 0
    annotations: int = 0
    items: dict[str, int] = field(default_factory=dict)
    """Items per configured split (empty when the source is not found)."""
    problems: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.located.status == "found" and not self.problems

    @property
    def status(self) -> str:
        if self.located.status == "found" and self.problems:
            return "layout problem"
        return {"found": "found", "absent": "absent", "layout": "layout problem"}[self.located.status]


def _count_files(root: Path) -> tuple[int, int]:
    """(image files, annotation files) below ``root``, by suffix."""
    images = annotations = 0
    for _, _, files in os.walk(root):
        for f in files:
            suffix = os.path.splitext(f)[1].lower()
            images += suffix in IMAGE_SUFFIXES
            annotations += suffix in ANNOTATION_SUFFIXES
    return images, annotations


def _check_found(result: SourceCheck, data_root: Path) -> None:
    """Count the files and the items of every configured split of a found entry."""
    loc = result.located
    root = data_root / loc.root
    result.images, result.annotations = _count_files(root)
    cls = get_source(loc.spec.name)
    options = split_options(loc.spec.name, loc.spec.options, f"sources[{loc.index}].options")
    for split in loc.spec.splits:
        try:
            result.items[split] = len(cls(root, split=split, **options).items())
        except Exception as e:  # a corrupt index: the build would skip this split
            result.problems.append(f"split {split!r} cannot be read ({type(e).__name__}: {e})")
            continue
        if not result.items[split]:
            result.problems.append(f"split {split!r} has no items: is {root} the whole release?")


def check(config: BuildConfig, data_root: Path) -> list[SourceCheck]:
    """The state of every configured entry under ``data_root``."""
    results = [SourceCheck(loc) for loc in locate_all(config, data_root)]
    for r in results:
        if r.located.status == "found":
            _check_found(r, data_root)
    return results


def _found_text(r: SourceCheck) -> str:
    if r.located.status != "found":
        return "-"
    splits = ", ".join(f"{s} {n:,}" for s, n in r.items.items())
    return f"{r.images:,} images, {r.annotations:,} annotation files; items: {splits}"


def format_check(results: list[SourceCheck], data_root: Path) -> str:
    """The check as a table, then for each entry not usable: the problem, the expected layout and the fix."""
    rows = [(r.located.key, r.status, r.located.root or r.located.spec.root, _found_text(r)) for r in results]
    parts = [format_table(("Source", "Status", "Folder", "Found"), rows)]
    notes = [f"{r.located.key}: {r.located.note}" for r in results if r.located.note]
    if notes:
        parts += ["", "Layout variants used:", *(f"  {n}" for n in notes)]
    for r in results:
        if r.usable:
            continue
        problems = (
            [r.located.problem] if r.located.problem else [f"{data_root / r.located.root}: {p}" for p in r.problems]
        )
        parts += [
            "",
            f"{r.located.key} ({r.status}):",
            *(f"  {p}" for p in problems),
            f"  expected: {expected_layout(r.located.spec.name)}",
        ]
    usable = sum(r.usable for r in results)
    parts += ["", f"{usable} of {len(results)} configured sources usable under {data_root}"]
    return "\n".join(parts)


def check_exit_code(results: list[SourceCheck]) -> int:
    """0 when every configured source is usable, else 1."""
    return 0 if all(r.usable for r in results) else 1
