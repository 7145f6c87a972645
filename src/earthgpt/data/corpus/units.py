"""Work units of a build (one source item each): planning them, and turning one into JSON lines, skips and counts."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import posixpath
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from earthgpt.data.conversation import Conversation
from earthgpt.data.corpus.config import BuildConfig, ConfigError, SourceSpec
from earthgpt.data.corpus.splits import split_options
from earthgpt.data.corpus.tiling import clip_to_image, cut_record, needs_tiling
from earthgpt.data.instructions.convert import InstructionOptions, conversations_and_skips
from earthgpt.data.records import DetectionRecord, Record, record_to_dict
from earthgpt.data.sources import DataRootError, Skip, Source, get_source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unit:
    """One item of one split of one configured source (``spec`` indexes ``BuildConfig.sources``)."""

    spec: int
    split: str
    item: str


@dataclass
class UnitResult:
    """What one unit became: JSON lines for the shards, its skips, and tallies for the manifest.

    ``tally`` keys are (kind, task, source, modality, split) with kind "records" (per record task),
    "conversations" and "rounds" (per conversation task) and "conversation_records" (records per conversation task).
    """

    conversations: list[str] = field(default_factory=list)
    records: list[str] = field(default_factory=list)
    skips: list[dict[str, str]] = field(default_factory=list)
    tally: Counter[tuple[str, str, str, str, str]] = field(default_factory=Counter)
    tiling: Counter[str] = field(default_factory=Counter)


def dumps(d: dict[str, Any]) -> str:
    """One compact, valid JSON line (no NaN), non-ASCII kept readable."""
    return json.dumps(d, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def skip_dict(skip: Skip, spec: SourceSpec, split: str) -> dict[str, str]:
    """A skip as the manifest lists it, with the configured entry's source name and tag."""
    return {
        "source": spec.name,
        "tag": spec.tag,
        "split": split,
        "item": skip.item,
        "reason": skip.reason,
        "detail": skip.detail,
    }


def _portable(skips: list[dict[str, str]], data_root: Path) -> list[dict[str, str]]:
    """Skips whose details name files relative to the data root, so the output does not depend on where it is."""
    prefix = f"{data_root}{os.sep}"
    for s in skips:
        s["detail"] = s["detail"].replace(prefix, "")
    return skips


class SourceOpenError(RuntimeError):
    """A source that cannot be opened because of its data (e.g. a corrupt index file read by its constructor)."""


class SourceBank:
    """The configured sources, constructed on first use for each (entry, split); errors name the config field."""

    def __init__(self, config: BuildConfig, data_root: Path) -> None:
        self.config = config
        self.data_root = data_root
        self._sources: dict[tuple[int, str], Source] = {}

    def get(self, index: int, split: str) -> Source:
        key = (index, split)
        if key not in self._sources:
            self._sources[key] = self._make(index, split)
        return self._sources[key]

    def _make(self, index: int, split: str) -> Source:
        spec = self.config.sources[index]
        where = f"sources[{index}] ({spec.name})"
        try:
            cls = get_source(spec.name)
        except KeyError as e:
            raise ConfigError(f"{where}.name: {e.args[0]}") from None
        root = self.data_root / spec.root
        if not root.is_dir():
            raise ConfigError(
                f"{where}.root: {root} does not exist; set sources[{index}].root to the {spec.name} folder relative "
                f"to data_root={self.data_root} (or set data_root / --data / EARTHGPT_DATA)"
            )
        options = split_options(spec.name, spec.options, f"{where}.options")  # checked by BuildConfig already
        try:
            return cls(root, split=split, **options)
        except DataRootError as e:
            raise ConfigError(f"{where}.root: {e}") from e
        except TypeError as e:
            raise ConfigError(f"{where}.options {spec.options}: {e}") from e
        except Exception as e:  # a plain ValueError is a bad split or option; anything else, bad data
            if type(e) is ValueError:
                raise ConfigError(f"{where}, split {split!r}: {e}") from e
            raise SourceOpenError(f"{type(e).__name__}: {e}") from e


def plan_units(config: BuildConfig, bank: SourceBank) -> tuple[list[Unit], list[dict[str, str]]]:
    """Every unit of the build in output order (entries, then splits, then sorted items), and the skips of
    splits that could not be opened or listed because of bad data (one ``malformed_annotation`` skip with item "*"
    each). Config problems (unknown name, missing folder, bad option) raise ConfigError naming the entry."""
    units: list[Unit] = []
    skips: list[dict[str, str]] = []
    for i, spec in enumerate(config.sources):
        for split in spec.splits:
            items = _list_items(bank, i, split)
            if isinstance(items, str):
                log.error("%s split %s: %s", spec.name, split, items)
                skips.append(skip_dict(Skip(spec.name, "*", "malformed_annotation", items), spec, split))
                continue
            units.extend(Unit(i, split, item) for item in items)
    return units, _portable(skips, bank.data_root)


def _list_items(bank: SourceBank, index: int, split: str) -> list[str] | str:
    """The sorted items of one split, or why they cannot be listed; ConfigError (config problems) propagates."""
    try:
        source = bank.get(index, split)
    except SourceOpenError as e:  # corrupt data read by the constructor
        return f"cannot open the source: {e}"
    try:
        return sorted(source.items())
    except Exception as e:  # a corrupt index file must not stop the other sources
        return f"cannot list items: {type(e).__name__}: {e}"


def _rebase(record: Record, spec: SourceSpec) -> Record:
    """The record with its image path relative to the data root (source root prepended) and an id unique in the
    build: ``<source>/[<tag>/]<id>`` (the source's own ``<source>/`` prefix, if any, is not repeated)."""
    path = record.image.path
    if not PurePath(path).is_absolute():
        path = posixpath.normpath(posixpath.join(PurePath(spec.root).as_posix(), path))
    rest = record.id.removeprefix(f"{spec.name}/")
    rid = f"{spec.name}/{spec.tag}/{rest}" if spec.tag else f"{spec.name}/{rest}"
    return dataclasses.replace(record, id=rid, image=dataclasses.replace(record.image, path=path))


def _count(result: UnitResult, record: Record, convs: Iterable[Conversation]) -> None:
    source, modality, split = record.source, record.image.modality, record.split
    result.tally[("records", record.task, source, modality, split)] += 1
    tasks: set[str] = set()
    for c in convs:
        result.tally[("conversations", c.task, source, modality, split)] += 1
        result.tally[("rounds", c.task, source, modality, split)] += sum(m.role == "assistant" for m in c.messages)
        tasks.add(c.task)
    for task in tasks:
        result.tally[("conversation_records", task, source, modality, split)] += 1


def conversation_line(conv: Conversation, record: Record) -> dict[str, Any]:
    """A conversation as stored: its dict with the record id, split and modality next to its id (a superset of
    ``Conversation.to_dict``, so ``Conversation.from_dict`` reads it back)."""
    d = conv.to_dict()
    line = {
        "id": d["id"],
        "record_id": record.id,
        "source": record.source,
        "split": record.split,
        "task": d["task"],
        "modality": record.image.modality,
        "meta": d["meta"],
        "messages": d["messages"],
    }
    line.update({k: d[k] for k in ("prompts", "masks", "views") if k in d})  # EarthGPT-X parts, when present
    return line


def _emit(result: UnitResult, record: Record, opts: InstructionOptions, unit: Unit, spec: SourceSpec) -> None:
    """Add one (possibly tiled) record and its conversations; a record that cannot be converted becomes a skip."""
    try:
        convs, lost = conversations_and_skips(record, opts)
        conv_lines = [dumps(conversation_line(c, record)) for c in convs]
        record_line = dumps(record_to_dict(record) | {"item": unit.item})
    except Exception as e:  # a bug met on odd values must skip this record, not stop the build
        detail = f"{type(e).__name__} converting record {record.id}: {e}"
        log.warning("%s: %s", spec.name, detail)
        result.skips.append(skip_dict(Skip(spec.name, unit.item, "source_error", detail), spec, unit.split))
        return
    for reason, detail in lost:  # objects an EarthGPT-X conversion could not use (a bad mask, a stray point)
        result.skips.append(skip_dict(Skip(spec.name, unit.item, reason, f"{record.id}: {detail}"), spec, unit.split))
    result.records.append(record_line)
    result.conversations.extend(conv_lines)
    _count(result, record, convs)


def _pieces(
    record: Record, config: BuildConfig, spec: SourceSpec, item: str, result: UnitResult
) -> list[Record | Skip]:
    """A detection record as its tiles (large images) or clipped to its image; other records unchanged."""
    if not isinstance(record, DetectionRecord):
        return [record]
    tiling = config.tiling
    if tiling.enabled and spec.tile and needs_tiling(record, tiling):
        pieces, counts = cut_record(record, item, tiling)
        result.tiling.update(counts)
        return list(pieces)
    clipped, dropped = clip_to_image(record, tiling)
    out: list[Record | Skip] = [
        Skip(spec.name, item, "box_outside_image", f"{record.id}: an object with no area inside the image")
        for _ in range(dropped)
    ]
    if clipped.objects or not record.objects:
        out.append(clipped)
    else:
        out.append(Skip(spec.name, item, "empty_annotation", f"{record.id}: no object left inside the image"))
    return out


def process_unit(config: BuildConfig, bank: SourceBank, unit: Unit) -> UnitResult:
    """Load one item, rebase and tile its records, convert them; never raises on bad data. An exception from the
    source drops the item's records and becomes one ``source_error`` skip naming the exception (as does one raised
    while tiling or converting a record, for that record); an item that yields nothing at all becomes an
    ``empty_annotation`` skip."""
    spec = config.sources[unit.spec]
    result = UnitResult()
    try:
        outputs = list(bank.get(unit.spec, unit.split).load(unit.item))
    except Exception as e:  # a source bug must not lose the rest of the build
        detail = f"{type(e).__name__} in {spec.name}.load: {e}"
        log.error("%s %s: %s", spec.name, unit.item, detail)
        result.skips.append(skip_dict(Skip(spec.name, unit.item, "source_error", detail), spec, unit.split))
        _portable(result.skips, bank.data_root)
        return result
    if not outputs:
        skip = Skip(spec.name, unit.item, "empty_annotation", "the source yielded nothing for this item")
        result.skips.append(skip_dict(skip, spec, unit.split))
    opts = config.instruction_options()
    for out in outputs:
        if isinstance(out, Skip):
            result.skips.append(skip_dict(out, spec, unit.split))
            continue
        try:
            pieces = _pieces(_rebase(out, spec), config, spec, unit.item, result)
        except Exception as e:  # geometry on absurd values must skip this record, not stop the build
            detail = f"{type(e).__name__} tiling record {out.id}: {e}"
            log.warning("%s: %s", spec.name, detail)
            pieces = [Skip(spec.name, unit.item, "source_error", detail)]
        for piece in pieces:
            if isinstance(piece, Skip):
                result.skips.append(skip_dict(piece, spec, unit.split))
            else:
                _emit(result, piece, opts, unit, spec)
    _portable(result.skips, bank.data_root)
    return result
