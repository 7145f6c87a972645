"""Task specs: the registry mirrors the paper's tables, samples carry the training answers, absent data is named."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest

from earthgpt.data.instructions import templates as T
from earthgpt.data.instructions.convert import to_conversations
from earthgpt.data.sources import get_source
from earthgpt.evaluation.tasks import (
    PAPER_TASKS,
    SAMPLE_TASKS,
    TASKS,
    TaskDataError,
    get_task,
    load_task,
    resolve,
)
from earthgpt.evaluation.tasks.load import spread
from earthgpt.evaluation.tasks.samples import samples_from_record
from tests.data.fakes import rsvqa_hr


def test_paper_tables_are_all_there_with_the_papers_numbers() -> None:
    tables = {t.table: [] for t in PAPER_TASKS}
    for t in PAPER_TASKS:
        tables[t.table].append(t.name)
    assert tables == {
        "Tab. II": ["nwpu_resisc45"],
        "Tab. III": ["clrs", "nasc_tg2"],
        "Tab. IV": ["nwpu_captions"],
        "Tab. V": ["crsvqa"],
        "Tab. VI": ["rsvqa_hr_test2"],
        "Tab. VII": ["dior_rsvg"],
        "Tab. VIII": ["mar20_hbb"],
        "Tab. IX": ["mar20_obb"],
    }
    assert get_task("nwpu_resisc45").options == {"test_fraction": 0.8}  # "80% of the dataset is the test set"
    assert get_task("clrs").split == get_task("nasc_tg2").split == "all"  # zero-shot on every image
    hr = get_task("rsvqa_hr_test2")
    assert (hr.split, "count" in hr.exclude_qtypes, hr.setting) == ("test_phili", True, "zero-shot")
    assert get_task("mar20_obb").box_kind == "obb" and get_task("mar20_obb").options == {"kind": "obb"}
    assert get_task("mar20_hbb").paper == {"AP@40": 90.47, "AP@50": 90.11}
    assert get_task("dior_rsvg").paper["cIoU"] == 81.54
    assert get_task("nwpu_captions").paper["CIDEr"] == 192.6


def test_every_task_names_a_registered_source_with_its_split() -> None:
    for spec in TASKS.values():
        cls = get_source(spec.source)
        assert spec.split in cls.splits, spec.name


def test_resolve_groups_lists_and_errors() -> None:
    assert [t.name for t in resolve("paper")] == [t.name for t in PAPER_TASKS]
    assert [t.name for t in resolve("aid, rsscn7,aid")] == ["aid", "rsscn7"]
    assert len(resolve(["samples"])) == len(SAMPLE_TASKS)
    with pytest.raises(KeyError, match=r"known tasks: .*aid"):
        get_task("no_such_task")


def test_spread_is_even_and_deterministic() -> None:
    assert spread(10, 3) == [0, 3, 6]
    assert spread(4, None) == [0, 1, 2, 3]
    assert spread(4, 10) == [0, 1, 2, 3]
    assert spread(5, 0) == []


def test_absent_data_names_the_directory_and_the_source(tmp_path: Path) -> None:
    with pytest.raises(TaskDataError) as err:
        load_task(get_task("mar20_hbb"), tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "MAR20") in msg and "'mar20'" in msg and "Oriented Bounding Boxes" in msg


def test_a_data_dir_the_source_cannot_read_is_named(tmp_path: Path) -> None:
    (tmp_path / "hit_uav").mkdir()
    with pytest.raises(TaskDataError, match=r"hit_uav.*normal_xml"):
        load_task(get_task("hit_uav_hbb"), tmp_path)


def test_an_unregistered_source_is_named(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    spec = dataclasses.replace(get_task("aid"), name="mystery", source="no_such_source", data_dir="x")
    with pytest.raises(TaskDataError, match="needs the dataset source 'no_such_source'"):
        load_task(spec, tmp_path)


def test_scene_samples_use_the_papers_prompt_and_spread_over_classes(data_root: Path) -> None:
    data = load_task(get_task("rsscn7"), data_root, limit=7)
    assert len(data.samples) == 7
    assert len({s.group for s in data.samples}) >= 5  # spread, not the first class only
    s = data.samples[0]
    assert s.prompt == T.classify_prompt(s.categories)
    assert s.answer == s.group and s.image.path.endswith(".jpg")


def test_detection_sample_answer_is_the_training_answer(data_root: Path) -> None:
    spec = get_task("hit_uav_obb")
    source = get_source("hit_uav")(data_root / "hit_uav", "val", kind="obb")
    record = next(r for r in source.load(source.items()[0]) if not hasattr(r, "reason"))
    (sample,) = samples_from_record(spec, record, Counter())
    (conv,) = [c for c in to_conversations(record) if c.task == "detection_obb"]
    assert sample.prompt == T.DETECT_OBB == conv.messages[0].text
    assert sample.answer == conv.messages[1].text
    assert sample.objects == record.objects


def test_hbb_task_over_oriented_records_uses_enclosing_boxes(data_root: Path) -> None:
    spec = dataclasses.replace(get_task("hit_uav_hbb"), options={"kind": "obb"})
    data = load_task(spec, data_root, limit=2)
    s = data.samples[0]
    assert s.prompt == T.DETECT_HBB
    assert all(type(o.box).__name__ == "HBB" for o in s.objects)


def test_vqa_samples_one_per_question_and_exclusions_counted(data_root: Path) -> None:
    spec = dataclasses.replace(get_task("rsvqa_hr_sample"), exclude_qtypes=("count", "area"))
    data = load_task(spec, data_root, limit=2)
    assert data.excluded["count"] > 0 and data.excluded["area"] > 0
    assert {s.group for s in data.samples} <= {"presence", "comparison"}
    assert all(s.prompt.endswith(T.SINGLE_WORD) for s in data.samples)
    full = load_task(get_task("rsvqa_hr_sample"), data_root)
    assert len(full.samples) == 5001  # every question of the 50 images, ids unique
    assert len({s.id for s in full.samples}) == 5001


def test_large_scenes_are_tiled_like_the_training_data(data_root: Path) -> None:
    data = load_task(get_task("sen2ships"), data_root)
    tiled = [s for s in data.samples if s.image.tile is not None]
    assert tiled and all("@" in s.id for s in tiled)
    assert all(max(s.image.tile.source_width, s.image.tile.source_height) > 800 for s in tiled)  # type: ignore[union-attr]
    assert all(s.image.width <= 800 and s.image.height <= 800 for s in data.samples)
    assert data.skips["missing_image"] == 11  # ports staged without an RGB raster


def test_grounding_sample_is_the_expression_and_its_box(data_root: Path) -> None:
    (s,) = load_task(get_task("dior_rsvg_sample"), data_root).samples
    assert s.prompt == T.GROUND.format(expression="A green and brown golf field")
    assert s.box is not None and s.box.as_tuple() == (133.0, 237.0, 684.0, 672.0)
    assert s.answer == "[0.166,0.296,0.855,0.840]"


def test_every_paper_task_loads_from_its_fake(fake_root: Path, fake_paper_tasks: list) -> None:
    for spec in fake_paper_tasks:
        data = load_task(spec, fake_root)
        assert data.samples, spec.name


def test_rsvqa_test2_with_only_count_and_area_questions_says_why_it_is_empty(tmp_path: Path) -> None:
    folder = rsvqa_hr.write(tmp_path / "written")
    questions_file = folder / "USGS_split_test_phili_questions.json"
    questions = json.loads(questions_file.read_text())
    questions["questions"] = [q for q in questions["questions"] if q["type"] in ("count", "area")]
    questions_file.write_text(json.dumps(questions))
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "RSVQA-HR").symlink_to(folder)
    with pytest.raises(TaskDataError, match=r"questions excluded by type: .*count"):
        load_task(get_task("rsvqa_hr_test2"), tmp_path / "root")


def test_a_limit_reads_further_items_when_the_spread_ones_are_unusable(data_root: Path) -> None:
    data = load_task(get_task("sen2ships"), data_root, limit=2)  # most ports ship no RGB raster
    assert len(data.samples) == 2 and data.skips["missing_image"] > 0


def test_boxes_leaving_the_image_are_clipped_as_in_training(data_root: Path) -> None:
    data = load_task(get_task("hit_uav_obb"), data_root)  # some oriented boxes poke out of the frame
    assert len(data.samples) == 150  # every val image: the 2 without objects count too (their boxes are FPs)
    for s in data.samples:
        for o in s.objects:
            xs, ys = o.box.as_tuple()[0::2], o.box.as_tuple()[1::2]
            assert min(xs) >= 0 and min(ys) >= 0 and max(xs) <= s.image.width and max(ys) <= s.image.height
