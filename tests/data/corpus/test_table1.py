"""The MMRS recipe reproduces Table I's sizes where a split gives them, and `data stats` prints Table I beside a build."""

from __future__ import annotations

from pathlib import Path

import pytest

from earthgpt.data.corpus import load_config, stats
from earthgpt.data.corpus.runner import BuildResult
from earthgpt.data.corpus.splits import split_options
from earthgpt.data.corpus.table1 import TABLE_I
from earthgpt.data.sources import all_sources, get_source
from tests.conftest import REPO_ROOT

MMRS = load_config(REPO_ROOT / "configs" / "data" / "mmrs.yaml")
EUROSAT_CLASSES = {  # the release's images per class (27,000 in all)
    "AnnualCrop": 3000, "Forest": 3000, "HerbaceousVegetation": 3000, "Highway": 2500, "Industrial": 2500,
    "Pasture": 2000, "PermanentCrop": 2500, "Residential": 3000, "River": 2500, "SeaLake": 3000,
}  # fmt: skip


def _release_names(source: str) -> list[str]:
    """Every image of the full release as <class folder>/<file name> (the names the hash split reads)."""
    folders = list(get_source(source).folder_labels)  # type: ignore[attr-defined]
    if source == "nwpu_resisc45":
        return [f"{f}/{f}_{n:03d}.jpg" for f in folders for n in range(1, 701)]
    if source == "ucmerced_landuse":
        return [f"{f}/{f}{n:02d}.tif" for f in folders for n in range(100)]
    return [f"2750/{c}/{c}_{n}.jpg" for c, k in EUROSAT_CLASSES.items() for n in range(1, k + 1)]


def _recipe_train_size(source: str, tmp_path: Path) -> int:
    """The number of images the recipe's entry reads from an empty-file copy of the full release's names."""
    (spec,) = [s for s in MMRS.sources if s.name == source]
    for rel in _release_names(source):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).touch()
    cls = get_source(source)
    return sum(
        len(cls(tmp_path, split, **split_options(source, spec.options, source)).items()) for split in spec.splits
    )


@pytest.mark.parametrize("source", ["nwpu_resisc45", "eurosat", "ucmerced_landuse"])
def test_the_recipe_takes_table_i_20_percent_sample(source: str, tmp_path: Path) -> None:
    n, paper = _recipe_train_size(source, tmp_path), TABLE_I[("scene", source)].size
    total = len(_release_names(source))
    assert paper * 5 == total  # Table I's count is exactly 20% of the release
    sd = (total * 0.2 * 0.8) ** 0.5  # a hash split is a binomial draw
    assert abs(n - paper) < 4 * sd, f"{source}: the recipe reads {n} of {total} images, Table I {paper}"


def test_recipe_splits_follow_table_i() -> None:
    entries = {s.name: s for s in MMRS.sources}
    assert entries["floodnet_vqa"].splits == ["train"]  # 4,511 = the train questions only
    assert entries["rsvqa_lr"].splits == ["train", "val"]  # 67,228 = 57,223 + 10,005
    assert entries["dior_rsvg"].splits == ["train", "val"]  # 30,820 = 26,991 + 3,829
    assert split_options("crsvqa", entries["crsvqa"].options, "crsvqa") == {"test_fraction": 0.1}  # 900 = 90%


def test_table_i_names_registered_sources_and_the_recipe_covers_it() -> None:
    known = set(all_sources())
    assert {source for _, source in TABLE_I} <= known
    assert {source for _, source in TABLE_I} == {s.name for s in MMRS.sources}
    assert len({source for _, source in TABLE_I}) == 34  # "34 various existing RS datasets"


def _paper_row(text: str, source: str, task: str) -> list[str]:
    (line,) = [ln for ln in text.splitlines() if ln.split()[:2] == [source, task]]
    return line.split()


def test_stats_prints_table_i_beside_the_build(reference: BuildResult) -> None:
    text = stats(reference.out_dir)
    assert _paper_row(text, "eurosat", "scene") == ["eurosat", "scene", "5,400", "conversations", "3", "0%"]
    assert _paper_row(text, "dior_rsvg", "grounding") == ["dior_rsvg", "grounding", "30,820", "records", "1", "0%"]
    # detection rows: one per dataset (HBB, OBB and referring sessions summed); the paper's unit is unknown
    assert _paper_row(text, "hit_uav", "detection")[:4] == ["hit_uav", "detection", "10,608", "?"]
    assert _paper_row(text, "dota", "detection") == ["dota", "detection", "163,486", "?", "10", "?"]
