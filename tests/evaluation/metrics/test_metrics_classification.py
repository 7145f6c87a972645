"""Classification metrics: the matching rule, accuracy, per-class accuracy and confusion matrix by hand."""

from __future__ import annotations

import numpy as np
import pytest

from earthgpt.evaluation.labels import label_key, match_category
from earthgpt.evaluation.metrics.classification import classification_scores

LABELS = ["airport", "baseball_diamond", "forest"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Airport.", "airport"),
        ("  AIRPORT ", "airport"),
        ("baseball diamond", "baseball_diamond"),
        ("Baseball-Diamond!", "baseball_diamond"),
        ("an airport", None),  # the rule is exact: extra words are a miss
        ("The image shows a forest.", None),
        ("", None),
        ("forests", "forest"),  # one rule with box labels: a plural s is spelling
        ("grass", None),
    ],
)
def test_match_category_is_exact_after_normalisation(answer: str, expected: str | None) -> None:
    assert match_category(answer, LABELS) == expected


def test_label_key() -> None:
    assert label_key(" Ground_Track--Field. ") == "ground track field"
    assert label_key("\u201cStorage Tanks\u201d") == "storage tank" and label_key("grass") == "grass"


def test_scores_by_hand() -> None:
    # targets: airport x2, baseball_diamond x1, forest x2
    answers = ["Airport", "forest", "baseball diamond.", "desert", "Forest!"]
    targets = ["airport", "airport", "baseball_diamond", "forest", "forest"]
    s = classification_scores(answers, targets, LABELS)
    # correct: sample 0, 2, 4 -> 3 / 5
    assert s.accuracy == pytest.approx(3 / 5)
    assert s.per_class_accuracy == {"airport": 0.5, "baseball_diamond": 1.0, "forest": 0.5}
    expected = np.array([[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 1, 1]])  # last column: named no category
    np.testing.assert_array_equal(s.confusion, expected)
    assert s.num_unmatched == 1
    assert s.mean_class_accuracy == pytest.approx((0.5 + 1.0 + 0.5) / 3)


def test_class_without_samples_is_none() -> None:
    s = classification_scores(["airport"], ["airport"], LABELS)
    assert s.per_class_accuracy["forest"] is None
    assert s.mean_class_accuracy == 1.0


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="not in the label list"):
        classification_scores(["airport"], ["desert"], LABELS)
    with pytest.raises(ValueError, match="one answer per sample"):
        classification_scores(["airport"], [], LABELS)
    with pytest.raises(ValueError, match="collide"):
        classification_scores(["a"], ["a b"], ["a_b", "a-b"])
