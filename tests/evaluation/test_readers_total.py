"""Readers of model output are total: hostile text never raises, bad numbers drop one box, not the answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earthgpt.data.records import ImageRef
from earthgpt.evaluation.box_confidence import LogprobScorer
from earthgpt.evaluation.predfile import read_predictions
from earthgpt.evaluation.task_scores import PARSER_ERROR, score_task
from earthgpt.evaluation.tasks import get_task, load_task
from earthgpt.evaluation.tasks.boxtext import BOX_FORMATS, read_boxes
from earthgpt.evaluation.tasks.spec import Parsed, ParsedBox, Sample
from earthgpt.geometry import HBB, parse_box, parse_boxes
from earthgpt.inference.output import Generation

IMAGE = ImageRef("x.png", width=200, height=100)
CATS = ("car", "person")

# Pieces of every box syntax, unicode look-alikes of "inf" and digits, and huge or deep structures.
_PIECES = st.sampled_from(
    [
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        "<",
        ">",
        "<box>",
        "</box>",
        "<quad>",
        "</quad>",
        "|",
        ",",
        ";",
        " ",
        "\n",
        "0.5",
        "1",
        "7",
        "-3",
        "1e308",
        "1e-400",
        "nan",
        "inf",
        "ınf",
        "İNF",
        "١٢٣",
        "1_000",
        "𝟙",
        "car",
        "person",
        '{"bbox": [1, 2, 3, 4], "score": 1e999}',
        "\x00",
        "½",
        "x",
        ".",
        "e",
        "+",
    ]
)
_HOSTILE = st.one_of(st.text(max_size=60), st.lists(_PIECES, max_size=40).map("".join))


@settings(max_examples=300, deadline=None)
@given(text=_HOSTILE, fmt=st.sampled_from(BOX_FORMATS), kind=st.sampled_from(("hbb", "obb")))
def test_read_boxes_never_raises_and_keeps_boxes_finite(text: str, fmt: str, kind: str) -> None:
    reading = read_boxes(text, fmt, kind, IMAGE, CATS)  # type: ignore[arg-type]
    assert not any("internal error" in p for p in reading.problems)  # the last line of defence was not needed
    for b in reading.boxes:
        xs, ys = b.box.as_tuple()[0::2], b.box.as_tuple()[1::2]
        assert all(abs(v) <= 1e7 for v in xs + ys)
        assert max(xs) > 0 and max(ys) > 0 and min(xs) < IMAGE.width and min(ys) < IMAGE.height
        assert type(b.box).__name__ == kind.upper()
        assert 0 <= b.span[0] <= b.span[1] <= len(text)


@settings(max_examples=300, deadline=None)
@given(text=_HOSTILE)
def test_codec_never_takes_the_internal_error_path(text: str) -> None:
    result = parse_boxes(text)
    assert not any("internal error" in p for p in result.problems)
    parse_box(text)


@pytest.mark.parametrize("bad", ["ınf", "İNF", "ıNFINITY", "١", "1_0", "𝟙"])
def test_codec_unicode_number_lookalikes_drop_only_their_box(bad: str) -> None:
    result = parse_boxes(f"car [0.1,0.2,0.3,0.4]; bus [{bad},0,1,1]")
    assert [b.label for b in result.boxes] == ["car"] and result.dropped == 1


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("coco", "car [ınf 1 2 3] car [10, 10, 20, 20]"),
        ("dota", "İNF 1 2 3 4 5 6 7 car\n10 10 30 10 30 30 10 30 car"),
        ("coco", "car [1e308 1 1.05 1] car [10, 10, 20, 20]"),
        ("dota", "1e308 1 1.05 1 1 1 1 1 car\n10 10 30 10 30 30 10 30 car"),
        ("coco", '[{"bbox": [10, 10, 20, 20], "category_name": "car"}, {"bbox": [1' + "0" * 400 + ", 1, 1, 1]}]"),
        ("falcon", "car <box><box><50><100><150><300></box>"),
    ],
)
@pytest.mark.parametrize("kind", ["hbb", "obb"])
def test_one_bad_box_is_dropped_and_counted_the_good_one_kept(fmt: str, text: str, kind: str) -> None:
    reading = read_boxes(text, fmt, kind, IMAGE, CATS)  # type: ignore[arg-type]
    assert len(reading.boxes) == 1 and reading.boxes[0].label == "car"
    assert reading.dropped == 1


def test_deep_brackets_and_digit_runs_read_as_nothing() -> None:
    assert read_boxes("[" * 3000, "coco", "hbb", IMAGE, CATS).boxes == []
    assert read_boxes("[" + "1" * 30000 + "x 1 2 3]", "coco", "hbb", IMAGE, CATS).dropped == 1
    assert read_boxes("1" * 30000 + "x", "dota", "obb", IMAGE, CATS).dropped == 1


def test_falcon_boxes_after_many_unclosed_openers() -> None:
    text = "<box>" * 500 + "car <box><0><0><500><500></box>"
    reading = read_boxes(text, "falcon", "hbb", IMAGE, CATS)
    assert [(b.label, b.box) for b in reading.boxes] == [("car", HBB(0.0, 0.0, 100.0, 50.0))]
    assert reading.dropped == 500


def test_logprob_scorer_reads_the_tokens_of_each_box_span() -> None:
    text = "car [1] person [2]"
    spans = [(0, 3), (4, 7), (8, 14), (15, 18)]
    response = Generation(text, [-1.0, -3.0, -0.5, float("nan")], spans)
    boxes = [ParsedBox("car", HBB(0, 0, 1, 1), (0, 7)), ParsedBox("person", HBB(0, 0, 1, 1), (8, 18))]
    sample = Sample("s", IMAGE, "p", "")
    assert LogprobScorer().score(sample, response, boxes, None) == [-2.0, -0.5]
    shuffled = Generation(text, [-1.0, -3.0], [(4, 7), (0, 3)])
    assert LogprobScorer().score(sample, shuffled, boxes, None) == [None, None]


def test_hostile_prediction_lines_are_counted_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    lines = [
        "[" * 100000,
        '{"id": 1' + "0" * 5000 + "}",
        json.dumps({"id": "a", "text": "x", "token_logprobs": [0.0], "token_spans": [[0, 1e999]]}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pf = read_predictions(path)
    assert pf.malformed == 2 and pf.responses["a"] == Generation("x")


def test_a_parser_that_raises_makes_one_counted_miss(data_root: Path) -> None:
    spec = get_task("rsscn7")
    data = load_task(spec, data_root, 4)
    first = data.samples[0].id

    def parser(text: str, sample: Sample, box_format: str) -> Parsed:
        if sample.id == first:
            raise RuntimeError("boom")
        return Parsed("ok", sample.group)

    from dataclasses import replace

    data.spec = replace(spec, parser=parser)
    result = score_task(data, {s.id: Generation(s.answer) for s in data.samples}, meteor=False)
    assert result.counts["parser_errors"] == 1 and result.counts["unparsed"] == 1
    assert result.metrics["top1"] == pytest.approx(75.0)
    assert result.parsed[first].notes[0].startswith(PARSER_ERROR)
