"""Scene classification: answer matching, top-1 accuracy, per-class accuracy and the confusion matrix.

Answer matching rule (the paper asks the model for "one word or phrase" naming a category): the answer
matches a category when their ``earthgpt.evaluation.labels.label_key`` are EQUAL (lower case, punctuation
including ``_`` and ``-`` as spaces, a plural ``s`` dropped), so "Baseball_Diamond." and "baseball diamonds"
name "baseball diamond". An answer that names no category (a sentence, a synonym, an empty string) is a miss
and is counted as a prediction of no class (the extra last column of the confusion matrix). Nothing is
extracted from longer text, so the rule cannot flatter a model beyond spelling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from earthgpt.evaluation.labels import label_key, match_category

__all__ = ["ClassificationScores", "classification_scores"]


@dataclass(frozen=True)
class ClassificationScores:
    """Top-1 accuracy, per-class accuracy (recall) and the confusion matrix.

    ``confusion[i, j]`` counts samples of true class ``labels[i]`` predicted as ``labels[j]``; the last
    column ``j = len(labels)`` counts answers that named no category.
    """

    labels: tuple[str, ...]
    accuracy: float
    per_class_accuracy: dict[str, float | None]
    confusion: np.ndarray  # [C, C + 1]
    num_samples: int
    num_unmatched: int

    @property
    def mean_class_accuracy(self) -> float:
        """Mean of the per-class accuracies over classes that have samples."""
        vals = [v for v in self.per_class_accuracy.values() if v is not None]
        return float(np.mean(vals)) if vals else 0.0


def classification_scores(
    answers: Sequence[str], targets: Sequence[str], labels: Sequence[str]
) -> ClassificationScores:
    """Score free-text answers against target category names over the given label list."""
    if len(answers) != len(targets):
        raise ValueError(f"{len(answers)} answers but {len(targets)} targets: give one answer per sample")
    if not answers:
        raise ValueError("no samples to score")
    norm = [label_key(lab) for lab in labels]
    if len(set(norm)) != len(norm):
        raise ValueError(f"labels collide after normalisation: {labels}; make the category names distinct")
    index = {lab: i for i, lab in enumerate(labels)}
    confusion = np.zeros((len(labels), len(labels) + 1), dtype=np.int64)  # [C, C + 1]
    for answer, target in zip(answers, targets, strict=True):
        t = match_category(target, labels)
        if t is None:
            raise ValueError(f"target {target!r} is not in the label list; add it to labels")
        p = match_category(answer, labels)
        confusion[index[t], len(labels) if p is None else index[p]] += 1
    per_class: dict[str, float | None] = {}
    for i, lab in enumerate(labels):
        n = int(confusion[i].sum())
        per_class[lab] = float(confusion[i, i]) / n if n else None
    correct = int(np.trace(confusion[:, : len(labels)]))
    return ClassificationScores(
        labels=tuple(labels),
        accuracy=correct / len(answers),
        per_class_accuracy=per_class,
        confusion=confusion,
        num_samples=len(answers),
        num_unmatched=int(confusion[:, -1].sum()),
    )
