"""BuildConfig: YAML round trip, the shipped configs, and errors that name the field to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from earthgpt.data.corpus import BuildConfig, ConfigError, SourceSpec, TilingOptions, build, load_config
from earthgpt.data.instructions.convert import InstructionOptions
from earthgpt.data.sources import all_sources
from tests.conftest import REPO_ROOT

CONFIGS = REPO_ROOT / "configs" / "data"


def test_yaml_round_trip(tmp_path: Path) -> None:
    config = BuildConfig(
        sources=[SourceSpec("hit_uav", "hit_uav", ["train", "val"], {"kind": "obb"}, tag="obb")],
        data_root="data",
        seed=7,
        paraphrase=True,
        instructions=InstructionOptions(decimals=2, referring=False),
        tiling=TilingOptions(size=512, overlap=64, scales=[1.0, 0.5], min_visible=0.5, obb_clip="min_area_rect"),
        shard_size=3,
        workers=2,
    )
    config.save(tmp_path / "c.yaml")
    assert BuildConfig.load(tmp_path / "c.yaml") == config
    assert config.instruction_options().paraphrase_seed == 7


def test_demo_config_lists_the_demo_sources_relative_to_the_data_root() -> None:
    config = BuildConfig.load(CONFIGS / "demo.yaml")
    assert [(s.name, s.root, s.options.get("kind")) for s in config.sources] == [
        ("aid", "aid_150px/AID", None),
        ("rsscn7", "rsscn7", None),
        ("hit_uav", "hit_uav", "hbb"),
        ("hit_uav", "hit_uav", "obb"),
    ]
    assert config.data_root == "../shared/data"


def test_mmrs_config_has_the_34_table_i_datasets() -> None:
    config = BuildConfig.load(CONFIGS / "mmrs.yaml")
    names = {s.name for s in config.sources}
    assert len(names) == 34
    known = set(all_sources())
    for spec in config.sources:
        if spec.name in known:  # every source that exists accepts the configured splits and options
            cls = all_sources()[spec.name]
            assert set(spec.splits) <= set(cls.splits), spec.name


def test_overrides_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARTHGPT_DATA", "/from/env")
    assert load_config(CONFIGS / "demo.yaml").data_root == "/from/env"
    config = load_config(CONFIGS / "demo.yaml", data_root=tmp_path, out_dir=tmp_path / "o", workers=2)
    assert (config.data_root, config.out_dir, config.workers) == (str(tmp_path), str(tmp_path / "o"), 2)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("sources: [{name: aid, root: AID}]\nshards: 3\n", "unknown field(s) ['shards']"),
        ("sources: [{name: aid}]\n", "sources[0]: missing field `root`"),
        ("sources: [{name: aid, root: a, split: [train]}]\n", "sources[0]: unknown field(s) ['split']"),
        ("sources: [{name: aid, root: a}]\ntiling: {overlap: 900}\n", "tiling.overlap"),
        ("sources: [{name: aid, root: a}]\ninstructions: {decimal: 2}\n", "instructions: unknown field(s)"),
        ("sources: [{name: aid, root: a}]\ninstructions: {max_objects: 0}\n", "instructions.max_objects"),
        ("sources: [{name: h, root: a}, {name: h, root: b}]\n", "different `tag`s"),
        ("data_root: x\n", "missing field `sources`"),
    ],
)
def test_bad_yaml_names_the_field(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as err:
        BuildConfig.load(path)
    assert message in str(err.value)


def test_missing_data_directory_names_the_option(tmp_path: Path) -> None:
    config = BuildConfig([SourceSpec("aid", "AID")], data_root=str(tmp_path / "nowhere"), out_dir=str(tmp_path))
    with pytest.raises(ConfigError) as err:
        build(config, progress=False)
    assert "data_root" in str(err.value) and "--data" in str(err.value) and "EARTHGPT_DATA" in str(err.value)


def test_missing_source_folder_names_the_entry(tmp_path: Path) -> None:
    config = BuildConfig([SourceSpec("aid", "AID")], data_root=str(tmp_path), out_dir=str(tmp_path / "o"))
    with pytest.raises(ConfigError) as err:
        build(config, progress=False)
    assert "sources[0] (aid).root" in str(err.value) and "does not exist" in str(err.value)


def test_source_folder_in_the_wrong_layout_names_the_entry(tmp_path: Path) -> None:
    (tmp_path / "rsscn7").mkdir()
    config = BuildConfig([SourceSpec("rsscn7", "rsscn7")], data_root=str(tmp_path), out_dir=str(tmp_path / "o"))
    with pytest.raises(ConfigError) as err:
        build(config, progress=False)
    assert "sources[0] (rsscn7).root" in str(err.value) and "no class folder" in str(err.value)


def test_unknown_source_lists_the_known_ones(tmp_path: Path) -> None:
    config = BuildConfig([SourceSpec("no_such_set", "x")], data_root=str(tmp_path), out_dir=str(tmp_path / "o"))
    with pytest.raises(ConfigError) as err:
        build(config, progress=False)
    assert "sources[0] (no_such_set).name" in str(err.value)
    assert "hit_uav" in str(err.value) and "aid" in str(err.value)
