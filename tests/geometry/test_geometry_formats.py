"""Format converters: COCO, VOC, DOTA, rotated, GeoChat and Falcon, each against our boxes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earthgpt.geometry import (
    FALCON_GRID,
    GEOCHAT_GRID,
    HBB,
    OBB,
    coco_to_hbb,
    dota_to_obb,
    from_falcon,
    from_geochat,
    from_grid,
    hbb_to_coco,
    hbb_to_voc,
    obb_from_rotated,
    obb_iou,
    obb_to_dota,
    obb_to_rotated,
    parse_falcon,
    parse_geochat,
    to_falcon,
    to_geochat,
    to_grid,
    voc_to_hbb,
)
from tests.geometry.strategies import clamp_obb, hbbs, rect_obbs, rotated

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


def test_hand_conversions() -> None:
    assert coco_to_hbb([10, 20, 30, 40]) == HBB(10, 20, 40, 60)
    assert hbb_to_coco(HBB(10, 20, 40, 60)) == [10, 20, 30, 40]
    assert voc_to_hbb([1, 2, 3, 4]) == HBB(1, 2, 3, 4)
    assert dota_to_obb([1, 2, 3, 4, 5, 6, 7, 8]).points == (1, 2, 3, 4, 5, 6, 7, 8)
    with pytest.raises(ValueError, match="COCO box needs 4"):
        coco_to_hbb([1, 2, 3])
    with pytest.raises(ValueError, match="DOTA box needs 8"):
        dota_to_obb([1, 2, 3, 4])


@settings(max_examples=100, deadline=None)
@given(st.lists(finite, min_size=4, max_size=4), st.lists(finite, min_size=8, max_size=8))
def test_pixel_format_round_trips(four: list[float], eight: list[float]) -> None:
    assert voc_to_hbb(hbb_to_voc(HBB(*four))) == HBB(*four)
    assert obb_to_dota(dota_to_obb(eight)) == eight
    back = hbb_to_coco(coco_to_hbb(four))
    assert back == pytest.approx(four, abs=1e-9 * max(1.0, *map(abs, four)))


@settings(max_examples=100, deadline=None)
@given(rotated(0, 800))
def test_rotated_radians_and_degrees_agree(params: tuple[float, ...]) -> None:
    cx, cy, w, h, a = params
    rad = obb_from_rotated(cx, cy, w, h, a)
    deg = obb_from_rotated(cx, cy, w, h, math.degrees(a), degrees=True)
    assert deg.as_tuple() == pytest.approx(rad.as_tuple(), abs=1e-9)
    assert obb_from_rotated(*obb_to_rotated(rad)).as_tuple() == pytest.approx(rad.as_tuple(), abs=1e-9)


def test_coco_round_trip_on_real_hrsid_labels(data_root: Path) -> None:
    ann = json.loads((data_root / "hrsid_modified_coco" / "subset_offshore_train_30imgs.json").read_text())
    bboxes = [a["bbox"] for a in ann["annotations"]]
    assert bboxes
    for b in bboxes:
        box = coco_to_hbb(b)
        assert box.area == pytest.approx(b[2] * b[3])
        assert hbb_to_coco(box) == pytest.approx(b)


def test_geochat_hand_cases() -> None:
    assert to_geochat(HBB(0.1, 0.2, 0.3, 0.5)) == "{<10><20><30><50>|<90>}"
    assert from_geochat("{<10><20><30><50>|<90>}") == HBB(0.1, 0.2, 0.3, 0.5)
    answer = "<p>planes</p> {<49><48><57><56>|<90>}<delim>{<35><54><43><62>|<90>} at the centre"
    assert parse_geochat(answer) == [HBB(0.49, 0.48, 0.57, 0.56), HBB(0.35, 0.54, 0.43, 0.62)]
    # t = 180 turns the box by 90 degrees about its centre.
    tall = from_geochat("{<40><45><60><55>|<180>}")
    assert isinstance(tall, OBB)
    assert sorted(set(round(v, 9) for v in tall.points)) == [0.4, 0.45, 0.55, 0.6]
    assert obb_iou(tall, OBB((0.45, 0.4, 0.55, 0.4, 0.55, 0.6, 0.45, 0.6))) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no GeoChat box"):
        from_geochat("nothing here")


@settings(max_examples=150, deadline=None)
@given(hbbs())
def test_geochat_hbb_round_trip(box: HBB) -> None:
    back = from_geochat(to_geochat(box))
    assert isinstance(back, HBB)
    assert back.as_tuple() == pytest.approx(box.as_tuple(), abs=0.5 / GEOCHAT_GRID + 1e-12)


@settings(max_examples=150, deadline=None)
@given(rect_obbs(min_size=0.02))
def test_geochat_obb_round_trip(box: OBB) -> None:
    back = from_geochat(to_geochat(box), kind="obb")
    # Extent off by half a grid step per side, the angle by half a degree about the centre.
    radius = math.hypot(*obb_to_rotated(box)[2:4]) / 2
    bound = 1.0 / GEOCHAT_GRID + radius * math.radians(0.5) + 1e-9
    for p in back.corners():  # every corner lies near the original box's corners
        assert min(math.dist(p, q) for q in box.corners()) <= bound


def test_falcon_readme_examples() -> None:
    assert from_falcon("Classify the region of <box><855><297><891><355></box>.") == HBB(0.855, 0.297, 0.891, 0.355)
    quad = from_falcon("<quad><703><420><703><292><571><292><571><420></quad>")
    assert quad == OBB((0.703, 0.42, 0.703, 0.292, 0.571, 0.292, 0.571, 0.42))
    assert to_falcon(quad) == "<quad><703><420><703><292><571><292><571><420></quad>"
    assert parse_falcon("<box><1><2><3></box> <quad><1><2></quad>") == []  # wrong counts skipped
    assert to_grid(HBB(-0.1, 0.0, 1.0, 1.2), FALCON_GRID) == [0, 0, 1000, 1000]


@settings(max_examples=150, deadline=None)
@given(st.one_of(hbbs(), rect_obbs()))
def test_falcon_round_trip(box: HBB | OBB) -> None:
    if isinstance(box, OBB):
        box = clamp_obb(box)
    back = from_falcon(to_falcon(box))
    assert type(back) is type(box)
    assert back.as_tuple() == pytest.approx(box.as_tuple(), abs=0.5 / FALCON_GRID + 1e-12)
    assert from_grid(to_grid(box, 100), 100).as_tuple() == pytest.approx(box.as_tuple(), abs=0.005 + 1e-12)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_grid_readers_never_raise(text: str) -> None:
    for b in parse_falcon(text) + parse_geochat(text):
        assert all(math.isfinite(v) for v in b.as_tuple())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "{",
                "}",
                "<",
                ">",
                "|",
                "<12>",
                "<-3>",
                "<90>",
                "<box>",
                "</box>",
                "<quad>",
                "</quad>",
                "<delim>",
                " ",
                "7",
                "1000",
            ]
        ),
        max_size=30,
    )
)
def test_grid_readers_never_raise_on_near_misses(parts: list[str]) -> None:
    text = "".join(parts)
    for b in parse_falcon(text) + parse_geochat(text):
        assert len(b.as_tuple()) in (4, 8)
