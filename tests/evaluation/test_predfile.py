"""Predictions files: tolerant reading with counts, appending after a run killed mid-line."""

from __future__ import annotations

import json
from pathlib import Path

from earthgpt.evaluation.predfile import append_predictions, read_predictions
from earthgpt.inference.output import Generation


def test_bad_lines_are_counted_not_fatal(tmp_path: Path) -> None:
    p = tmp_path / "p.jsonl"
    lines = [
        json.dumps({"id": "a", "text": "first"}),
        json.dumps({"id": "a", "text": "second"}),  # duplicate
        "{not json",
        json.dumps({"text": "no id"}),
        json.dumps(["a", "list"]),
        json.dumps({"id": 7, "text": "integer id"}),
        json.dumps({"id": "b", "text": None}),  # not a string
        json.dumps({"id": "c", "answer": "other key"}),
        "",
    ]
    p.write_text("\n".join(lines), encoding="utf-8")
    pf = read_predictions(p)
    assert pf.responses["a"].text == "first"
    assert (pf.duplicates, pf.malformed, pf.non_string) == (1, 3, 2)
    assert pf.responses["7"].text == "integer id"
    assert pf.responses["b"].text == "" and pf.responses["c"].text == ""
    assert read_predictions(p, keep="last").responses["a"].text == "second"
    assert read_predictions(p, text_key="answer").responses["c"].text == "other key"


def test_missing_file_reads_as_empty(tmp_path: Path) -> None:
    pf = read_predictions(tmp_path / "absent.jsonl")
    assert pf.responses == {} and pf.malformed == 0


def test_token_data_round_trips_and_bad_token_data_is_dropped(tmp_path: Path) -> None:
    p = tmp_path / "p.jsonl"
    append_predictions(p, [("a", "q", Generation("car [0,0,1,1]", [-0.5, -1.0], [(0, 3), (4, 13)]))])
    with p.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "b", "text": "x", "token_logprobs": [0.1], "token_spans": [[0, 1], [1, 2]]}) + "\n")
    pf = read_predictions(p)
    assert pf.responses["a"] == Generation("car [0,0,1,1]", [-0.5, -1.0], [(0, 3), (4, 13)])
    assert pf.prompts["a"] == "q"
    assert pf.responses["b"].token_logprobs is None  # lengths disagree


def test_append_after_a_truncated_line_keeps_the_new_line(tmp_path: Path) -> None:
    p = tmp_path / "p.jsonl"
    append_predictions(p, [("a", "q", Generation("one"))])
    with p.open("a", encoding="utf-8") as f:
        f.write('{"id": "b", "te')  # killed mid-write
    append_predictions(p, [("c", "q", Generation("three"))])
    pf = read_predictions(p)
    assert set(pf.responses) == {"a", "c"} and pf.malformed == 1
