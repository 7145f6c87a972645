"""Reading a build back: Table I stats, the rendered conversation, the LLaVA export, the source list."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from earthgpt.data.corpus import BuildConfig, SourceSpec, build, export_llava, iter_records, list_sources, show, stats
from earthgpt.data.corpus.runner import BuildResult
from earthgpt.data.corpus.show import conversation_boxes, find_conversation
from earthgpt.data.imagery import load_image
from earthgpt.data.records import DetectionRecord
from earthgpt.data.sources import all_sources
from earthgpt.geometry import HBB
from tests.data.corpus.helpers import copy_hit_uav
from tests.data.fakes import eurosat


@pytest.fixture(scope="module")
def built(reference: BuildResult, mini: tuple[Path, dict[str, str]]) -> tuple[BuildResult, Path]:
    return reference, mini[0]


def _row(text: str, task: str, source: str) -> list[str]:
    (line,) = [ln for ln in text.splitlines() if ln.split()[:2] == [task, source]]
    return line.split()


def test_stats_is_table_one_of_the_build(built: tuple[BuildResult, Path]) -> None:
    result, _ = built
    text = stats(result.out_dir)
    assert _row(text, "detection_obb", "dota") == ["detection_obb", "dota", "5", "5", "5", "optical"]
    assert _row(text, "referring_obb", "dota") == ["referring_obb", "dota", "5", "5", "10", "optical"]
    assert _row(text, "detection_hbb", "hit_uav") == ["detection_hbb", "hit_uav", "8", "8", "8", "infrared"]
    assert _row(text, "grounding", "dior_rsvg")[2:] == ["1", "1", "1", "optical"]
    assert "50 conversations" in text and "Skip reason" not in text  # nothing was skipped


def test_stats_lists_skips_by_reason_and_source(data_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    hit = copy_hit_uav(data_root, root, n_train=2, n_val=0)
    first = sorted((hit / "normal_xml" / "Annotations").glob("*.xml"))[0]
    first.write_text(first.read_text()[:40])  # truncated xml
    fake = eurosat.write(root / "eurosat")
    config = BuildConfig(
        [SourceSpec("hit_uav", "hit_uav"), SourceSpec("eurosat", fake.relative_to(root).as_posix(), ["all"])],
        data_root=str(root),
        out_dir=str(tmp_path / "out"),
    )
    build(config, progress=False)
    text = stats(tmp_path / "out")
    assert "malformed_annotation" in text
    skip_rows = text.split("Skip reason")[-1]  # below the header of the skips by source
    assert [ln.split() for ln in skip_rows.splitlines() if ln.startswith("hit_uav ")] == [
        ["hit_uav", "malformed_annotation", "1"]
    ]


def test_show_draws_the_boxes_read_back_from_the_answer(built: tuple[BuildResult, Path], tmp_path: Path) -> None:
    result, root = built
    record = next(r for r in iter_records(result.out_dir) if r.id.startswith("hit_uav/hbb/"))
    assert isinstance(record, DetectionRecord)
    cid = f"{record.id}:det_hbb"
    png = show(result.out_dir, cid, tmp_path / "show.png", data_root=root)
    with Image.open(png) as im:
        assert im.width == 512 + 520 and im.height >= 512 * record.image.height // record.image.width
    boxes = conversation_boxes(find_conversation(result.out_dir, cid), record.image.width, record.image.height)
    got = sorted(b.box.as_tuple() for b in boxes)
    want = sorted(o.box.as_tuple() for o in record.objects)
    assert len(got) == len(want) > 0
    side = max(record.image.width, record.image.height)
    assert np.allclose(got, want, atol=0.5e-3 * side + 1e-9)  # 3 decimals of the padded square's side
    assert all(isinstance(b.box, HBB) for b in boxes)


def test_show_by_index_and_unknown_conversation(built: tuple[BuildResult, Path], tmp_path: Path) -> None:
    result, root = built
    assert show(result.out_dir, 0, tmp_path / "first.png", data_root=root).is_file()
    with pytest.raises(KeyError, match="has 50"):
        show(result.out_dir, 50, tmp_path / "x.png", data_root=root)


def test_llava_export_layout_and_tile_crops(built: tuple[BuildResult, Path], tmp_path: Path) -> None:
    result, root = built
    ex = export_llava(result.out_dir, tmp_path / "llava", data_root=root)
    items = json.loads(ex.json_path.read_text())
    assert len(items) == ex.conversations == result.conversations and ex.missing_images == 0
    for item in items:
        assert set(item) == {"id", "image", "conversations"}
        turns = item["conversations"]
        assert [t["from"] for t in turns] == ["human", "gpt"] * (len(turns) // 2)
        assert turns[0]["value"].startswith("<image>\n") and "<image>" not in "".join(t["value"] for t in turns[1:])
        assert (tmp_path / "llava" / item["image"]).is_file()
    by_id = {i["id"]: i for i in items}
    tile_item = by_id["dota/P0706@311_382:det_obb"]
    assert tile_item["image"] == "tiles/dota/train/images/P0706@311_382.png"
    tile_record = next(r for r in iter_records(result.out_dir) if r.id == "dota/P0706@311_382")
    with Image.open(tmp_path / "llava" / tile_item["image"]) as im:
        assert np.array_equal(np.asarray(im), load_image(tile_record.image, root))
    whole = tmp_path / "llava" / by_id["dota/P1888:det_obb"]["image"]
    assert whole.is_symlink() and whole.resolve() == (root / "dota/train/images/P1888.png").resolve()
    assert ex.images_written >= 1 and ex.images_linked >= 1


def test_list_sources_names_modality_tasks_and_splits() -> None:
    listed = list_sources()
    assert [n for n, *_ in listed] == sorted(all_sources())
    assert ("hit_uav", "infrared", ("detection",), ("train", "val", "test")) in listed
    assert ("aid", "optical", ("scene",), ("train", "test", "all")) in listed
