"""Output parsers: box text in every supported format -> pixel boxes with spans; short answers; bad text."""

from __future__ import annotations

import math

import pytest

from earthgpt.data.records import ImageRef
from earthgpt.evaluation.labels import find_category, label_key
from earthgpt.evaluation.tasks.boxtext import read_boxes
from earthgpt.evaluation.tasks.parsers import (
    parse_caption,
    parse_detection_hbb,
    parse_detection_obb,
    parse_grounding,
    parse_scene,
    parse_scene_lenient,
    parse_vqa,
)
from earthgpt.evaluation.tasks.spec import Sample
from earthgpt.geometry import HBB, OBB, LabeledBox
from earthgpt.geometry.formats import to_falcon, to_geochat
from earthgpt.geometry.normalize import normalize

IMAGE = ImageRef("x.png", width=200, height=100)  # not square: the two normalisations differ
CATS = ("car", "person", "storage tank")


def _coords(box: object) -> tuple[float, ...]:
    return tuple(round(v, 6) for v in box.as_tuple())  # type: ignore[attr-defined]


def _sample(**kw: object) -> Sample:
    base: dict[str, object] = {"id": "s", "image": IMAGE, "prompt": "p", "answer": "", "categories": CATS}
    base.update(kw)
    return Sample(**base)  # type: ignore[arg-type]


def test_earthgpt_boxes_are_denormalised_from_the_padded_square() -> None:
    # 200 x 100 image: side 200, dy = 50. y = 0.3 -> 0.3 * 200 - 50 = 10.
    r = read_boxes("car [0.1,0.3,0.2,0.35]; person [0.5,0.5,0.6,0.6]", "earthgpt", "hbb", IMAGE, CATS)
    assert [(b.label, _coords(b.box)) for b in r.boxes] == [
        ("car", (20.0, 10.0, 40.0, 20.0)),
        ("person", (100.0, 50.0, 120.0, 70.0)),
    ]
    assert [b.span for b in r.boxes] == [(0, 22), (24, 48)]  # each box's label and brackets, not the "; "
    assert (r.dropped, r.converted) == (0, 0)


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        ("[nan,0.1,0.2,0.3]; car [0.1,0.3,0.2,0.35]", ["car [0.1,0.3,0.2,0.35]"]),  # after a dropped box
        ("car [0.1 truck [0.5,0.5,0.6,0.6]", ["0.1 truck [0.5,0.5,0.6,0.6]"]),  # after an unclosed bracket
        ("Boxes:\n[[0.1,0.3,0.2,0.35]]", ["[0.1,0.3,0.2,0.35]"]),  # stray outer bracket, no label
        (
            "car [0.1,0.3,0.2,0.35]; car [0.9,0.0,1.0,0.2]; person (0.5,0.5,0.6,0.6)",
            ["car [0.1,0.3,0.2,0.35]", "person (0.5,0.5,0.6,0.6)"],
        ),
    ],
)
def test_earthgpt_spans_cover_each_kept_entry(text: str, entries: list[str]) -> None:
    r = read_boxes(text, "earthgpt", "hbb", IMAGE, CATS)
    assert [text[a:b] for a, b in (b.span for b in r.boxes)] == entries


@pytest.mark.parametrize(
    ("text", "kept", "dropped"),
    [
        ("[nan,0.1,0.2,0.3]; car [0.1,0.3,0.2,0.35]", 1, 1),  # NaN box dropped
        ("car [0.1,0.3,0.2,0.35] truck [0.5", 1, 1),  # truncated output
        ("car [10,20,30,40]", 0, 1),  # another scale: far outside [0, 1]
        ("car [0.1,0.3,0.2]", 0, 1),  # three numbers
        ("[[0.1,0.3,0.2,0.35]]", 1, 0),  # stray outer bracket, box kept
        ("car [0.1,0.3,0.2,0.35]; car [0.9,0.0,1.0,0.2]", 1, 1),  # second box wholly above the image (padding)
        ("no boxes at all", 0, 0),
        ("", 0, 0),
    ],
)
def test_earthgpt_bad_boxes_are_dropped_and_counted(text: str, kept: int, dropped: int) -> None:
    r = read_boxes(text, "earthgpt", "hbb", IMAGE, CATS)
    assert (len(r.boxes), r.dropped) == (kept, dropped)
    assert all(all(math.isfinite(v) for v in b.box.as_tuple()) for b in r.boxes)


def test_box_of_the_other_kind_is_converted_and_counted() -> None:
    obb = "car [0.1,0.3,0.2,0.3,0.2,0.35,0.1,0.35]"
    r = read_boxes(obb, "earthgpt", "hbb", IMAGE, CATS)
    assert (_coords(r.boxes[0].box), r.converted) == ((20.0, 10.0, 40.0, 20.0), 1)
    r = read_boxes("car [0.1,0.3,0.2,0.35]", "earthgpt", "obb", IMAGE, CATS)
    assert isinstance(r.boxes[0].box, OBB) and r.converted == 1
    assert r.boxes[0].box.area == pytest.approx(200.0)


def test_geochat_boxes_are_per_axis_and_share_the_label_before_them() -> None:
    text = "There are 2 storage tanks {<10><20><30><40>|<90>}{<50><50><60><70>|<90>} and a car {<1><1><5><5>}"
    r = read_boxes(text, "geochat", "hbb", IMAGE, CATS)
    assert [(b.label, _coords(b.box)) for b in r.boxes] == [
        ("storage tank", (20.0, 20.0, 60.0, 40.0)),  # x * 200 / 100, y * 100 / 100
        ("storage tank", (100.0, 50.0, 120.0, 70.0)),
        ("car", (2.0, 1.0, 10.0, 5.0)),
    ]


def test_geochat_and_falcon_writers_read_back_within_their_grid() -> None:
    pixel = HBB(37.0, 21.0, 121.0, 77.0)
    per_axis = HBB(pixel.x1 / 200, pixel.y1 / 100, pixel.x2 / 200, pixel.y2 / 100)
    for fmt, text, step in (("geochat", to_geochat(per_axis), 2.0), ("falcon", to_falcon(per_axis), 0.2)):
        (b,) = read_boxes(f"car {text}", fmt, "hbb", IMAGE, CATS).boxes  # type: ignore[arg-type]
        assert b.label == "car"
        assert all(abs(u - v) <= step / 2 + 1e-9 for u, v in zip(b.box.as_tuple(), pixel.as_tuple(), strict=True))


def test_falcon_quad_in_an_obb_task() -> None:
    (b,) = read_boxes("<quad><100><200><300><200><300><400><100><400></quad>", "falcon", "obb", IMAGE, ("ship",)).boxes
    assert b.label == "ship"  # the only category of a one-class task
    assert _coords(b.box) == (20.0, 20.0, 60.0, 20.0, 60.0, 40.0, 20.0, 40.0)


def test_coco_json_keeps_the_given_scores_and_drops_bad_entries() -> None:
    text = '[{"bbox": [10, 20, 30, 40], "category_name": "Car", "score": 0.9}, {"bbox": [1, 2, 3], "label": "x"}]'
    r = read_boxes(text, "coco", "hbb", IMAGE, CATS)
    assert [(b.label, _coords(b.box), b.score) for b in r.boxes] == [("car", (10.0, 20.0, 40.0, 60.0), 0.9)]
    assert r.dropped == 1


def test_coco_text_boxes_in_pixels() -> None:
    r = read_boxes("car [10, 20, 30, 40]; person [5 5 5 5]", "coco", "hbb", IMAGE, CATS)
    assert [(b.label, _coords(b.box)) for b in r.boxes] == [("car", (10, 20, 40, 60)), ("person", (5, 5, 10, 10))]


def test_dota_lines_with_optional_score_and_difficulty() -> None:
    text = "10 10 50 10 50 40 10 40 car 0\n0.8 10 10 50 10 50 40 10 40 person\nbad line\n"
    r = read_boxes(text, "dota", "obb", IMAGE, CATS)
    assert [(b.label, b.score, b.span) for b in r.boxes] == [("car", None, (0, 29)), ("person", 0.8, (30, 64))]
    assert r.dropped == 1
    assert _coords(r.boxes[0].box) == (10, 10, 50, 10, 50, 40, 10, 40)


def test_unknown_box_format_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown box format"):
        read_boxes("", "yolo", "hbb", IMAGE, CATS)  # type: ignore[arg-type]


def test_detection_parser_statuses_and_canonical_labels() -> None:
    s = _sample()
    p = parse_detection_hbb("Cars [0.1,0.3,0.2,0.35]", s)
    assert p.status == "ok" and p.value[0].label == "car"
    assert parse_detection_hbb("   ", s).status == "empty"
    assert parse_detection_hbb("I see nothing", s).status == "unparsed"
    bad = parse_detection_obb("car [nan,1,2,3,4,5,6,7]", s)
    assert (bad.status, bad.dropped, bad.value) == ("unparsed", 1, ())


def test_grounding_parser_returns_a_pixel_hbb() -> None:
    s = _sample(box=HBB(20, 10, 40, 20))
    box = normalize(HBB(20, 10, 40, 20), 200, 100)
    p = parse_grounding(f"It is at [{box.x1:.3f},{box.y1:.3f},{box.x2:.3f},{box.y2:.3f}].", s)
    assert p.status == "ok" and _coords(p.value) == (20.0, 10.0, 40.0, 20.0)
    assert parse_grounding("", s).status == "empty"
    assert (parse_grounding("somewhere left", s).status, parse_grounding("somewhere left", s).value) == (
        "unparsed",
        None,
    )


def test_scene_parser_is_strict_by_default_and_lenient_on_request() -> None:
    s = _sample(categories=("dense residential", "residential", "storage tank"))
    assert parse_scene("Dense_Residential.", s).value == "dense residential"
    assert parse_scene("It is a dense residential area.", s).status == "unparsed"
    assert parse_scene_lenient("It is a dense residential area.", s).value == "dense residential"
    assert parse_scene_lenient("storage tanks", s).value == "storage tank"
    assert parse_scene("", s).status == "empty"


def test_vqa_and_caption_parsers_keep_the_text() -> None:
    s = _sample()
    assert (parse_vqa(" Yes ", s).status, parse_vqa(" Yes ", s).value) == ("ok", " Yes ")
    assert parse_vqa("", s).status == "empty"
    assert parse_caption("  a  big\nfield ", s).value == "a big field"
    assert parse_caption("", s).status == "empty"


def test_lenient_matching_prefers_the_longest_category() -> None:
    cats = ["residential", "dense residential", "river"]
    assert find_category("a dense residential area near a river", cats) == "dense residential"
    assert find_category("nothing here", cats) is None
    assert label_key("Storage_Tanks") == label_key("storage tank") == "storage tank"
    assert label_key("grass") == "grass"  # a double s is not a plural


def test_labels_from_the_training_codec_round_trip() -> None:
    objects = [LabeledBox("storage tank", HBB(20, 10, 40, 20)), LabeledBox("car", HBB(100, 50, 120, 70))]
    from earthgpt.data.instructions.convert import detection_answer

    text = detection_answer(objects, IMAGE)
    got = parse_detection_hbb(text, _sample()).value
    assert sorted((b.label, _coords(b.box)) for b in got) == sorted((o.label, _coords(o.box)) for o in objects)
