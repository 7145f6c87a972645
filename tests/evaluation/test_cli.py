"""The plain functions behind ``earthgpt eval``, ``earthgpt eval score`` and ``earthgpt list tasks``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from earthgpt.data.conversation import ImagePart, Message
from earthgpt.evaluation.answerers import ModelAnswerer, Request
from earthgpt.evaluation.box_confidence import LogprobScorer
from earthgpt.evaluation.cli import EvalRun, ScoreRun, list_tasks, parse_scorer, run_eval, run_score
from earthgpt.evaluation.tasks import TASKS, get_task, load_task


@dataclass
class _Gen:
    text: str
    token_logprobs: list[float]
    token_spans: list[tuple[int, int]]


class _FakeModel:
    """Stands in for earthgpt.inference.predictor.Predictor: records what it was asked."""

    def __init__(self) -> None:
        self.dialogues: list[Sequence[Message]] = []
        self.roots: list[Any] = []

    def pixels(self, image: Any, root: Any = None) -> str:
        self.roots.append(root)
        return f"pixels of {image.path}"

    def generate(self, pixels: Sequence[Any], dialogues: Sequence[Sequence[Message]]) -> list[_Gen]:
        self.dialogues += list(dialogues)
        return [_Gen("grass", [-0.5], [(0, 5)]) for _ in dialogues]


def test_model_predictor_asks_one_single_turn_dialogue_per_request(data_root: Path) -> None:
    data = load_task(get_task("rsscn7"), data_root, 2)
    fake = _FakeModel()
    out = ModelAnswerer(fake).predict([Request(s.id, s.image, data.root, s.prompt) for s in data.samples])
    assert [r.text for r in out] == ["grass", "grass"] and out[0].token_spans == [(0, 5)]
    (turn,) = fake.dialogues[0]
    assert turn.role == "user" and turn.text == data.samples[0].prompt
    assert isinstance(turn.content[0], ImagePart) and turn.content[0].image == data.samples[0].image
    assert fake.roots == [data.root, data.root]


def test_scorer_option() -> None:
    assert isinstance(parse_scorer(None), LogprobScorer) and isinstance(parse_scorer("logprob"), LogprobScorer)
    with pytest.raises(ValueError, match="clip:LOCAL_DIR"):
        parse_scorer("remoteclip")
    with pytest.raises(FileNotFoundError):
        parse_scorer("clip:/nonexistent/clip")


def test_list_tasks_names_every_task() -> None:
    text = list_tasks()
    assert all(name in text for name in TASKS)
    assert "Tab. VIII" in text and "MAR20" in text


def test_run_score_writes_the_report(data_root: Path, tmp_path: Path) -> None:
    s = load_task(get_task("rsscn7"), data_root, 3).samples
    preds = tmp_path / "p.jsonl"
    preds.write_text("\n".join(json.dumps({"id": x.id, "text": x.answer}) for x in s) + "\n")
    run = ScoreRun(task="rsscn7", predictions=str(preds), data=str(data_root), out=str(tmp_path / "o"), limit=3)
    assert run_score(run) == 0
    assert json.loads((tmp_path / "o" / "metrics.json").read_text())["metrics"]["top1"] == 100.0


def test_run_eval_names_missing_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EARTHGPT_DATA", raising=False)
    with pytest.raises(ValueError, match=r"--data \(the data root\) or \$EARTHGPT_DATA"):
        run_eval(EvalRun(model="m", tasks="aid"))
