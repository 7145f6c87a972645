"""AID source: the real 150 px copy (counts, labels, split) and bad input on a tiny copy of its layout."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from earthgpt.data.records import SceneRecord
from earthgpt.data.sources import DataRootError, Skip, get_source
from earthgpt.data.sources._folder_classes import camel_to_words
from earthgpt.data.sources._shared import hash_split


@pytest.fixture(scope="module")
def aid_root(data_root: Path) -> Path:
    return data_root / "aid_150px"


def test_real_aid_counts_and_labels(aid_root: Path) -> None:
    src = get_source("aid")(aid_root, split="all")
    records = list(src)
    assert all(isinstance(r, SceneRecord) for r in records)
    assert len(records) == 1500
    assert len(src.categories) == 30
    per_class = Counter(r.label for r in records)  # type: ignore[union-attr]
    assert len(per_class) == 30 and set(per_class.values()) == {50}
    by_path = {r.image.path: r for r in records}
    dense = by_path["AID/DenseResidential/denseresidential_1.jpg"]
    assert dense.label == "dense residential"
    assert (dense.image.width, dense.image.height, dense.image.bands) == (150, 150, 3)
    assert by_path["AID/StorageTanks/storagetanks_7.jpg"].label == "storage tanks"
    assert "railway station" in src.categories and "baseball field" in src.categories


def test_real_aid_split_is_deterministic_and_disjoint(aid_root: Path) -> None:
    cls = get_source("aid")
    train = {r.image.path for r in cls(aid_root, split="train")}
    test = {r.image.path for r in cls(aid_root, split="test")}
    assert not train & test and len(train) + len(test) == 1500
    assert 0.15 < len(test) / 1500 < 0.25
    # the AID folder itself as root gives the same split (the key is <class>/<file>, not the root-relative path)
    test_inner = {"AID/" + r.image.path for r in cls(aid_root / "AID", split="test")}
    assert test_inner == test
    everything = {r.image.path for r in cls(aid_root, split="all", test_fraction=1.0) if r.split == "test"}
    assert len(everything) == 1500


def test_camel_case_folder_names() -> None:
    assert camel_to_words("DenseResidential") == "dense residential"
    assert camel_to_words("railwayStation") == "railway station"
    assert camel_to_words("sea_ice") == "sea ice"
    assert camel_to_words("golf-course") == "golf course"


def test_hash_split_fraction_and_stability() -> None:
    keys = [f"Class/img_{i}.jpg" for i in range(2000)]
    test = [k for k in keys if hash_split(k, 0.2) == "test"]
    assert 340 < len(test) < 460
    assert hash_split("Airport/airport_1.jpg", 0.2) == hash_split("Airport/airport_1.jpg", 0.2)
    assert all(hash_split(k, 0.0) == "train" for k in keys[:50])


def test_corrupt_and_unknown_folder_are_skipped(aid_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "AID"
    for folder, name in [("Airport", "airport_1.jpg"), ("Beach", "beach_1.jpg")]:
        (root / folder).mkdir(parents=True)
        shutil.copy(aid_root / "AID" / folder / name, root / folder / name)
    (root / "Beach" / "beach_2.jpg").write_bytes(b"this is not a jpeg at all")
    (root / "Volcano").mkdir()
    shutil.copy(aid_root / "AID" / "Airport" / "airport_1.jpg", root / "Volcano" / "volcano_1.jpg")
    out = list(get_source("aid")(tmp_path, split="all"))
    skips = {s.item: s.reason for s in out if isinstance(s, Skip)}
    assert skips == {"AID/Beach/beach_2.jpg": "unreadable_image", "AID/Volcano/volcano_1.jpg": "unknown_class"}
    labels = sorted(r.label for r in out if isinstance(r, SceneRecord))
    assert labels == ["airport", "beach"]


def test_bad_root_and_options(tmp_path: Path) -> None:
    cls = get_source("aid")
    with pytest.raises(DataRootError, match="class folder"):
        cls(tmp_path)
    (tmp_path / "Airport").mkdir()
    with pytest.raises(ValueError, match="test_fraction"):
        cls(tmp_path, test_fraction=1.5)
    with pytest.raises(ValueError, match="unknown split"):
        cls(tmp_path, split="val")
