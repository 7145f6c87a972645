"""Visual question answering: answer normalisation, overall accuracy (OA), average accuracy (AA), per type.

Answer normalisation (``normalize_answer``), applied to the prediction and the ground truth alike:
lower case; thousands separators between digits dropped ("1,000" -> "1000"); every other punctuation
character becomes a space except a decimal point between digits ("2.5" stays); the number words
zero..twenty become digits ("five" -> "5"); whitespace collapsed. No synonyms are mapped ("yeah" is
not "yes") and nothing is extracted from longer sentences: the answer must EQUAL the ground truth
after normalisation, which is what the paper's "answer in one word or phrase" prompt asks for.

Two matching rules (``match``), one default everywhere (``vqa_scores``, the task specs, ``eval score``):

* ``"strict"`` (the default, and the protocol of the paper's tables): RSVQA's exact match after lower-casing
  (surrounding whitespace stripped, nothing else): "Yes." is not "yes", "five" is not "5". RSVQA scores a
  classifier's answer class, so any other spelling is wrong; the paper compares with RSVQA-trained models.
* ``"normalized"``: both sides through ``normalize_answer`` first. Looser (measured on perturbed real answers:
  OA 73.6 normalised vs 58.7 strict); use it to see how much a model loses to spelling alone.

RSVQA conventions (Lobry et al., TGRS 2020): OA is the accuracy over all kept questions, AA the mean
of the per-type accuracies. The EarthGPT paper's RSVQA-HR "OA" (Table VI) is the former: its OA is not
the mean of its presence and comparison accuracies (62.77 and 79.53 give 71.15, the table says 72.06),
and every row of the table puts the OA at the presence share ~0.44 of the way between them, which is
the presence share of presence + comparison questions in RSVQA-HR (1,314 / 2,956 = 0.445 in the
official samples). The paper excludes counting "following RSGPT and GeoChat"; those papers, and that
0.44 share (with area questions it would be 0.36), also leave out the area questions: the Tab. VI task
excludes ``("count", "area")`` (``TaskSpec.exclude_qtypes``). ``vqa_scores`` keeps every type by default,
as ``eval score`` does; pass ``exclude_types`` to leave types out.
"""

from __future__ import annotations

import re
import string
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["VQA_MATCH_NOTES", "VQAMatch", "VQAScores", "answers_match", "normalize_answer", "vqa_scores"]

VQAMatch = Literal["strict", "normalized"]
VQA_MATCH_NOTES: dict[str, str] = {
    "strict": "answers matched strictly: RSVQA's exact match after lower-casing (the paper's protocol)",
    "normalized": "answers matched after normalisation (punctuation to spaces, number words to digits): looser"
    " than RSVQA's exact match",
}

_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_PUNCT = re.compile(f"[{re.escape(string.punctuation)}\u2018\u2019\u201c\u201d\u2013\u2014]")
_KEEP_DOT = "\x00"


def normalize_answer(text: str) -> str:
    """The answer in canonical form: see the module docstring for the exact rules."""
    text = _THOUSANDS.sub("", text.lower())
    text = _PUNCT.sub(" ", _DECIMAL.sub(_KEEP_DOT, text)).replace(_KEEP_DOT, ".")
    return " ".join(_NUMBER_WORDS.get(w, w) for w in text.split())


def answers_match(answer: str, target: str, match: VQAMatch = "strict") -> bool:
    """Whether an answer equals the ground truth under ``match`` (see the module docstring)."""
    if match == "strict":
        return answer.strip().lower() == target.strip().lower()
    if match == "normalized":
        return normalize_answer(answer) == normalize_answer(target)
    raise ValueError(f"unknown VQA match {match!r}: expected 'strict' or 'normalized'")


@dataclass(frozen=True)
class VQAScores:
    """OA over kept questions, AA over kept types, and per-type accuracy and question counts."""

    overall_accuracy: float
    average_accuracy: float
    per_type_accuracy: dict[str, float]
    per_type_count: dict[str, int]
    num_questions: int
    num_excluded: int
    excluded_types: tuple[str, ...]
    match: str = "strict"


def vqa_scores(
    answers: Sequence[str],
    targets: Sequence[str],
    question_types: Sequence[str],
    exclude_types: Sequence[str] = (),
    match: VQAMatch = "strict",
) -> VQAScores:
    """Accuracy under ``match`` (default: RSVQA's strict rule); questions of ``exclude_types`` are left out."""
    if not len(answers) == len(targets) == len(question_types):
        raise ValueError(
            f"{len(answers)} answers, {len(targets)} targets and {len(question_types)} question types:"
            " give one of each per question"
        )
    hits: dict[str, list[bool]] = defaultdict(list)
    excluded = set(exclude_types)
    for answer, target, qtype in zip(answers, targets, question_types, strict=True):
        if qtype not in excluded:
            hits[qtype].append(answers_match(answer, target, match))
    if not hits:
        raise ValueError(f"no question left after excluding {sorted(excluded)}: check question_types")
    per_type = {t: float(np.mean(v)) for t, v in sorted(hits.items())}
    kept = sum(len(v) for v in hits.values())
    return VQAScores(
        overall_accuracy=sum(sum(v) for v in hits.values()) / kept,
        average_accuracy=float(np.mean(list(per_type.values()))),
        per_type_accuracy=per_type,
        per_type_count={t: len(v) for t, v in sorted(hits.items())},
        num_questions=kept,
        num_excluded=len(answers) - kept,
        excluded_types=tuple(sorted(excluded)),
        match=match,
    )
