"""Helpers shared by the sources: each image is probed once per process, images found by name, hash splits."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

import earthgpt.data.sources._shared as shared
from earthgpt.data.imagery import MAX_PIXELS_ENV, RasterInfo
from earthgpt.data.records import DetectionRecord, Record, SceneRecord
from earthgpt.data.sources import Skip, Source, get_source
from earthgpt.data.sources._shared import ImageFinder, hash_split, probe_ref
from tests.data.corpus.helpers import copy_hit_uav


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts of the real ``imagery.probe`` calls per path, from an empty probe cache."""
    calls: Counter[str] = Counter()
    real = shared.probe

    def counting(path: str | Path, decode: bool = True) -> RasterInfo:
        calls[os.fspath(path)] += 1
        return real(path, decode)

    monkeypatch.setattr(shared, "probe", counting)
    shared.clear_probe_cache()
    yield calls
    shared.clear_probe_cache()


def test_hbb_and_obb_sources_probe_each_image_once(data_root: Path, tmp_path: Path, probes: Counter[str]) -> None:
    root = copy_hit_uav(data_root, tmp_path, n_train=3, n_val=0)
    images = sorted((root / "normal_xml" / "JPEGImages").glob("*.jpg"))
    hbb = [r for r in get_source("hit_uav")(root, "train", kind="hbb") if isinstance(r, DetectionRecord)]
    obb = [r for r in get_source("hit_uav")(root, "train", kind="obb") if isinstance(r, DetectionRecord)]
    assert len(hbb) == len(obb) == len(images) == 3
    assert [r.image for r in hbb] == [r.image for r in obb]  # the same ImageRef, read once
    assert probes == {str(p): 1 for p in images}
    # a file that changes is probed again: here truncated, so both sources report it unreadable
    images[0].write_bytes(images[0].read_bytes()[:2000])
    for kind in ("hbb", "obb"):
        (skip,) = get_source("hit_uav")(root, "train", kind=kind).load(images[0].stem)
        assert isinstance(skip, Skip) and skip.reason == "unreadable_image" and images[0].name in skip.detail
    assert probes[str(images[0])] == 2


def test_image_finder_prefers_the_expected_path_then_the_first_by_name(tmp_path: Path) -> None:
    for rel in ("b/x.jpg", "a/x.jpg", "a/y.png", "a/notes.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    finder = ImageFinder(tmp_path)
    assert finder.find("x.jpg", "b/x.jpg") == "b/x.jpg"
    assert finder.find("x.jpg") == "a/x.jpg"  # first in sorted order
    assert finder.find("x.jpg", "c/x.jpg") == "a/x.jpg"  # the expected path does not exist
    assert finder.find("notes.txt") is None and finder.find("z.jpg") is None
    (tmp_path / "a" / "late.jpg").write_bytes(b"")
    assert finder.find("late.jpg") is None  # the folder was walked once, at the first look-up by name


def test_hash_split_is_stable_and_near_its_fraction() -> None:
    keys = [f"img_{i:05d}" for i in range(4000)]
    test = [k for k in keys if hash_split(k) == "test"]
    assert 0.18 < len(test) / len(keys) < 0.22  # default fraction 0.2
    assert [hash_split(k, 0.2) for k in keys[:50]] == [hash_split(k) for k in keys[:50]]
    assert all(hash_split(k, 0.0) == "train" for k in keys[:50]) and all(hash_split(k, 1.0) == "test" for k in keys)
    # the rule, written out: the first 16 hex digits of the SHA-1 as a fraction of 16**16 (no salted hash())
    assert test == [k for k in keys if int(hashlib.sha1(k.encode()).hexdigest()[:16], 16) / 16**16 < 0.2]


class _Folder(Source):
    """The smallest source: every file of its root is an item."""

    name = "folder_fixture"

    def items(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir())

    def load(self, item: str) -> Iterator[Record | Skip]:
        ref = probe_ref(self, item)
        yield ref if isinstance(ref, Skip) else SceneRecord(item, self.name, self.split, ref, label="x")


def test_unreadable_and_over_budget_images_are_told_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.new("L", (2000, 1000), 3).save(tmp_path / "big.png")
    Image.effect_noise((64, 64), 40).save(tmp_path / "small.png")
    whole = (tmp_path / "small.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(whole[: len(whole) * 2 // 3])  # an interrupted copy
    monkeypatch.setenv(MAX_PIXELS_ENV, "1000000")
    shared.clear_probe_cache()
    out = {r.item if isinstance(r, Skip) else r.id: r for r in _Folder(tmp_path)}
    shared.clear_probe_cache()
    assert isinstance(out["small.png"], SceneRecord)
    big, cut = out["big.png"], out["cut.png"]
    assert isinstance(big, Skip) and big.reason == "image_over_pixel_budget" and MAX_PIXELS_ENV in big.detail
    assert isinstance(cut, Skip) and cut.reason == "unreadable_image" and "cut.png" in cut.detail
