"""WHU-RS19 source on a fake with the release's mixed-case folder names."""

from __future__ import annotations

from pathlib import Path

from earthgpt.data.records import SceneRecord
from earthgpt.data.sources import get_source
from tests.data.fakes import whu_rs19 as fake


def test_fake_whu_rs19_folder_spellings(tmp_path: Path) -> None:
    root = fake.write(tmp_path)
    (root / "RSDataset" / "FootBall_Field").mkdir()  # another spelling of a known class matches it
    (root / "RSDataset" / "railwayStation" / "notes.txt").write_text("not an image")
    src = get_source("whu_rs19")(root, split="all")
    assert len(src.categories) == 19
    labels = {r.image.path: r.label for r in src if isinstance(r, SceneRecord)}
    assert labels == {
        "RSDataset/Airport/airport_01.jpg": "airport",
        "RSDataset/footballField/footballField_01.jpg": "football field",
        "RSDataset/railwayStation/railwayStation_02.jpg": "railway station",
    }
    assert src.label_of("FootBall_Field") == "football field"
