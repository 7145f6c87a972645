"""Building from the datasets a user has: data check, missing: skip, per-source roots, layout variants, appending."""

from __future__ import annotations

import dataclasses
import importlib
import logging
import shutil
from pathlib import Path

import pytest

from earthgpt.cli import main
from earthgpt.data.corpus import (
    BuildConfig,
    ConfigError,
    SourceSpec,
    build,
    check,
    check_exit_code,
    format_check,
    load_config,
    parse_roots,
    read_manifest,
    stats,
)
from earthgpt.data.corpus.config import override_roots
from earthgpt.data.corpus.locate import expected_layout
from earthgpt.data.corpus.resume import BuildConflictError
from earthgpt.evaluation.tasks.load import expected_folder
from earthgpt.evaluation.tasks.registry import PAPER_TASKS
from tests.conftest import REPO_ROOT
from tests.data.corpus.helpers import copy_hit_uav

MMRS = REPO_ROOT / "configs" / "data" / "mmrs.yaml"
# A third of Table I's 34 datasets, written by their fakes under the recipe's folder names (most fakes write a
# folder of their own inside, as an unzipped archive does: the extra top folder the builder must recognise).
THIRD = (
    "rsicd", "sydney_captions", "floodnet_vqa", "crsvqa", "nwpu_resisc45", "eurosat", "fair1m", "ucas_aod",
    "air_sarship2", "sea_shipping", "dior_rsvg",
)  # fmt: skip


def _write_fakes(data: Path, names: tuple[str, ...]) -> None:
    roots = {s.name: s.root for s in load_config(MMRS).sources}
    for name in names:
        importlib.import_module(f"tests.data.fakes.{name}").write(data / roots[name])


def _mmrs(data: Path, out: Path, **changes: object) -> BuildConfig:
    return dataclasses.replace(load_config(MMRS, data_root=data, out_dir=out), **changes)  # type: ignore[arg-type]


def _entries(config: BuildConfig) -> list[str]:
    return [f"{s.name}/{s.tag}" if s.tag else s.name for s in config.sources]


@pytest.fixture(scope="module")
def third(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("third") / "data"
    _write_fakes(data, THIRD)
    return data


def test_a_third_of_the_sources_builds_exactly_those(third: Path, tmp_path: Path) -> None:
    config = _mmrs(third, tmp_path / "out", missing="skip")
    build(config, progress=False)
    m = read_manifest(tmp_path / "out")
    assert set(m["counts"]["records"]["by_source"]) == set(THIRD)
    absent = [f"{a['source']}/{a['tag']}" if a["tag"] else a["source"] for a in m["absent"]]
    assert absent == [k for k in _entries(config) if k.split("/")[0] not in THIRD]  # the other 24 entries
    assert all(a["status"] == "absent" and "does not exist" in a["problem"] for a in m["absent"])
    text = stats(tmp_path / "out")
    absent_rows = text.split("Absent sources")[1].splitlines()
    assert any(row.split()[:2] == ["hit_uav/obb", "HIT-UAV"] for row in absent_rows)
    # the recipe's roots were recognised one folder down, and the manifest records the folders used
    roots = {s["name"]: s["root"] for s in m["config"]["sources"]}
    assert roots["rsicd"] == "RSICD/RSICD" and roots["crsvqa"] == "CRSVQA/data"


def test_absent_sources_fail_by_default_naming_the_entry_and_the_choice(third: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\[1\] \(ucm_captions\)\.root: .*--skip-missing"):
        build(_mmrs(third, tmp_path / "out"), progress=False)
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_a_source_added_later_is_appended_without_rebuilding_the_others(third: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(third, data)
    first = build(_mmrs(data, tmp_path / "out", missing="skip"), progress=False)
    shards = {p.name: p.read_bytes() for p in (tmp_path / "out").glob("*.jsonl")}
    _write_fakes(data, ("whu_rs19",))
    second = build(_mmrs(data, tmp_path / "out", missing="skip"), progress=False)
    assert second.resumed_at == first.units and second.units > first.units  # nothing converted twice
    assert all((tmp_path / "out" / name).read_bytes() == b for name, b in shards.items())  # earlier shards kept
    m = read_manifest(tmp_path / "out")
    assert m["segments"][-1] == ["whu_rs19"] and "whu_rs19" in m["counts"]["records"]["by_source"]
    assert "whu_rs19" not in [a["source"] for a in m["absent"]]
    fresh = build(_mmrs(data, tmp_path / "fresh", missing="skip"), progress=False)
    assert (fresh.records, fresh.conversations) == (second.records, second.conversations)


def test_a_changed_source_stops_the_rerun_naming_it(third: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(third, data)
    build(_mmrs(data, tmp_path / "out", missing="skip"), progress=False)
    shutil.rmtree(data / "AIR-SARShip-2.0")  # a source present before is absent now
    with pytest.raises(BuildConflictError, match="it holds air_sarship2, which this config does not build"):
        build(_mmrs(data, tmp_path / "out", missing="skip"), progress=False)
    with pytest.raises(BuildConflictError, match="build options"):
        build(_mmrs(third, tmp_path / "out", missing="skip", shard_size=3), progress=False)


def test_check_reports_each_source_and_exits_0_only_when_all_are_usable(third: Path, tmp_path: Path) -> None:
    config = BuildConfig(
        [SourceSpec("crsvqa", "CRSVQA"), SourceSpec("eurosat", "eurosat"), SourceSpec("rsscn7", "RSSCN7")],
        data_root=str(third),
    )
    (third / "RSSCN7").mkdir(exist_ok=True)  # a folder without the class folders
    results = check(config, third)
    assert [r.status for r in results] == ["found", "found", "layout problem"]
    assert results[0].items == {"train": 2} and results[0].images == 3 and results[0].annotations == 3
    assert check_exit_code(results) == 1 and check_exit_code(results[:2]) == 0
    text = format_check(results, third)
    assert "found 'eurosat' as 'EuroSAT' (case or separators differ)" in text
    assert "no class folder" in text and "--root rsscn7=DIR" in text
    assert f"expected: {expected_layout('rsscn7')}" in text and "<prefix><Class>" in text
    shutil.rmtree(third / "RSSCN7")


def test_check_of_the_mmrs_recipe_on_the_shared_data(data_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The shared data is a partial root: RSSCN7 and HIT-UAV under other spellings, nothing else of Table I."""
    code = main(["data", "check", "--config", str(MMRS), "--data", str(data_root)])
    out = capsys.readouterr().out
    rows = {ln.split()[0]: ln.split()[1] for ln in out.splitlines()[2:37] if ln.strip()}
    assert code == 1 and {k for k, v in rows.items() if v == "found"} == {"rsscn7", "hit_uav/hbb", "hit_uav/obb"}
    assert "items: train 600, val 150" in out and "33 of 35 configured sources" not in out
    assert "3 of 35 configured sources usable" in out


def test_a_partial_copy_of_the_shared_data_builds_what_is_there(
    data_root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    shutil.copytree(data_root / "rsscn7", data / "rsscn7")  # the recipe says RSSCN7
    copy_hit_uav(data_root, data / "thermal")  # thermal/hit_uav: an archive unzipped into a folder of its own
    config = _mmrs(data, tmp_path / "out", missing="skip")
    config = override_roots(config, parse_roots(["hit_uav/hbb=thermal", "hit_uav/obb=thermal"]))
    with caplog.at_level(logging.INFO, logger="earthgpt.data.corpus.locate"):
        build(config, progress=False)
    assert "sources[13] (rsscn7): found 'RSSCN7' as 'rsscn7' (case or separators differ)" in caplog.text
    assert "sources[28] (hit_uav): using the single folder 'hit_uav' inside 'thermal'" in caplog.text
    m = read_manifest(tmp_path / "out")
    assert set(m["counts"]["records"]["by_source"]) == {"rsscn7", "hit_uav"} and len(m["absent"]) == 32
    assert m["counts"]["records"]["by_source"]["rsscn7"] == 39  # the recipe's 20% sample of the 210 images


def test_root_overrides_name_the_entry(tmp_path: Path) -> None:
    config = load_config(MMRS)
    assert parse_roots(["rsicd=/data/RSICD", "hit_uav/obb = x"]) == {"rsicd": "/data/RSICD", "hit_uav/obb": "x"}
    changed = override_roots(config, {"rsicd": "/data/RSICD", "hit_uav/obb": "thermal"})
    roots = {(s.name, s.tag): s.root for s in changed.sources}
    assert roots[("rsicd", "")] == "/data/RSICD" and roots[("hit_uav", "obb")] == "thermal"
    assert roots[("hit_uav", "hbb")] == "HIT-UAV"
    with pytest.raises(ConfigError, match=r"--root rsicdd=\.\.\.: no source entry is named so"):
        override_roots(config, {"rsicdd": "x"})
    with pytest.raises(ConfigError, match="expected NAME=DIR"):
        parse_roots(["rsicd"])


def test_cli_build_with_skip_missing_and_root(third: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.yaml"
    BuildConfig([SourceSpec("eurosat", "nowhere"), SourceSpec("rsicd", "RSICD")]).save(cfg)
    args = ["data", "build", "--config", str(cfg), "--data", str(third), "--out", str(tmp_path / "o"), "--quiet"]
    assert main(args) == 2 and "--skip-missing" in capsys.readouterr().err
    assert main([*args, "--skip-missing", "--root", "eurosat=EuroSAT"]) == 0
    assert set(read_manifest(tmp_path / "o")["counts"]["records"]["by_source"]) == {"eurosat", "rsicd"}


def test_a_task_says_which_folder_it_expects(tmp_path: Path) -> None:
    tasks = {t.name: t for t in PAPER_TASKS}
    assert expected_folder(tasks["mar20_hbb"], tmp_path) == f"{tmp_path / 'MAR20'} holding {tasks['mar20_hbb'].expects}"
    bare = dataclasses.replace(tasks["clrs"], expects="")
    assert expected_folder(bare, tmp_path) == f"{tmp_path / 'CLRS'} holding {expected_layout('clrs')}"
    assert "CLRS/<class>/<class>_<nnnn>.tif" in expected_layout("clrs")


def test_missing_is_read_from_the_yaml(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("sources: [{name: rsicd, root: RSICD}]\nmissing: skip\n", encoding="utf-8")
    assert load_config(cfg).missing == "skip" and load_config(cfg, skip_missing=True).missing == "skip"
    cfg.write_text("sources: [{name: rsicd, root: RSICD}]\n", encoding="utf-8")
    assert load_config(cfg).missing == "fail" and load_config(cfg, skip_missing=True).missing == "skip"
    cfg.write_text("sources: [{name: rsicd, root: RSICD}]\nmissing: maybe\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="missing must be 'fail' or 'skip'"):
        load_config(cfg)
