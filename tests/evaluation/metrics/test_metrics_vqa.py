"""VQA metrics: normalisation, OA vs AA by hand, type exclusion, and the real RSVQA-HR question mix."""

from __future__ import annotations

from pathlib import Path

import pytest

from earthgpt.evaluation.metrics.vqa import normalize_answer, vqa_scores

from .real_data import rsvqa_hr


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("Yes.", "yes"),
        (" NO ", "no"),
        ("five", "5"),
        ("1,000", "1000"),
        ("2.5", "2.5"),
        ("between 10m2 and 100m2", "between 10m2 and 100m2"),
        ("yeah", "yeah"),  # no synonyms
        ("rural-area!", "rural area"),
    ],
)
def test_normalize_answer(raw: str, norm: str) -> None:
    assert normalize_answer(raw) == norm


def test_oa_and_aa_by_hand() -> None:
    # presence: 3 questions, 2 right; comp: 1 question, 1 right; count: excluded by default
    answers = ["yes", "No", "yes", "yes", "3"]
    targets = ["yes", "no", "no", "yes", "3"]
    types = ["presence", "presence", "presence", "comp", "count"]
    s = vqa_scores(answers, targets, types, exclude_types=("count",))
    assert s.per_type_accuracy == {"comp": 1.0, "presence": pytest.approx(2 / 3)}
    assert s.overall_accuracy == pytest.approx(3 / 4)  # over kept questions
    assert s.average_accuracy == pytest.approx((2 / 3 + 1.0) / 2)  # over kept types
    assert (s.num_questions, s.num_excluded) == (4, 1)
    kept_count = vqa_scores(answers, targets, types)  # the default keeps every type, as `eval score` does
    assert kept_count.overall_accuracy == pytest.approx(4 / 5)
    assert kept_count.per_type_count["count"] == 1


def test_everything_excluded_is_an_error() -> None:
    with pytest.raises(ValueError, match="no question left"):
        vqa_scores(["3"], ["3"], ["count"], exclude_types=("count",))


def test_rsvqa_hr_question_mix(data_root: Path) -> None:
    types, truths = rsvqa_hr(data_root)
    perfect = vqa_scores(truths, truths, types, exclude_types=("count", "area"))
    assert perfect.overall_accuracy == 1.0
    assert set(perfect.per_type_count) == {"presence", "comp"}
    # The paper's OA sits ~0.44 of the way from comparison to presence accuracy: the presence share.
    share = perfect.per_type_count["presence"] / perfect.num_questions
    assert 0.42 < share < 0.47
    always_yes = vqa_scores(["Yes"] * len(types), truths, types, exclude_types=("count", "area"))
    kept = [t for t, q in zip(truths, types, strict=True) if q not in ("count", "area")]
    assert always_yes.overall_accuracy == pytest.approx(sum(t == "yes" for t in kept) / len(kept))


def test_strict_is_rsvqa_exact_match_after_lower_casing() -> None:
    answers = ["Yes", " no ", "Yes.", "five", "1,000", "rural-area"]
    targets = ["yes", "no", "yes", "5", "1000", "rural area"]
    types = ["presence"] * 6
    strict = vqa_scores(answers, targets, types)
    assert strict.match == "strict" and strict.overall_accuracy == pytest.approx(2 / 6)
    loose = vqa_scores(answers, targets, types, match="normalized")
    assert loose.overall_accuracy == 1.0
    with pytest.raises(ValueError, match="unknown VQA match"):
        vqa_scores(answers, targets, types, match="fuzzy")  # type: ignore[arg-type]


def test_eval_score_and_vqa_scores_share_the_default(data_root: Path, tmp_path: Path) -> None:
    import json

    from earthgpt.evaluation.report import render_report
    from earthgpt.evaluation.score_predictions import score_predictions_file
    from earthgpt.evaluation.tasks import get_task, load_task

    data = load_task(get_task("rsvqa_hr_sample"), data_root)
    rows = [{"id": s.id, "text": s.answer + "." if i % 2 else s.answer.upper()} for i, s in enumerate(data.samples)]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    res = score_predictions_file("rsvqa_hr_sample", path, data_root)
    direct = vqa_scores([r["text"] for r in rows], [s.answer for s in data.samples], [s.group for s in data.samples])
    assert res.metrics["OA"] == pytest.approx(100 * direct.overall_accuracy)
    assert res.metrics["OA"] == pytest.approx(100 * sum(1 - i % 2 for i in range(len(rows))) / len(rows))
    assert res.details["answer_match"] == "strict" and "answers matched strictly" in render_report([res])
    loose = score_predictions_file("rsvqa_hr_sample", path, data_root, vqa_match="normalized")
    assert loose.metrics["OA"] == 100.0 and loose.details["answer_match"] == "normalized"
