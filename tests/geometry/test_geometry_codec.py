"""The text form of boxes: exact writing, round trips, every repair named, and a reader that never raises."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earthgpt.geometry import (
    HBB,
    OBB,
    LabeledBox,
    format_box,
    format_boxes,
    obb_from_rotated,
    order_obb,
    parse_box,
    parse_boxes,
)
from tests.geometry.strategies import clamp_obb, hbbs, rect_obbs


def test_written_form() -> None:
    assert format_box(HBB(0.123, 0.456, 0.789, 0.9)) == "[0.123,0.456,0.789,0.900]"
    assert format_box(HBB(0.1, 0.2, 0.3, 0.4), decimals=1) == "[0.1,0.2,0.3,0.4]"
    assert format_box(HBB(-1e-12, 0, 1 + 1e-12, 1), decimals=2) == "[0.00,0.00,1.00,1.00]"  # no -0.00
    shuffled = OBB((0.3, 0.4, 0.1, 0.2, 0.3, 0.2, 0.1, 0.4))
    assert format_box(shuffled) == "[0.100,0.200,0.300,0.200,0.300,0.400,0.100,0.400]"
    text = format_boxes([LabeledBox("car", HBB(0.1, 0.2, 0.3, 0.4)), LabeledBox("", HBB(0, 0, 1, 1))])
    assert text == "car [0.100,0.200,0.300,0.400]; [0.000,0.000,1.000,1.000]"
    assert format_boxes([]) == ""


@pytest.mark.parametrize(
    "box,match",
    [
        (HBB(10, 20, 30, 40), "not normalised"),
        (HBB(0.5, 0.1, 0.2, 0.3), "x2 < x1"),
        (HBB(math.nan, 0, 1, 1), "not normalised"),
        (OBB((0, 0, 2, 0, 2, 1, 0, 1)), "not normalised"),
    ],
)
def test_bad_boxes_are_refused(box: HBB | OBB, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        format_box(box)


@pytest.mark.parametrize("label", ["a;b", "x [y]", " padded", "tail:", "two\nlines", "a,b"])
def test_unreadable_labels_are_refused(label: str) -> None:
    with pytest.raises(ValueError, match="cannot be written"):
        format_boxes([LabeledBox(label, HBB(0, 0, 1, 1))])


def test_decimals_must_be_non_negative_int() -> None:
    with pytest.raises(ValueError, match="decimals"):
        format_box(HBB(0, 0, 1, 1), decimals=-1)


labels = st.text(alphabet=st.characters(categories=["L", "N", "Zs", "Pd"], exclude_characters="\n\r"), max_size=20).map(
    lambda s: " ".join(s.split()).strip(" -")
)


@st.composite
def labelled(draw: st.DrawFn, decimals: int) -> LabeledBox:
    step = 3 * 10.0**-decimals
    box = draw(st.one_of(hbbs(min_size=step), rect_obbs(min_size=step).map(clamp_obb)))
    return LabeledBox(draw(labels), box)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=6).flatmap(lambda d: st.tuples(st.just(d), st.lists(labelled(d), max_size=6)))
)
def test_round_trip(case: tuple[int, list[LabeledBox]]) -> None:
    decimals, boxes = case
    text = format_boxes(boxes, decimals=decimals)
    result = parse_boxes(text)
    assert [b.label for b in result.boxes] == [b.label for b in boxes]
    for got, want in zip(result.boxes, boxes, strict=True):
        ref = order_obb(want.box) if isinstance(want.box, OBB) else want.box
        assert type(got.box) is type(ref)
        assert got.box.as_tuple() == pytest.approx(ref.as_tuple(), abs=0.5 * 10.0**-decimals + 1e-12)
    assert all(p.endswith("has no label") for p in result.problems)
    assert len(result.problems) == sum(1 for b in boxes if not b.label)


def test_kind_filter() -> None:
    text = "a [0.1,0.1,0.2,0.2]; b [0.1,0.1,0.3,0.1,0.3,0.3,0.1,0.3]"
    assert [b.label for b in parse_boxes(text, kind="hbb").boxes] == ["a"]
    assert [b.label for b in parse_boxes(text, kind="obb").boxes] == ["b"]
    assert len(parse_boxes(text).boxes) == 2
    assert any("expected 4" in p for p in parse_boxes(text, kind="hbb").problems)


@pytest.mark.parametrize(
    "text,boxes,problem",
    [
        ("car (0.1,0.2,0.3,0.4)", [HBB(0.1, 0.2, 0.3, 0.4)], "instead of []"),
        ("car [0.1 0.2 0.3 0.4]", [HBB(0.1, 0.2, 0.3, 0.4)], "separated by spaces"),
        ("car [0.1,0.2,0.3,0.4,]", [HBB(0.1, 0.2, 0.3, 0.4)], "trailing comma"),
        ("car [0.3,0.4,0.1,0.2]", [HBB(0.1, 0.2, 0.3, 0.4)], "swapped"),
        ("car [-0.01,0.2,1.02,0.4]", [HBB(0.0, 0.2, 1.0, 0.4)], "clamped"),
        ("car [0.1,0.2,0.1,0.4]", [HBB(0.1, 0.2, 0.1, 0.4)], "zero-area"),
        ("[0.1,0.2,0.3,0.4]", [HBB(0.1, 0.2, 0.3, 0.4)], "no label"),
        ("car [[0.1,0.2,0.3,0.4]]", [HBB(0.1, 0.2, 0.3, 0.4)], "stray"),
        ("Sure.\ncar [0.1,0.2,0.3,0.4]", [HBB(0.1, 0.2, 0.3, 0.4)], "'Sure.' ignored"),
        ("s [0.1,0.1,0.3,0.3,0.1,0.3,0.3,0.1]", [OBB((0.1, 0.1, 0.3, 0.1, 0.3, 0.3, 0.1, 0.3))], "re-ordered"),
        ("car [0.1,0.2,0.3", [], "unclosed"),
        ("car [0.1,0.2,0.3]", [], "3 numbers"),
        ("car [nan,0.2,0.3,0.4]", [], "NaN"),
        ("car [0.1,0.2,inf,0.4]", [], "NaN or infinite"),
        ("car [12,30,400,200]", [], "far outside"),
        ("car [0.1,x,0.3,0.4]", [], "unreadable"),
        ("car [0.1,,0.3,0.4]", [], "empty field"),
        ("car [0.1,0.2,0.3,0.4]; bus", [HBB(0.1, 0.2, 0.3, 0.4)], "without a box"),
        ("nothing to see", [], "without a box"),
    ],
)
def test_each_repair_or_drop_is_named(text: str, boxes: list[HBB | OBB], problem: str) -> None:
    result = parse_boxes(text)
    assert [b.box for b in result.boxes] == boxes
    assert any(problem in p for p in result.problems), result.problems


def test_unicode_labels_and_lenient_spacing() -> None:
    result = parse_boxes("飞机 [0.1, 0.2, 0.3, 0.4];  Ölfass [ 0.5,0.5 ,0.6,0.6 ]")
    assert [b.label for b in result.boxes] == ["飞机", "Ölfass"]
    assert result.ok


def test_parse_box_for_grounding_answers() -> None:
    assert parse_box("[0.100,0.200,0.300,0.400]") == (HBB(0.1, 0.2, 0.3, 0.4), [])
    assert parse_box("The car is at [0.1,0.2,0.3,0.4].") == (HBB(0.1, 0.2, 0.3, 0.4), [])
    box, problems = parse_box("[0.1,0.2,0.3,0.4] or [0.5,0.5,0.6,0.6]")
    assert box == HBB(0.1, 0.2, 0.3, 0.4)
    assert problems == ["2 boxes found, used the first"]
    assert parse_box("no idea") == (None, ["no box found"])
    obb = obb_from_rotated(0.5, 0.5, 0.2, 0.1, 0.5)
    got, _ = parse_box(format_box(obb, decimals=6), kind="obb")
    assert got is not None and got.as_tuple() == pytest.approx(order_obb(obb).as_tuple(), abs=5e-7)


def _check_result(boxes: list[LabeledBox], problems: list[str]) -> None:
    assert all(isinstance(p, str) for p in problems)
    for lb in boxes:
        assert isinstance(lb.label, str)
        values = lb.box.as_tuple()
        assert len(values) == (4 if isinstance(lb.box, HBB) else 8)
        assert all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in values)
        if isinstance(lb.box, HBB):
            assert lb.box.x1 <= lb.box.x2 and lb.box.y1 <= lb.box.y2


@settings(max_examples=300, deadline=None)
@given(st.text(), st.sampled_from([None, "hbb", "obb"]))
def test_reader_is_total_on_arbitrary_text(text: str, kind: str | None) -> None:
    result = parse_boxes(text, kind=kind)  # type: ignore[arg-type]
    _check_result(result.boxes, result.problems)
    box, problems = parse_box(text, kind=kind)  # type: ignore[arg-type]
    assert box is None or isinstance(box, (HBB, OBB))
    assert isinstance(problems, list)


fragments = st.sampled_from(
    [
        "[",
        "]",
        "(",
        ")",
        ",",
        ";",
        " ",
        "\n",
        "car",
        "飞机",
        "0.5",
        "0.25",
        "-0.01",
        "1.5",
        "1e3",
        "nan",
        "inf",
        "-",
        ".",
        "e",
        "1",
        "0",
        "12",
        "0.999",
        "1e-400",
        "9" * 40,
        "\x00",
        "\u2212",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(fragments, max_size=40), st.sampled_from([None, "hbb", "obb"]))
def test_reader_is_total_on_near_misses(parts: list[str], kind: str | None) -> None:
    text = "".join(parts)
    result = parse_boxes(text, kind=kind)  # type: ignore[arg-type]
    _check_result(result.boxes, result.problems)
    assert not any(p.startswith("internal error") for p in result.problems)


@settings(max_examples=100, deadline=None)
@given(st.lists(labelled(3), min_size=1, max_size=5), st.integers(min_value=0, max_value=200))
def test_truncated_output_keeps_the_complete_boxes(boxes: list[LabeledBox], cut: int) -> None:
    text = format_boxes(boxes)
    truncated = text[: max(0, len(text) - cut)]
    result = parse_boxes(truncated)
    _check_result(result.boxes, result.problems)
    # Every box whose closing bracket survived is read exactly as from the full text; the cut one is dropped.
    assert result.boxes == parse_boxes(text).boxes[: truncated.count("]")]


# ---------------------------------------------------------------------------------------------- spans and drops


def test_spans_slice_back_to_each_entry() -> None:
    text = "Sure.\n car [0.1,0.2,0.3,0.4];  Ölfass ( 0.5,0.5 ,0.6,0.6 ) and [0.7,0.7,0.8,0.8]"
    result = parse_boxes(text)
    assert [text[a:b] for a, b in result.spans] == [
        "car [0.1,0.2,0.3,0.4]",
        "Ölfass ( 0.5,0.5 ,0.6,0.6 )",
        "and [0.7,0.7,0.8,0.8]",
    ]
    assert result.spans[0] == (7, 28)
    assert result.dropped == 0


def test_unlabelled_box_span_starts_at_its_bracket() -> None:
    text = "car [[0.1,0.2,0.3,0.4]]; ; [0.5,0.5,0.6,0.6]"
    result = parse_boxes(text)
    assert [text[a:b] for a, b in result.spans] == ["car [[0.1,0.2,0.3,0.4]", "[0.5,0.5,0.6,0.6]"]
    assert [b.label for b in result.boxes] == ["car", ""]
    assert result.dropped == 0  # a stray bracket is not a box


@pytest.mark.parametrize(
    "text,dropped,kept",
    [
        ("car [nan,0.2,0.3,0.4]; bus [0.1,0.2,0.3,0.4]", 1, ["bus [0.1,0.2,0.3,0.4]"]),
        ("car [0.1,0.2,0.3]; bus [0.1,0.2,0.3,0.4,0.5]", 2, []),
        ("car [0.1,0.2,0.3,0.4]; bus [0.5,0.5", 1, ["car [0.1,0.2,0.3,0.4]"]),
        ("a [0.1,0.2,inf,0.4]; b [12,30,400,200]; c [x]; d [0.1,,0.3,0.4]", 4, []),
        ("car [0.3,0.4,0.1,0.2]; bus (0.1,0.2,0.3,0.4,)", 0, ["car [0.3,0.4,0.1,0.2]", "bus (0.1,0.2,0.3,0.4,)"]),
        ("nothing to see", 0, []),
        ("", 0, []),
    ],
)
def test_dropped_counts_the_entries_thrown_away(text: str, dropped: int, kept: list[str]) -> None:
    result = parse_boxes(text)
    assert result.dropped == dropped
    assert [text[a:b] for a, b in result.spans] == kept
    assert result.dropped == sum(1 for p in result.problems if p.endswith("dropped"))


def test_kind_filter_counts_the_other_kind_as_dropped() -> None:
    text = "a [0.1,0.1,0.2,0.2]; b [0.1,0.1,0.3,0.1,0.3,0.3,0.1,0.3]"
    hbb, obb = parse_boxes(text, kind="hbb"), parse_boxes(text, kind="obb")
    assert (hbb.dropped, [text[a:b] for a, b in hbb.spans]) == (1, ["a [0.1,0.1,0.2,0.2]"])
    assert (obb.dropped, [text[a:b] for a, b in obb.spans]) == (1, ["b [0.1,0.1,0.3,0.1,0.3,0.3,0.1,0.3]"])


def _check_spans(text: str, kind: str | None) -> None:
    result = parse_boxes(text, kind=kind)  # type: ignore[arg-type]
    assert len(result.spans) == len(result.boxes)
    assert result.dropped == sum(1 for p in result.problems if p.endswith("dropped"))  # one problem per drop
    ends = [0] + [v for span in result.spans for v in span] + [len(text)]
    assert ends == sorted(ends)  # ordered, disjoint, within the text
    for (a, b), lb in zip(result.spans, result.boxes, strict=True):
        assert a < b and text[b - 1] in "])"
        assert text[a:b].startswith(lb.label)  # the entry opens with its label (or its bracket)
        again = parse_boxes(text[a:b], kind=kind)  # type: ignore[arg-type]
        assert [g.box for g in again.boxes] == [lb.box] and again.dropped == 0


@settings(max_examples=300, deadline=None)
@given(st.text(), st.sampled_from([None, "hbb", "obb"]))
def test_spans_and_drops_on_arbitrary_text(text: str, kind: str | None) -> None:
    _check_spans(text, kind)


@settings(max_examples=300, deadline=None)
@given(st.lists(fragments, max_size=40), st.sampled_from([None, "hbb", "obb"]))
def test_spans_and_drops_on_near_misses(parts: list[str], kind: str | None) -> None:
    _check_spans("".join(parts), kind)
