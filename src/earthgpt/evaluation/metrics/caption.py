"""Caption metrics as coco-caption computes them: BLEU-1..4, METEOR, ROUGE-L, CIDEr-D (SPICE reported missing).

Every caption is first tokenised the coco-caption way (``ptb_tokenizer``: PTB tokens, lower case,
punctuation dropped). BLEU, ROUGE-L and CIDEr-D are written here from their published definitions,
with the choices coco-caption made, so the numbers equal ``pycocoevalcap`` on the same inputs:

- BLEU (Papineni et al. 2002): corpus level. Clipped n-gram counts and candidate lengths are summed
  over images; the reference length of an image is the reference closest in length to the candidate
  (the shorter one on a tie); brevity penalty exp(1 - r/c) when c < r. coco-caption adds 1e-15 to
  numerators and 1e-9 to denominators, which we keep.
- ROUGE-L (Lin 2004): per image, LCS precision and recall against each reference, the best precision
  and the best recall combined as an F-measure with beta = 1.2; the score is the mean over images.
- CIDEr-D (Vedantam et al. 2015): TF-IDF n-gram vectors (n = 1..4), document frequency counted over
  the images' reference sets, candidate weights clipped to the reference's, a Gaussian length penalty
  with sigma = 6, cosine similarity averaged over n and references, times 10; mean over images.
- METEOR 1.5 is the reference jar run as coco-caption runs it (``coco_java.MeteorScorer``).
- SPICE needs the Stanford CoreNLP models, which it downloads at run time: not computed offline; the
  result says so in ``notes`` instead of omitting it silently.

As in coco-caption, BLEU and CIDEr-D split a tokenised caption on any whitespace, ROUGE-L on single
spaces; they differ only for PTB tokens that hold a non-breaking space (fractions such as ``3 1/2``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from earthgpt.evaluation.metrics.coco_java import MeteorScorer, corenlp_tokenize
from earthgpt.evaluation.metrics.ptb_tokenizer import REMOVED_PUNCTUATION, coco_tokenize

__all__ = ["SPICE_NOTE", "CaptionScores", "bleu", "caption_scores", "cider_d", "rouge_l", "tokenize_captions"]

SPICE_NOTE = "SPICE not computed: needs Stanford CoreNLP models, unavailable offline"
TOKENIZER_NOTES = {
    "python": "tokenizer: python PTB rules (ptb_tokenizer; equal to the CoreNLP 3.4.1 jar on RSICD, model-style"
    " text, vulgar fractions, combining accents and curly quotes; other unicode may differ: use engine='corenlp')",
    "corenlp": "tokenizer: the CoreNLP 3.4.1 PTBTokenizer jar, as coco-caption runs it",
}
_TINY = 1e-15  # coco-caption's smoothing of BLEU numerators
_SMALL = 1e-9  # and of its denominators


@dataclass(frozen=True)
class CaptionScores:
    """Corpus caption scores (fractions in [0, 1], CIDEr-D in [0, 10]) and per-image ROUGE-L/CIDEr-D/METEOR."""

    bleu: tuple[float, float, float, float]
    meteor: float | None
    rouge_l: float
    cider_d: float
    spice: float | None = None
    per_image: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: tuple[str, ...] = (SPICE_NOTE,)

    def as_dict(self) -> dict[str, float | None]:
        """The scores under coco-caption's names (Bleu_1..4, METEOR, ROUGE_L, CIDEr, SPICE)."""
        out: dict[str, float | None] = {f"Bleu_{n + 1}": v for n, v in enumerate(self.bleu)}
        out.update({"METEOR": self.meteor, "ROUGE_L": self.rouge_l, "CIDEr": self.cider_d, "SPICE": self.spice})
        return out


def _ngrams(words: Sequence[str], n_max: int = 4) -> Counter[tuple[str, ...]]:
    """Counts of every 1..n_max-gram, inserted n by n and left to right."""
    counts: Counter[tuple[str, ...]] = Counter()
    for n in range(1, n_max + 1):
        for i in range(len(words) - n + 1):
            counts[tuple(words[i : i + n])] += 1
    return counts


def bleu(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> tuple[float, float, float, float]:
    """Corpus BLEU-1..4 of tokenised hypotheses (one per image) against their tokenised references."""
    correct, guess = [0] * 4, [0] * 4
    test_len, ref_len = 0, 0
    for hyp, refs in zip(hypotheses, references, strict=True):
        words = hyp.split()
        max_ref: dict[tuple[str, ...], int] = {}
        for ref in refs:
            for gram, count in _ngrams(ref.split()).items():
                max_ref[gram] = max(max_ref.get(gram, 0), count)
        for gram, count in _ngrams(words).items():
            correct[len(gram) - 1] += min(max_ref.get(gram, 0), count)
        for n in range(4):
            guess[n] += max(0, len(words) - n)
        test_len += len(words)
        ref_len += min((abs(len(r.split()) - len(words)), len(r.split())) for r in refs)[1]
    scores, product = [], 1.0
    for n in range(4):
        product *= (correct[n] + _TINY) / (guess[n] + _SMALL)
        scores.append(product ** (1.0 / (n + 1)))
    ratio = (test_len + _TINY) / (ref_len + _SMALL)
    if ratio < 1:
        scores = [s * math.exp(1 - 1 / ratio) for s in scores]
    return (scores[0], scores[1], scores[2], scores[3])


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists."""
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(hypotheses: Sequence[str], references: Sequence[Sequence[str]], beta: float = 1.2) -> list[float]:
    """Per-image ROUGE-L F-measure (best LCS precision and best LCS recall over the references)."""
    out = []
    for hyp, refs in zip(hypotheses, references, strict=True):
        cand = hyp.split(" ")
        lcs = [_lcs(ref.split(" "), cand) for ref in refs]
        prec = max(n / len(cand) for n in lcs)
        rec = max(n / len(ref.split(" ")) for n, ref in zip(lcs, refs, strict=True))
        out.append(((1 + beta**2) * prec * rec) / (rec + beta**2 * prec) if prec and rec else 0.0)
    return out


_Gram = tuple[str, ...]


def _tfidf(
    counts: Counter[_Gram], df: Mapping[_Gram, float], log_n: float
) -> tuple[list[dict[_Gram, float]], list[float], int]:
    """TF-IDF vector per n-gram order, its norms, and the caption length in words."""
    vec: list[dict[tuple[str, ...], float]] = [{} for _ in range(4)]
    norm = [0.0] * 4
    for gram, tf in counts.items():
        n = len(gram) - 1
        vec[n][gram] = float(tf) * (log_n - math.log(max(1.0, df.get(gram, 0.0))))
        norm[n] += vec[n][gram] ** 2
    length = sum(tf for gram, tf in counts.items() if len(gram) == 1)
    return vec, [math.sqrt(v) for v in norm], length


def cider_d(hypotheses: Sequence[str], references: Sequence[Sequence[str]], sigma: float = 6.0) -> list[float]:
    """Per-image CIDEr-D; the corpus score is their mean. Document frequencies come from the references."""
    hyp_counts = [_ngrams(h.split()) for h in hypotheses]
    ref_counts = [[_ngrams(r.split()) for r in refs] for refs in references]
    df: Counter[tuple[str, ...]] = Counter()
    for refs in ref_counts:
        df.update({gram for counts in refs for gram in counts})
    log_n = math.log(float(len(ref_counts)))
    out = []
    for hyp, refs in zip(hyp_counts, ref_counts, strict=True):
        vec_h, norm_h, len_h = _tfidf(hyp, df, log_n)
        total = np.zeros(4)
        for ref in refs:
            vec_r, norm_r, len_r = _tfidf(ref, df, log_n)
            sim = np.zeros(4)
            for n in range(4):
                for gram, weight in vec_h[n].items():  # clipping: a candidate n-gram counts at most the reference's
                    sim[n] += min(weight, vec_r[n].get(gram, 0.0)) * vec_r[n].get(gram, 0.0)
                if norm_h[n] != 0 and norm_r[n] != 0:
                    sim[n] /= norm_h[n] * norm_r[n]
                sim[n] *= math.e ** (-(float(len_h - len_r) ** 2) / (2 * sigma**2))
            total += sim
        out.append(float(np.mean(total)) / len(refs) * 10.0)
    return out


def tokenize_captions(captions: Sequence[str], engine: Literal["python", "corenlp"] = "python") -> list[str]:
    """coco-caption tokenisation of captions tokenised together (one file): the python rules or the jar."""
    if engine == "python":
        return coco_tokenize(captions)
    if engine == "corenlp":
        return [" ".join(t for t in line if t not in REMOVED_PUNCTUATION) for line in corenlp_tokenize(captions)]
    raise ValueError(f"unknown tokenizer engine {engine!r}: expected 'python' or 'corenlp'")


def _check_ids(predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]) -> list[str]:
    missing = [k for k in references if k not in predictions]
    extra = [k for k in predictions if k not in references]
    if missing or extra:
        raise ValueError(
            f"predictions and references must cover the same images: {len(missing)} without a prediction"
            f" (e.g. {missing[:3]}), {len(extra)} without references (e.g. {extra[:3]})"
        )
    empty = [k for k, refs in references.items() if not refs]
    if empty:
        raise ValueError(f"images without reference captions, e.g. {empty[:3]}: give each at least one")
    return list(references)


def caption_scores(
    predictions: Mapping[str, str],
    references: Mapping[str, Sequence[str]],
    *,
    meteor: MeteorScorer | bool = True,
    engine: Literal["python", "corenlp"] = "python",
) -> CaptionScores:
    """BLEU-1..4, METEOR, ROUGE-L and CIDEr-D of one predicted caption per image against its references.

    Images are taken in the order of ``references``. ``meteor`` is a running ``MeteorScorer`` to reuse,
    True to start one for this call (tens of seconds), or False to skip METEOR (``meteor=None`` in the
    result, with a note). ``engine="corenlp"`` tokenises with the CoreNLP jar instead of the python rules.
    """
    ids = _check_ids(predictions, references)
    hyps = tokenize_captions([predictions[k] for k in ids], engine)
    flat = tokenize_captions([c for k in ids for c in references[k]], engine)
    refs, start = [], 0
    for k in ids:
        refs.append(flat[start : start + len(references[k])])
        start += len(references[k])
    rouge, cider = rouge_l(hyps, refs), cider_d(hyps, refs)
    per_image = {k: {"ROUGE_L": r, "CIDEr": c} for k, r, c in zip(ids, rouge, cider, strict=True)}
    notes = [TOKENIZER_NOTES[engine], SPICE_NOTE]
    meteor_score: float | None = None
    if meteor is False:
        notes.append("METEOR not computed: disabled by the caller")
    else:
        scorer = meteor if isinstance(meteor, MeteorScorer) else MeteorScorer()
        try:
            meteor_score, per_meteor = scorer.score(hyps, refs)
        finally:
            if scorer is not meteor:
                scorer.close()
        for k, m in zip(ids, per_meteor, strict=True):
            per_image[k]["METEOR"] = m
    return CaptionScores(
        bleu=bleu(hyps, refs),
        meteor=meteor_score,
        rouge_l=float(np.mean(np.array(rouge))),
        cider_d=float(np.mean(np.array(cider))),
        per_image=per_image,
        notes=tuple(notes),
    )
