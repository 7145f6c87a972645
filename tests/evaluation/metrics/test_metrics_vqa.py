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
    s = vqa_scores(answers, targets, types)
    assert s.per_type_accuracy == {"comp": 1.0, "presence": pytest.approx(2 / 3)}
    assert s.overall_accuracy == pytest.approx(3 / 4)  # over kept questions
    assert s.average_accuracy == pytest.approx((2 / 3 + 1.0) / 2)  # over kept types
    assert (s.num_questions, s.num_excluded) == (4, 1)
    kept_count = vqa_scores(answers, targets, types, exclude_types=())
    assert kept_count.overall_accuracy == pytest.approx(4 / 5)
    assert kept_count.per_type_count["count"] == 1


def test_everything_excluded_is_an_error() -> None:
    with pytest.raises(ValueError, match="no question left"):
        vqa_scores(["3"], ["3"], ["count"])


def test_rsvqa_hr_question_mix(data_root: Path) -> None:
    types, truths = rsvqa_hr(data_root)
    perfect = vqa_scores(truths, truths, types)
    assert perfect.overall_accuracy == 1.0
    assert set(perfect.per_type_count) == {"presence", "comp"}
    # The paper's OA sits ~0.44 of the way from comparison to presence accuracy: the presence share.
    share = perfect.per_type_count["presence"] / perfect.num_questions
    assert 0.42 < share < 0.47
    always_yes = vqa_scores(["Yes"] * len(types), truths, types)
    kept = [t for t, q in zip(truths, types, strict=True) if q not in ("count", "area")]
    assert always_yes.overall_accuracy == pytest.approx(sum(t == "yes" for t in kept) / len(kept))
