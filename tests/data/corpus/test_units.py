"""Skips the builder itself names: an exception in a source or a conversion, an object larger than every tile;
and each image probed once although two entries read it."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import earthgpt.data.corpus.units as units
import earthgpt.data.sources._shared as shared
from earthgpt.data.conversation import Conversation
from earthgpt.data.corpus import BuildConfig, SourceSpec, build, read_manifest
from earthgpt.data.corpus.config import TilingOptions
from earthgpt.data.instructions.convert import InstructionOptions
from earthgpt.data.records import Record
from earthgpt.data.sources import Skip, get_source
from tests.data.corpus.helpers import copy_hit_uav
from tests.data.fakes import eurosat


def _build(root: Path, out: Path, specs: list[SourceSpec], **changes: Any) -> dict[str, Any]:
    build(BuildConfig(specs, data_root=str(root), out_dir=str(out), **changes), progress=False)
    return read_manifest(out)


def test_an_exception_in_a_source_or_a_conversion_is_a_source_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = eurosat.write(tmp_path / "data")
    spec = SourceSpec("eurosat", fake.relative_to(tmp_path / "data").as_posix(), ["all"])
    cls = get_source("eurosat")
    real_load = cls.load

    def load(self: Any, item: str) -> Iterator[Record | Skip]:
        if "AnnualCrop" in item:
            raise RuntimeError("a bug in the reader")
        return real_load(self, item)

    monkeypatch.setattr(cls, "load", load)
    real_convert = units.conversations_and_skips

    def convert(record: Record, opts: InstructionOptions) -> tuple[list[Conversation], list[tuple[str, str]]]:
        if "SeaLake" in record.id:
            raise ZeroDivisionError("odd record")
        return real_convert(record, opts)

    monkeypatch.setattr(units, "conversations_and_skips", convert)
    m = _build(tmp_path / "data", tmp_path / "out", [spec])
    assert [(s["reason"], s["item"].split("/")[1]) for s in m["skips"]] == [
        ("source_error", "AnnualCrop"),
        ("source_error", "SeaLake"),
    ]
    load_skip, convert_skip = m["skips"]
    assert load_skip["detail"] == "RuntimeError in eurosat.load: a bug in the reader"
    assert convert_skip["detail"].startswith("ZeroDivisionError converting record eurosat/SeaLake")
    assert m["records"] == 1 and m["skips_by_reason"] == {"source_error": 2}


def _dota_scene(root: Path) -> Path:
    """A 1000 x 300 DOTA scene with a plane 960 px long (in no 400 px tile) and a small ship."""
    out = root / "dota"
    (out / "train" / "images").mkdir(parents=True)
    (out / "train" / "labelTxt").mkdir(parents=True)
    Image.fromarray(np.zeros((300, 1000, 3), np.uint8)).save(out / "train" / "images" / "P0001.png")
    lines = ["20 50 980 50 980 250 20 250 plane 0", "100 100 140 100 140 120 100 120 ship 0"]
    (out / "train" / "labelTxt" / "P0001.txt").write_text("\n".join(lines) + "\n")
    return out


def test_an_object_in_no_tile_is_a_skip_and_still_counted(tmp_path: Path) -> None:
    _dota_scene(tmp_path / "data")
    tiling = TilingOptions(size=400, overlap=100)
    m = _build(
        tmp_path / "data", tmp_path / "out", [SourceSpec("dota", "dota", options={"kind": "obb"})], tiling=tiling
    )
    lost = [s for s in m["skips"] if s["reason"] == "object_larger_than_tile"]
    assert len(lost) == m["tiling"]["objects_in_no_tile"] == 1
    assert lost[0]["item"] == "P0001" and "plane of 960x200 source px" in lost[0]["detail"]
    assert m["records"] == 1  # the tile holding the ship; the other tiles are tile_without_objects skips


def test_two_entries_over_the_same_images_probe_each_once(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "data"
    hit = copy_hit_uav(data_root, root, n_train=3, n_val=1)
    calls: Counter[str] = Counter()
    real = shared.probe
    monkeypatch.setattr(shared, "probe", lambda path, decode=True: calls.update([os.fspath(path)]) or real(path))
    shared.clear_probe_cache()
    specs = [
        SourceSpec("hit_uav", "hit_uav", ["train", "val"], {"kind": "hbb"}, tag="hbb"),
        SourceSpec("hit_uav", "hit_uav", ["train", "val"], {"kind": "obb"}, tag="obb"),
    ]
    m = _build(root, tmp_path / "out", specs)
    shared.clear_probe_cache()
    images = sorted(os.fspath(p) for p in (hit / "normal_xml" / "JPEGImages").glob("*.jpg"))
    assert m["counts"]["records"]["by_source"] == {"hit_uav": 2 * len(images)} and len(images) == 4
    assert sorted(calls) == images and set(calls.values()) == {1}
