"""The build on a small real data root: consistent output, same bytes with 1 or 2 workers, resume after a crash."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from earthgpt.data.conversation import Conversation
from earthgpt.data.corpus import BuildConfig, BuildConflictError, SourceSpec, build, iter_records, read_manifest
from earthgpt.data.corpus.runner import BuildResult
from earthgpt.data.imagery import load_image, read_raster, to_rgb8
from earthgpt.data.records import DetectionRecord
from earthgpt.data.sources import SKIP_REASONS
from tests.data.corpus.helpers import mini_config


class Interrupt(Exception):
    """Raised by the test hook to stop a build mid-way."""


def snapshot(out_dir: Path) -> dict[str, bytes]:
    """Every file of a build folder (state files included) by relative path."""
    return {p.relative_to(out_dir).as_posix(): p.read_bytes() for p in sorted(out_dir.rglob("*")) if p.is_file()}


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_reference_build_is_consistent(reference: BuildResult, mini: tuple[Path, dict[str, str]]) -> None:
    out, (root, _) = reference.out_dir, mini
    m = read_manifest(out)
    convs = [c for s in m["shards"] for c in _lines(out / s["files"]["conversations"])]
    records = [r for s in m["shards"] for r in _lines(out / s["files"]["records"])]
    assert len(m["shards"]) == reference.shards > 1  # shard_size 7 splits this build
    assert (len(convs), len(records)) == (m["conversations"], m["records"]) == (50, 29)
    for s in m["shards"]:
        for kind in ("conversations", "records"):
            data = (out / s["files"][kind]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == s["sha256"][kind]
            assert data.count(b"\n") == s["lines"][kind]
    record_keys = {(r["id"], r["task"]) for r in records}
    assert len(record_keys) == len(records)  # unique across sources, tags and tiles (DIOR-RSVG: one id, two tasks)
    assert {c["record_id"] for c in convs} <= {r["id"] for r in records}
    for c in convs:
        assert {"id", "record_id", "source", "task", "modality", "split"} <= set(c)
        assert Conversation.from_dict(c).image is not None
    assert all((root / r["image"]["path"]).is_file() for r in records)  # paths are relative to the data root
    assert m["units"]["converted"] + m["units"]["skipped"] == m["units"]["total"] == reference.units
    assert set(m["skips_by_reason"]) <= set(SKIP_REASONS)
    lost = m["skips_by_reason"].get("object_larger_than_tile", 0)
    assert lost == m["tiling"].get("objects_in_no_tile", 0)  # one skip per object in no tile
    assert m["counts"]["conversations"]["by_source"] == {
        "dior_rsvg": 2, "dota": 10, "eurosat": 3, "hit_uav": 32, "ucm_captions": 3,
    }  # fmt: skip
    assert m["counts"]["records"]["by_modality"] == {"infrared": 16, "optical": 13}
    assert {r["id"] for r in records if r["source"] == "hit_uav"} >= {
        f"hit_uav/{tag}/{r['item']}" for r in records if r["source"] == "hit_uav" for tag in ("hbb", "obb")
    }


def test_dota_tiles_refer_to_windows_of_the_untouched_image(
    reference: BuildResult, mini: tuple[Path, dict[str, str]]
) -> None:
    root, _ = mini
    dota = [r for r in iter_records(reference.out_dir) if r.source == "dota"]
    assert all(isinstance(r, DetectionRecord) for r in dota)
    tiled = {r.id: r for r in dota if r.image.tile is not None}
    # P0706 is 1111 x 1182: x starts (0, 311), y starts (0, 382); P1888 (712 x 557) stays whole
    assert sorted(tiled) == [f"dota/P0706@{x}_{y}" for x, y in ((0, 0), (0, 382), (311, 0), (311, 382))]
    assert [r.id for r in dota if r.image.tile is None] == ["dota/P1888"]
    tile = tiled["dota/P0706@311_382"]
    assert tile.image.path == "dota/train/images/P0706.png" and (tile.image.width, tile.image.height) == (800, 800)
    for obj in tile.objects:
        xs, ys = obj.box.as_tuple()[0::2], obj.box.as_tuple()[1::2]
        assert min(xs) >= -1e-9 and min(ys) >= -1e-9 and max(xs) <= 800 + 1e-9 and max(ys) <= 800 + 1e-9
    pixels = load_image(tile.image, root)
    whole = to_rgb8(read_raster(root / tile.image.path))
    assert np.array_equal(pixels, whole[382:1182, 311:1111])


def test_two_workers_write_the_same_bytes(
    reference: BuildResult, mini: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, roots = mini
    result = build(mini_config(root, tmp_path / "out", roots, workers=2), progress=False)
    assert result.sha256 == reference.sha256
    assert snapshot(tmp_path / "out") == snapshot(reference.out_dir)


@pytest.mark.parametrize("stop_after", [1, 9, 20])
def test_resume_after_an_exception_gives_the_uninterrupted_bytes(
    reference: BuildResult, mini: tuple[Path, dict[str, str]], tmp_path: Path, stop_after: int
) -> None:
    root, roots = mini
    config = mini_config(root, tmp_path / "out", roots)

    def hook(n: int) -> None:
        if n == stop_after:
            raise Interrupt

    with pytest.raises(Interrupt):
        build(config, progress=False, on_unit=hook)
    assert not (tmp_path / "out" / "manifest.json").exists()
    result = build(config, progress=False)
    assert 0 <= result.resumed_at <= stop_after
    assert snapshot(tmp_path / "out") == snapshot(reference.out_dir)


_KILL = """
import os, signal, sys
from earthgpt.data.corpus import BuildConfig, build
def hook(n):
    if n == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)
build(BuildConfig.load(sys.argv[1]), progress=False, on_unit=hook)
"""


def test_resume_after_sigkill_gives_the_uninterrupted_bytes(
    reference: BuildResult, mini: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, roots = mini
    config = mini_config(root, tmp_path / "out", roots)
    config.save(tmp_path / "config.yaml")
    proc = subprocess.run([sys.executable, "-c", _KILL, str(tmp_path / "config.yaml"), "17"], check=False)
    assert proc.returncode == -9
    left = {p.name for p in (tmp_path / "out").iterdir()}
    assert "manifest.json" not in left and any(n.endswith(".tmp") for n in left)  # killed mid-shard
    result = build(config, progress=False)
    assert result.resumed_at > 0
    assert snapshot(tmp_path / "out") == snapshot(reference.out_dir)


def test_a_damaged_shard_and_everything_after_it_are_rebuilt(reference: BuildResult, tmp_path: Path) -> None:
    shutil.copytree(reference.out_dir, tmp_path / "out")
    out = tmp_path / "out"
    shard = out / "records-00002.jsonl"
    shard.write_bytes(shard.read_bytes()[:-10])  # a torn write in a committed shard
    (out / "manifest.json").unlink()
    (out / "conversations-00009.jsonl").write_text("{}\n")  # a stray file from another run
    config = BuildConfig.from_dict(read_manifest(reference.out_dir)["config"] | {"out_dir": str(out)})
    result = build(config, progress=False)
    assert result.resumed_at == read_manifest(reference.out_dir)["shards"][2]["units"][0]
    assert snapshot(out) == snapshot(reference.out_dir)


def test_rerunning_a_finished_build_changes_nothing(reference: BuildResult, tmp_path: Path) -> None:
    shutil.copytree(reference.out_dir, tmp_path / "out")
    before = snapshot(tmp_path / "out")
    config = BuildConfig.from_dict(read_manifest(tmp_path / "out")["config"] | {"out_dir": str(tmp_path / "out")})
    result = build(config, progress=False)
    assert result.resumed_at == result.units
    assert snapshot(tmp_path / "out") == before


def test_another_config_in_the_same_folder_needs_overwrite(
    mini: tuple[Path, dict[str, str]], reference: BuildResult, tmp_path: Path
) -> None:
    root, roots = mini
    shutil.copytree(reference.out_dir, tmp_path / "out")
    other = mini_config(root, tmp_path / "out", roots, shard_size=1000)
    with pytest.raises(BuildConflictError, match="overwrite"):
        build(other, progress=False)
    result = build(other, progress=False, overwrite=True)
    assert result.shards == 1 and result.conversations == reference.conversations
    assert not (tmp_path / "out" / "conversations-00001.jsonl").exists()


def test_the_seed_drives_paraphrases_only(mini: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    root, roots = mini
    full = mini_config(root, tmp_path / "a", roots, paraphrase=True, seed=1)
    base = dataclasses.replace(full, sources=full.sources[:3])  # captions and HBB detection have paraphrases
    a = build(base, progress=False)
    b = build(dataclasses.replace(base, out_dir=str(tmp_path / "b")), progress=False)
    c = build(dataclasses.replace(base, out_dir=str(tmp_path / "c"), seed=2), progress=False)
    assert a.sha256 == b.sha256 != c.sha256
    assert (a.records, a.conversations) == (c.records, c.conversations)


def test_sixteen_bit_scenes_are_tiled_without_conversion(data_root: Path, tmp_path: Path) -> None:
    config = BuildConfig([SourceSpec("sen2ships", "sen2ships")], data_root=str(data_root), out_dir=str(tmp_path / "o"))
    build(config, progress=False)
    busan = {r.id: r for r in iter_records(tmp_path / "o") if r.id.startswith("sen2ships/busan")}
    # busan_rgb.tiff is a 1042 x 699 3-band uint16 scene: two 800 px wide tiles, at x = 0 and x = 1042 - 800
    assert sorted(busan) == ["sen2ships/busan_rgb.tiff@0_0", "sen2ships/busan_rgb.tiff@242_0"]
    tile = busan["sen2ships/busan_rgb.tiff@242_0"].image
    assert (tile.dtype, tile.bands, tile.width, tile.height) == ("uint16", 3, 800, 699)
    assert tile.path == "sen2ships/sen2ships/busan/busan_rgb.tiff" and tile.tile is not None
    assert load_image(tile, data_root).shape == (699, 800, 3)  # stretched to 8-bit only when read for the model
    details = " ".join(s["detail"] for s in read_manifest(tmp_path / "o")["skips"])
    assert str(data_root) not in details  # skip details name files relative to the data root


def test_manifest_records_the_resolved_data_root(
    mini: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative data root is resolved once at build time, so readers work from any folder."""
    root, roots = mini
    monkeypatch.chdir(root.parent)
    config = mini_config(Path(root.name), tmp_path / "out", roots)
    config = dataclasses.replace(config, sources=config.sources[:1])
    build(config, progress=False)
    recorded = read_manifest(tmp_path / "out")["config"]["data_root"]
    assert Path(recorded).is_absolute() and Path(recorded) == root.resolve()
