"""No benchmark item in a training corpus: the MMRS recipe built on fake trees never holds a paper task's items."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any

import pytest

from earthgpt.data.corpus import BuildConfig, ConfigError, SourceSpec, build, iter_records, load_config
from earthgpt.data.corpus.splits import SPLITS, SplitError, check_training_split, split_options
from earthgpt.data.records import Record, VQARecord
from earthgpt.data.sources import Skip, Source, get_source
from earthgpt.evaluation.tasks.load import load_task, open_source
from earthgpt.evaluation.tasks.registry import PAPER_TASKS, _check_benchmark_splits
from earthgpt.evaluation.tasks.spec import TaskSpec
from tests.conftest import REPO_ROOT

MMRS = REPO_ROOT / "configs" / "data" / "mmrs.yaml"


def _training_entries(task: TaskSpec, data: Path, rel: str) -> list[SourceSpec]:
    """The recipe's entries of the task's dataset over the fake; for a dataset the recipe leaves out, one entry
    with every split a corpus may hold (what a user adding it would get)."""
    recipe = [dataclasses.replace(s, root=rel) for s in load_config(MMRS).sources if s.name == task.source]
    if recipe:
        return recipe
    options = {k: v for k, v in task.options.items() if k == "kind"}
    cls = get_source(task.source)
    allowed = [s for s in cls.splits if s in SPLITS[task.source].training and _opens(cls, data / rel, s, options)]
    return [SourceSpec(task.source, rel, allowed, options)]


def _opens(cls: type[Source], root: Path, split: str, options: dict[str, Any]) -> bool:
    """Whether the fake holds the files of this split (fakes write only some splits)."""
    try:
        cls(root, split, **options)
    except (OSError, ValueError):
        return False
    return True


def _benchmark_records(task: TaskSpec, data_root: Path) -> list[Record]:
    source = open_source(task, data_root)
    return [r for item in source.items() for r in source.load(item) if not isinstance(r, Skip)]


@pytest.mark.parametrize("task", PAPER_TASKS, ids=lambda t: t.name)
def test_the_mmrs_recipe_holds_no_benchmark_item(task: TaskSpec, tmp_path: Path) -> None:
    data = tmp_path / "data"
    fake = importlib.import_module(f"tests.data.fakes.{task.source}")
    rel = fake.write(data / task.data_dir).relative_to(data).as_posix()
    task = dataclasses.replace(task, data_dir=rel)
    assert load_task(task, data).samples  # the benchmark reads the fake
    bench = _benchmark_records(task, data)
    entries = [e for e in _training_entries(task, data, rel) if e.splits]
    train: list[Record] = []
    if entries:
        build(BuildConfig(entries, data_root=str(data), out_dir=str(tmp_path / "out")), progress=False)
        train = list(iter_records(tmp_path / "out"))
    bench_ids, train_ids = {r.id for r in bench}, {r.id for r in train}
    assert bench_ids and not bench_ids & train_ids
    if task.kind != "grounding":  # DIOR-RSVG splits expressions; its official lists share images
        bench_images = {(data / rel / r.image.path).resolve() for r in bench}
        assert not bench_images & {(data / r.image.path).resolve() for r in train}
    if task.source in {s.name for s in load_config(MMRS).sources}:
        assert train, f"the fake of {task.source} puts every item in the benchmark: the check would be empty"


def test_an_entry_on_a_benchmark_split_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\[0\] \(nwpu_resisc45\)\.splits: split 'test' .*Tab\. II"):
        BuildConfig([SourceSpec("nwpu_resisc45", "x", ["train", "test"])])
    with pytest.raises(ConfigError, match=r"split 'all' of dior_rsvg"):
        BuildConfig([SourceSpec("dior_rsvg", "x", ["all"])])
    with pytest.raises(ConfigError, match="none: the benchmark reads every item"):
        BuildConfig([SourceSpec("clrs", "x", ["train"])])


def test_an_option_that_moves_the_split_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"options: option test_fraction=0\.2 changes the split of nwpu_resisc45"):
        BuildConfig([SourceSpec("nwpu_resisc45", "x", ["train"], {"test_fraction": 0.2})])
    with pytest.raises(ConfigError, match="split_release='early'"):
        BuildConfig([SourceSpec("dior_rsvg", "x", ["train"], {"split_release": "early"})])
    # the defining value itself is accepted, other options pass through, other datasets are free
    assert split_options("crsvqa", {"test_fraction": 0.1}, "w") == {"test_fraction": 0.1}
    assert split_options("mar20", {"kind": "obb"}, "w") == {"kind": "obb"}
    assert split_options("eurosat", {"test_fraction": 0.5}, "w") == {"test_fraction": 0.5}
    check_training_split("eurosat", "test", "w")


def test_a_task_is_read_with_the_split_definition(tmp_path: Path) -> None:
    fake = importlib.import_module("tests.data.fakes.crsvqa")
    rel = fake.write(tmp_path / "CRSVQA").relative_to(tmp_path).as_posix()
    (task,) = [dataclasses.replace(t, data_dir=rel, options={}) for t in PAPER_TASKS if t.source == "crsvqa"]
    ids = {r.id for r in _benchmark_records(task, tmp_path) if isinstance(r, VQARecord)}
    assert ids == set(fake.TEST_STEMS)  # the 10% test fraction applies without the task naming it
    bad = dataclasses.replace(task, options={"test_fraction": 0.5})
    with pytest.raises(SplitError, match=r"task 'crsvqa': option test_fraction=0\.5"):
        open_source(bad, tmp_path)


def test_a_paper_task_on_a_trainable_split_is_refused() -> None:
    (task,) = [t for t in PAPER_TASKS if t.name == "nwpu_resisc45"]
    with pytest.raises(ValueError, match="task 'nwpu_resisc45' reads split 'train'"):
        _check_benchmark_splits((dataclasses.replace(task, split="train"),))
    with pytest.raises(ValueError, match="reads split 'test' of eurosat"):
        _check_benchmark_splits((dataclasses.replace(task, source="eurosat"),))
