"""The build: plan units, convert them (in this process or in worker processes), commit shards, write the manifest.

Output is deterministic: units are ordered (config entries, splits, sorted items) and results are consumed in that
order whatever the number of workers, so 1 and N workers write the same bytes. A killed build resumes from its last
committed shard (see ``shards``): rerunning the same config into the same folder gives the bytes of an
uninterrupted build. Sources that became present later are appended after the committed units (see ``resume``);
the sources built are the configured ones found on disk (``locate``), the absent ones are listed in the manifest
when ``missing: skip``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import multiprocessing as mp
import shutil
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from earthgpt.data.corpus.config import BuildConfig, ConfigError, resolve_data_root
from earthgpt.data.corpus.locate import Located, present_config
from earthgpt.data.corpus.manifest import MANIFEST, make_manifest
from earthgpt.data.corpus.resume import BuildConflictError, Plan, make_plan
from earthgpt.data.corpus.shards import KINDS, STATE_DIR, ShardWriter, recover, write_json_atomic
from earthgpt.data.corpus.units import SourceBank, Unit, UnitResult, plan_units, process_unit

log = logging.getLogger(__name__)

PLAN = "plan.json"


@dataclass(frozen=True)
class BuildResult:
    """What a build produced (the manifest has the details)."""

    out_dir: Path
    manifest: Path
    units: int
    resumed_at: int
    """Units already committed by an earlier, interrupted run of the same build."""
    records: int
    conversations: int
    skips: int
    shards: int
    sha256: str


def _clear(out_dir: Path) -> None:
    """Delete the files of a previous build (only the builder's own files)."""
    for kind in KINDS:
        for p in out_dir.glob(f"{kind}-*.jsonl*"):
            p.unlink()
    for name in (MANIFEST, MANIFEST + ".tmp"):
        (out_dir / name).unlink(missing_ok=True)
    shutil.rmtree(out_dir / STATE_DIR, ignore_errors=True)


def _prepare(
    config: BuildConfig, units: list[Unit], plan_skips: list[dict[str, str]], overwrite: bool
) -> tuple[Plan, list[Unit]]:
    """Check that ``out_dir`` is empty or holds a build this run can resume or extend; record the plan. Returns
    the plan and the units in build order (see ``resume``)."""
    out_dir = Path(config.out_dir)
    path = out_dir / STATE_DIR / PLAN
    previous: Plan | None = None
    if overwrite:
        _clear(out_dir)
    elif path.is_file():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            previous = {}
    elif (out_dir / MANIFEST).exists():
        raise BuildConflictError(f"{out_dir} holds a build without its state: pass --overwrite or another --out")
    plan, ordered = make_plan(config, units, plan_skips, previous)
    (out_dir / STATE_DIR).mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, plan)
    return plan, ordered


_WORKER: tuple[BuildConfig, SourceBank] | None = None


def _init_worker(config: BuildConfig, data_root: str) -> None:
    global _WORKER
    _WORKER = (config, SourceBank(config, Path(data_root)))


def _work(unit: Unit) -> UnitResult:
    assert _WORKER is not None, "worker not initialised"
    return process_unit(_WORKER[0], _WORKER[1], unit)


def _results(config: BuildConfig, bank: SourceBank, units: list[Unit]) -> Generator[UnitResult, None, None]:
    """Unit results in unit order: converted here (1 worker) or by a pool of worker processes."""
    if config.workers == 1 or len(units) < 2:
        for unit in units:
            yield process_unit(config, bank, unit)
        return
    chunk = max(1, min(32, len(units) // (config.workers * 8)))
    # fork where there is one: no re-import of __main__ (spawn cannot start workers from `python -` or some
    # notebooks) and no start-up cost; the workers only read files and hold no lock of the parent.
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(config.workers, initializer=_init_worker, initargs=(config, str(bank.data_root))) as pool:
        yield from pool.imap(_work, units, chunksize=chunk)


def _convert(
    config: BuildConfig,
    bank: SourceBank,
    units: list[Unit],
    markers: list[dict[str, Any]],
    progress: bool,
    on_unit: Callable[[int], None] | None,
) -> None:
    """Convert the units after the committed ``markers`` and commit their shards (appending to ``markers``)."""
    out_dir = Path(config.out_dir)
    start = markers[-1]["units_end"] if markers else 0
    writer = ShardWriter(out_dir, len(markers), start)
    bar = tqdm(total=len(units), initial=start, disable=not progress, desc="build", unit="item", dynamic_ncols=True)
    with bar, contextlib.closing(_results(config, bank, units[start:])) as results:
        for n, result in enumerate(results, start + 1):
            writer.add(result)
            if writer.lines["conversations"] >= config.shard_size:
                markers.append(writer.commit())
                writer = ShardWriter(out_dir, len(markers), n)
            bar.update(1)
            if on_unit is not None:
                on_unit(n)
    if writer.units:
        markers.append(writer.commit())


def _present(config: BuildConfig, data_root: Path) -> tuple[BuildConfig, list[Located]]:
    """The config of the sources present (roots as found) and the absent ones; ConfigError when none is present."""
    present, absent = present_config(config, data_root)
    if present is None:
        raise ConfigError(
            f"none of the {len(config.sources)} configured sources is under data_root={data_root}: run "
            "`earthgpt data check` to see where each is expected"
        )
    return present, absent


def build(
    config: BuildConfig,
    *,
    overwrite: bool = False,
    progress: bool = True,
    on_unit: Callable[[int], None] | None = None,
) -> BuildResult:
    """Build (or resume building) the instruction corpus described by ``config`` into ``config.out_dir``.

    ``on_unit(n)`` is called after the n-th unit of the whole build has been written (a hook for progress
    reporting and for interrupting the build in tests). Raises ConfigError naming the field for bad config values,
    a missing data root or source folder, or an unknown source name.
    """
    data_root = resolve_data_root(config)
    config, absent = _present(config, data_root)
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    bank = SourceBank(config, data_root)
    units, plan_skips = plan_units(config, bank)
    plan, units = _prepare(config, units, plan_skips, overwrite)
    if len(plan["segments"]) > 1:
        log.info("%s: appending %s after the earlier build", out_dir, ", ".join(plan["segments"][-1]))
    markers = recover(out_dir)
    start = markers[-1]["units_end"] if markers else 0
    if start:
        log.info("resuming %s at item %d of %d (%d shards done)", out_dir, start, len(units), len(markers))
    _convert(config, bank, units, markers, progress, on_unit)
    manifest: dict[str, Any] = make_manifest(
        dataclasses.replace(config, data_root=str(data_root)), markers, plan_skips, len(units)
    )
    manifest["absent"] = [loc.describe(data_root) for loc in absent]
    manifest["segments"] = plan["segments"]
    write_json_atomic(out_dir / MANIFEST, manifest, durable=False)  # a rerun rewrites it from the markers
    log.info("built %s: %d records, %d conversations, %d skips in %d shards, %d sources absent", out_dir,
             manifest["records"], manifest["conversations"], len(manifest["skips"]), len(markers), len(absent))  # fmt: skip
    return BuildResult(
        out_dir=out_dir,
        manifest=out_dir / MANIFEST,
        units=len(units),
        resumed_at=start,
        records=manifest["records"],
        conversations=manifest["conversations"],
        skips=len(manifest["skips"]),
        shards=len(markers),
        sha256=manifest["sha256"],
    )
