"""A task's data on disk -> its samples, with every skipped item counted and a clear error when data is absent."""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from earthgpt.data.corpus.config import TilingOptions
from earthgpt.data.corpus.locate import expected_layout
from earthgpt.data.corpus.splits import split_options
from earthgpt.data.corpus.tiling import clip_to_image, cut_record, needs_tiling
from earthgpt.data.masks import MaskError
from earthgpt.data.records import DetectionRecord, Record
from earthgpt.data.sources import get_source
from earthgpt.data.sources._detection import DetectionSource
from earthgpt.data.sources.base import DataRootError, Skip, Source
from earthgpt.evaluation.tasks.samples import samples_from_record
from earthgpt.evaluation.tasks.spec import Sample, TaskDataError, TaskSpec

__all__ = ["TaskData", "expected_folder", "load_task", "spread"]

log = logging.getLogger(__name__)

_ANY_PART = 1e-9  # the min_visible of ignore regions cut by tiles: any part of them still ignores


@dataclass
class TaskData:
    """The samples of one task, where its images are, and what was left out on the way."""

    spec: TaskSpec
    root: Path
    """The source root: image paths of the samples are relative to it."""
    samples: list[Sample]
    skips: Counter[str] = field(default_factory=Counter)
    """Items the source skipped, by reason."""
    excluded: Counter[str] = field(default_factory=Counter)
    """VQA questions left out by type (``spec.exclude_qtypes``)."""
    total: int = 0
    """Number of samples before ``limit``."""
    aliases: tuple[tuple[str, str], ...] = ()
    """Detection: the dataset's own class names -> categories (the source's ``label_map``, which the builder
    uses), so that a prediction labelled as the files spell a class ("OtherVehicle") is that class."""


def spread(n: int, limit: int | None) -> list[int]:
    """``limit`` indices spread evenly over range(n) (all of them when limit is None or >= n)."""
    if limit is None or limit >= n:
        return list(range(n))
    if limit <= 0:
        return []
    return sorted({(i * n) // limit for i in range(limit)})


def expected_folder(spec: TaskSpec, data_root: str | Path) -> str:
    """The folder a task reads and what it must hold (the task's words, else its source's dataset card): what a
    report of skipped tasks prints."""
    return f"{Path(data_root) / spec.data_dir} holding {spec.expects or expected_layout(spec.source)}"


def _missing(spec: TaskSpec, root: Path, why: str) -> TaskDataError:
    return TaskDataError(
        f"task {spec.name!r}: {why}. Provide the directory {root} (the folder <data_root>/{spec.data_dir}) "
        f"holding {spec.expects or 'the dataset as distributed'}; it is read by the source {spec.source!r} "
        f"(split {spec.split!r}, options {dict(spec.options)})"
    )


def open_source(spec: TaskSpec, data_root: str | Path) -> Source:
    """The task's source over ``data_root / spec.data_dir``; TaskDataError naming the directory if absent."""
    root = Path(data_root) / spec.data_dir
    if not root.is_dir():
        raise _missing(spec, root, "its data directory does not exist")
    try:
        cls = get_source(spec.source)
    except KeyError as e:
        raise TaskDataError(
            f"task {spec.name!r} needs the dataset source {spec.source!r}, which this installation does not "
            f"have ({e.args[0]})"
        ) from None
    options = split_options(spec.source, spec.options, f"task {spec.name!r}")  # the split the builder uses too
    try:
        source = cls(root, spec.split, **options)
    except DataRootError as e:
        raise _missing(spec, root, f"the source could not read it ({e})") from e
    if isinstance(source, DetectionSource):
        source.for_scoring = True  # every image, difficult objects and ignore regions kept (see DetectionSource)
    return source


def _pieces(spec: TaskSpec, record: Record, item: str, skips: Counter[str]) -> list[Record]:
    """The record as the training data sees it: a detection image cut into tiles (when the task tiles and it is
    larger than a tile) or its boxes clipped to the image; skipped objects are counted. Every image and tile is
    kept, with or without objects: false positives on an image without ground truth count in AP."""
    if not isinstance(record, DetectionRecord):
        return [record]
    opts = TilingOptions(size=spec.tile, keep_empty=True) if spec.tile is not None else TilingOptions()
    # ignore regions and difficult objects count wherever any part of them lies
    loose = dataclasses.replace(opts, min_visible=_ANY_PART)
    if spec.tile is not None and needs_tiling(record, opts):
        pieces, _ = cut_record(record, item, opts)
        ignored, _ = cut_record(dataclasses.replace(record, objects=record.ignored, masks=()), item, loose)
        regions = {r.id: r.objects for r in ignored if isinstance(r, DetectionRecord)}
        out: list[Record] = []
        for p in pieces:
            if isinstance(p, Skip):
                skips[p.reason] += 1
            else:
                out.append(dataclasses.replace(p, ignored=regions.get(p.id, ())))
        return out
    clipped, dropped = clip_to_image(record, opts)
    skips["box_outside_image"] += dropped
    parts, _ = clip_to_image(dataclasses.replace(record, objects=record.ignored, masks=()), loose)
    return [dataclasses.replace(clipped, ignored=parts.objects)]


def _add_samples(spec: TaskSpec, record: Record, data: TaskData, seen: set[str], item: str) -> None:
    try:
        samples = samples_from_record(spec, record, data.excluded, data.aliases)
    except MaskError as e:  # a prompt that cannot be drawn inside its object's mask
        log.warning("task %s: record %s skipped: %s", spec.name, record.id, e)
        data.skips[e.reason] += 1
        return
    except ValueError as e:  # a value the answer format cannot write (NaN, a zero-size image): skip the record
        log.warning("task %s: record %s skipped: %s", spec.name, record.id, e)
        data.skips["malformed_annotation"] += 1
        return
    for sample in samples:
        if sample.id in seen:
            log.warning("task %s: duplicate sample id %s from item %s ignored", spec.name, sample.id, item)
            continue
        seen.add(sample.id)
        data.samples.append(sample)


def load_task(spec: TaskSpec, data_root: str | Path, limit: int | None = None) -> TaskData:
    """Every sample of a task (or ``limit`` of them, spread evenly over the dataset's items).

    With a limit, ``limit`` items spread over the dataset are read first, then (when those give fewer than
    ``limit`` samples, e.g. images missing on disk) the other items in order, until enough samples are found;
    so a quick run over a large dataset stays quick.
    """
    source = open_source(spec, data_root)
    items = source.items()
    first = spread(len(items), limit)
    chosen = set(first)
    order = first + [i for i in range(len(items)) if i not in chosen]
    aliases = tuple(getattr(source, "label_map", {}).items())
    data = TaskData(spec=spec, root=source.root, samples=[], aliases=aliases)
    seen: set[str] = set()
    for n, index in enumerate(order):
        if limit is not None and n >= len(first) and len(data.samples) >= limit:
            break
        item = items[index]
        for out in source.load(item):
            if isinstance(out, Skip):
                data.skips[out.reason] += 1
                continue
            for record in _pieces(spec, out, item, data.skips):
                _add_samples(spec, record, data, seen, item)
    data.total = len(data.samples)
    data.samples = [data.samples[i] for i in spread(len(data.samples), limit)]
    if not data.samples:
        why = f"skips: {dict(data.skips) or 'none'}; questions excluded by type: {dict(data.excluded) or 'none'}"
        raise _missing(spec, source.root, f"no usable sample was found ({why})")
    return data
