"""Fuzzing the builder: corrupt annotation files of every faked source and of real samples, then build.

Each example copies a pristine dataset folder, mutates one file (truncation, byte flips, deleted or repeated lines,
NaN / negative / huge numbers), and builds it. The build must not raise, every item must end up converted or
skipped with a named reason, no skip may stand for an exception (a source or conversion that raised), and every
written line must read back. The fakes are discovered from tests/data/fakes at test time.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.data.fakes as fakes_pkg
from earthgpt.data.conversation import Conversation
from earthgpt.data.corpus import BuildConfig, SourceSpec, build, read_manifest
from earthgpt.data.corpus.splits import split_options, training_splits
from earthgpt.data.records import record_from_dict
from earthgpt.data.sources import SKIP_REASONS, get_source
from tests.data.corpus.helpers import copy_dior_rsvg, copy_dota, copy_hit_uav

# Every fake of a source a corpus may hold: the zero-shot benchmark sets (CLRS, NaSC-TG2) have no training split
# (earthgpt.data.corpus.splits), so the builder refuses them; tests/data/sources reads their fakes.
FAKES = sorted(
    m.name
    for m in pkgutil.iter_modules(fakes_pkg.__path__)
    if not m.name.startswith("_") and training_splits(m.name, ("train",))
)
ANNOTATION_SUFFIXES = {".txt", ".xml", ".json", ".csv", ".tsv"}
BAD_NUMBERS = ["nan", "NaN", "inf", "-1", "-12345.5", "1e308", "99999999", "0", "", "x1"]
NUMBER = re.compile(rb"-?\d+(?:\.\d+)?")
_BOUNDS = {
    "deadline": None,
    "derandomize": True,  # the same examples on every run: a failure is reproducible, never flaky
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
}
FUZZ_FAKE = settings(max_examples=12, **_BOUNDS)  # x every fake (about 40 once all sources exist)
FUZZ_REAL = settings(max_examples=30, **_BOUNDS)

Op = tuple[Any, ...]
mutation = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(1, 255)),
    st.tuples(st.just("delete_line"), st.floats(0, 1)),
    st.tuples(st.just("repeat_line"), st.floats(0, 1)),
    st.tuples(st.just("number"), st.floats(0, 1), st.sampled_from(BAD_NUMBERS)),
)
mutations = st.tuples(st.floats(0, 1), st.lists(mutation, min_size=1, max_size=3))


def _at(fraction: float, n: int) -> int:
    return min(n - 1, int(fraction * n)) if n else 0


def mutate(data: bytes, op: Op) -> bytes:
    """Apply one mutation to a file's bytes."""
    kind, where = op[0], op[1]
    if kind == "truncate":
        return data[: _at(where, len(data))]
    if kind == "flip" and data:
        i = _at(where, len(data))
        return data[:i] + bytes([data[i] ^ op[2]]) + data[i + 1 :]
    lines = data.splitlines(keepends=True)
    if kind in ("delete_line", "repeat_line") and lines:
        i = _at(where, len(lines))
        return b"".join(lines[:i] + ([lines[i]] * 2 if kind == "repeat_line" else []) + lines[i + 1 :])
    numbers = list(NUMBER.finditer(data))
    if kind == "number" and numbers:
        m = numbers[_at(where, len(numbers))]
        return data[: m.start()] + op[2].encode() + data[m.end() :]
    return data


def mutable_files(root: Path) -> list[Path]:
    """The annotation files of a dataset folder, or its images when the folder names are the annotation."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    notes = [p for p in files if p.suffix.lower() in ANNOTATION_SUFFIXES]
    return notes or files


def planned_items(spec: SourceSpec, root: Path) -> dict[str, set[str] | None]:
    """Items per split, listed independently of the builder (None when the split cannot be opened or listed)."""
    cls = get_source(spec.name)
    out: dict[str, set[str] | None] = {}
    for split in spec.splits:
        try:
            options = split_options(spec.name, spec.options, spec.name)
            out[split] = set(cls(root / spec.root, split=split, **options).items())
        except Exception:
            out[split] = None
    return out


def check_build(spec: SourceSpec, data_root: Path, out_dir: Path) -> None:
    """Build one source and check that every item is converted or skipped for a named reason."""
    config = BuildConfig([spec], data_root=str(data_root), out_dir=str(out_dir))
    build(config, progress=False)  # must not raise
    m = read_manifest(out_dir)
    records = [json.loads(ln) for s in m["shards"] for ln in (out_dir / s["files"]["records"]).open()]
    convs = [json.loads(ln) for s in m["shards"] for ln in (out_dir / s["files"]["conversations"]).open()]
    for r in records:
        record_from_dict(r)
    for c in convs:
        Conversation.from_dict(c)
    assert {s["reason"] for s in m["skips"]} <= set(SKIP_REASONS)
    raised = [s for s in m["skips"] if s["reason"] == "source_error"]
    assert not raised, f"{spec.name} raised instead of skipping: {raised[:3]}"
    converted = {r["item"] for r in records}
    skipped = {s["item"] for s in m["skips"]}
    for split, items in planned_items(spec, data_root).items():
        if items is None:
            assert any(s["item"] == "*" and s["split"] == split for s in m["skips"])
            continue
        lost = items - converted - skipped
        assert not lost, f"{spec.name} {split}: items neither converted nor skipped: {sorted(lost)[:5]}"
    assert m["units"]["converted"] + m["units"]["skipped"] == m["units"]["total"]


def run_fuzz(pristine: Path, spec: SourceSpec, choice: float, ops: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(pristine, data, symlinks=True)
        files = mutable_files(data / spec.root)
        assert files, f"{spec.name}: the dataset folder holds no file to mutate"
        target = files[_at(choice, len(files))]
        content = target.read_bytes()
        for op in ops:
            content = mutate(content, op)
        target.write_bytes(content)
        check_build(spec, data, Path(tmp) / "out")


def _splits(name: str, root: Path) -> list[str]:
    """The splits of a source that its unmutated fake can open and a corpus may hold ("all" left out: it repeats
    the others; a benchmark's splits are refused by the builder)."""
    cls = get_source(name)
    openable = []
    for split in training_splits(name, cls.splits):
        try:
            cls(root, split=split)
        except (OSError, ValueError):
            continue
        openable.append(split)
    return [s for s in openable if s != "all"] or openable


@pytest.fixture(scope="module")
def pristine_fakes(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, str]]:
    """Write each fake once: (data root, the fake's root relative to it)."""
    cache: dict[str, tuple[Path, str]] = {}

    def get(name: str) -> tuple[Path, str]:
        if name not in cache:
            module = importlib.import_module(f"tests.data.fakes.{name}")
            data = tmp_path_factory.mktemp(f"fake_{name}")
            root = module.write(data / name)
            cache[name] = (data, root.relative_to(data).as_posix())
        return cache[name]

    return get


def test_fakes_are_discovered() -> None:
    assert FAKES and all(hasattr(importlib.import_module(f"tests.data.fakes.{n}"), "SOURCE") for n in FAKES)


@pytest.mark.parametrize("fake", FAKES)
def test_fuzz_fake_sources(fake: str, pristine_fakes: Callable[[str], tuple[Path, str]]) -> None:
    module = importlib.import_module(f"tests.data.fakes.{fake}")
    data, rel = pristine_fakes(fake)
    spec = SourceSpec(module.SOURCE, rel, _splits(module.SOURCE, data / rel))
    assert spec.splits, f"the fake of {fake} opens no split of its source"
    check_build(spec, data, data.parent / f"{fake}_clean_out")  # the unmutated fake builds cleanly too

    @FUZZ_FAKE
    @given(mutations)
    def fuzz(case: tuple[float, list[Op]]) -> None:
        run_fuzz(data, spec, *case)

    fuzz()


@pytest.fixture(scope="module")
def pristine_real(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real samples: 3 + 2 HIT-UAV images, the small DOTA example, the DIOR-RSVG sample."""
    data = tmp_path_factory.mktemp("real") / "data"
    copy_hit_uav(data_root, data, n_train=3, n_val=2)
    copy_dota(data_root, data, stems=("P1888",))
    copy_dior_rsvg(data_root, data)
    return data


REAL_SPECS = {
    "hit_uav_hbb": SourceSpec("hit_uav", "hit_uav", ["train", "val"], {"kind": "hbb"}),
    "hit_uav_obb": SourceSpec("hit_uav", "hit_uav", ["train", "val"], {"kind": "obb"}),
    "dota": SourceSpec("dota", "dota", ["train"], {"kind": "obb"}),
    "dior_rsvg": SourceSpec("dior_rsvg", "dior_rsvg", ["train", "val"]),
}


@pytest.mark.parametrize("case", sorted(REAL_SPECS))
def test_fuzz_real_samples(case: str, pristine_real: Path) -> None:
    spec = REAL_SPECS[case]

    @FUZZ_REAL
    @given(mutations)
    def fuzz(c: tuple[float, list[Op]]) -> None:
        run_fuzz(pristine_real, spec, *c)

    fuzz()


def test_mutations_do_what_they_say() -> None:
    data = b"a 1 2\nb 3.5 4\n"
    assert mutate(data, ("truncate", 0.4)) == b"a 1 2"  # 14 bytes: cut at int(0.4 * 14) = 5
    assert mutate(data, ("flip", 0.0, 1)) == b"` 1 2\nb 3.5 4\n"
    assert mutate(data, ("delete_line", 0.0)) == b"b 3.5 4\n"
    assert mutate(data, ("repeat_line", 0.9)) == b"a 1 2\nb 3.5 4\nb 3.5 4\n"
    assert mutate(data, ("number", 0.6, "nan")) == b"a 1 2\nb nan 4\n"
