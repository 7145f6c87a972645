"""Caption metrics: hand-computed BLEU/ROUGE-L/CIDEr-D, tokenisation and scores equal to pycocoevalcap."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.rouge.rouge import Rouge
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

from earthgpt.evaluation.metrics import coco_java
from earthgpt.evaluation.metrics.caption import SPICE_NOTE, TOKENIZER_NOTES, bleu, caption_scores, cider_d, rouge_l
from earthgpt.evaluation.metrics.coco_java import MeteorScorer, corenlp_tokenize
from earthgpt.evaluation.metrics.ptb_tokenizer import coco_tokenize, ptb_tokens

from .real_data import rsicd_captions

# Captions as a model writes them: capitals, attached punctuation, clitics, numbers, brackets, quotes.
MODEL_STYLE = [
    "The image shows a large airport with several airplanes parked near the terminal buildings.",
    "There are 12 planes, 3 runways and a control tower; the apron is gray.",
    "It's a dense residential area, and the buildings aren't very tall.",
    "This is an industrial area: there are factories, storage tanks, etc. The roads are wide.",
    "The river's banks are covered with trees (mostly deciduous) and grass.",
    "A U-shaped building, an L-shaped pool and a T-junction are visible.",
    "The farmland is divided into plots, e.g., wheat fields, corn fields and orchards.",
    "Approximately 25% of the scene is covered by water, i.e. a lake.",
    'Several cars are parked near the "main" building.',
    "There's a baseball diamond next to two tennis courts.",
    "The port has about 1,200 containers and 5 cranes.",
    "Ships are docked at the harbor... some are moving.",
    "Is there a church? Yes, there is one near the square!",
    "The area is about 3.5km wide and 2 km long.",
    "A highway interchange with ramps/loops connects the roads.",
    "The houses' roofs are red, and the trees' leaves are green.",
    "In zone A. The planes are parked.",
    "The U.S. airport is located near the coast.",
    "The buildings (white and gray) are arranged in rows [see the left part].",
    "The image was taken in the '90s at 10:30 a.m.",
    "Two ships -- one large, one small -- are in the harbor.",
    "The image shows a \u201cviaduct\u201d with \u2018many\u2019 cars \u2013 it\u2019s busy.",
    "The desert's dunes are yellow & brown.",
    "THE IMAGE SHOWS A FOREST.",
    "Many green trees are around a building.There is a road nearby.",
    "Many planes are near the terminal,and several cars are on the road.",
    "A baseball_diamond and a ground_track_field are visible.",
    "The ship is ~200 m long; I'm not sure, but it could be a stadium.",
    "He'd say it's a meadow; she'll say it's a farm, won't she?",
    "The 1st, 2nd and 3rd buildings from the left are the tallest.",
    "There are 2-3 boats near the pier, 3 1/2 miles away.",
    "It doesn't look like a port.",
    "cannot gonna wanna",
    "the image shows a residential area with many houses and trees",
]


@pytest.fixture(scope="module")
def rsicd(data_root: Path) -> dict[str, list[str]]:
    return rsicd_captions(data_root)


def _model_style_variants(captions: list[str]) -> list[str]:
    """RSICD captions rewritten as a model would print them: capitalised, punctuation attached, joined."""
    out = []
    for i, c in enumerate(captions):
        t = " ".join(c.split()).replace(" .", ".").replace(" ,", ",")
        out.append(t[:1].upper() + t[1:])
        if i % 2:
            out.append(out[-2] + " " + out[-1])
    return out


# ------------------------------------------------------------------------------ tokenisation


def test_tokenizer_by_hand() -> None:
    assert coco_tokenize(["It's a U-shaped building (white), isn't it?"]) == [
        "it 's a u-shaped building -lrb- white -rrb- is n't it"  # coco-caption keeps -lrb-/-rrb-
    ]
    assert coco_tokenize(["In zone A. The planes, etc. Cars."]) == ["in zone a the planes etc. cars"]
    assert coco_tokenize(["Two ships \u2014 one large.", "cannot"]) == ["two ships one large", "can not"]
    assert ptb_tokens(["3 1/2 miles"]) == [["3\u00a01/2", "miles"]]


def test_tokenizer_equals_corenlp_on_rsicd(rsicd: dict[str, list[str]]) -> None:
    captions = [c for caps in rsicd.values() for c in caps]
    lines = captions + _model_style_variants(captions[::3])
    assert ptb_tokens(lines) == corenlp_tokenize(lines)  # token for token, punctuation included


def test_tokenizer_equals_corenlp_on_model_style_text() -> None:
    lines = MODEL_STYLE + [c.upper() for c in MODEL_STYLE]
    assert ptb_tokens(lines) == corenlp_tokenize(lines)


# ---------------------------------------------------------------------------------- by hand


def test_bleu_by_hand() -> None:
    b1, b2, b3, b4 = bleu(["a b c d"], [["a b c e"]])
    # precisions 3/4, 2/3, 1/2, 0/1; equal lengths: no brevity penalty
    assert b1 == pytest.approx(3 / 4)
    assert b2 == pytest.approx(math.sqrt(3 / 4 * 2 / 3))
    assert b3 == pytest.approx((3 / 4 * 2 / 3 * 1 / 2) ** (1 / 3))
    assert b4 == pytest.approx((3 / 4 * 2 / 3 * 1 / 2 * 1e-15) ** (1 / 4))  # coco-caption's smoothing
    # brevity penalty exp(1 - r / c): c = 2, closest reference r = 4
    assert bleu(["a b"], [["a b c d"]])[0] == pytest.approx(math.exp(1 - 4 / 2))
    # candidate of 3 words, references of 2 and 4: tie, the shorter one counts -> no penalty
    assert bleu(["a b c"], [["a b", "a b c d"]])[0] == pytest.approx(1.0)


def test_rouge_l_by_hand() -> None:
    # LCS("a b c d", "a c d e f") = 3: P = 3/4, R = 3/5, F_beta with beta = 1.2
    p, r, beta2 = 3 / 4, 3 / 5, 1.2**2
    assert rouge_l(["a b c d"], [["a c d e f"]])[0] == pytest.approx((1 + beta2) * p * r / (r + beta2 * p))
    # best precision and best recall are taken over references separately
    assert rouge_l(["a b"], [["a", "a b c d"]])[0] == pytest.approx((1 + beta2) * 1 * 1 / (1 + beta2 * 1))
    assert rouge_l([""], [["a b"]]) == [0.0]


def test_cider_d_by_hand() -> None:
    # Two images; each n-gram is in one image's references: idf = log 2 for all.
    # "a" vs "a": unigram cosine 1, no higher-order grams -> mean over n = 1/4, x10 = 2.5
    assert cider_d(["a", "b"], [["a"], ["b"]]) == pytest.approx([2.5, 2.5])
    # "x" is in every image's references: idf 0, it adds nothing; the bigram "a x" adds a cosine of 1
    assert cider_d(["a x", "b x"], [["a x"], ["b x"]]) == pytest.approx([5.0, 5.0])
    # clipping: candidate "a a" weight 2 log 2 is clipped to the reference's log 2 -> cosine 1/2;
    # length penalty exp(-(2 - 1)^2 / (2 * 6^2))
    got = cider_d(["a a", "b"], [["a"], ["b"]])[0]
    assert got == pytest.approx(10 * 0.5 * math.exp(-1 / 72) / 4)


def test_spice_is_reported_missing_and_java_errors_name_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    s = caption_scores({"1": "a road"}, {"1": ["a road", "a long road"]}, meteor=False)
    assert s.spice is None and SPICE_NOTE in s.notes and s.meteor is None
    assert s.as_dict()["SPICE"] is None
    monkeypatch.setattr(coco_java.shutil, "which", lambda _: None)
    with pytest.raises(RuntimeError, match="apt-get install default-jre-headless"):
        MeteorScorer()
    with pytest.raises(ValueError, match="same images"):
        caption_scores({"1": "a"}, {"2": ["a"]}, meteor=False)


# ------------------------------------------------------------------------ equal to pycocoevalcap


def _reference_scores(gts: dict, res: dict) -> dict[str, float]:
    out = dict(
        zip(("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4"), Bleu(4).compute_score(gts, res, verbose=0)[0], strict=True)
    )
    out["ROUGE_L"] = Rouge().compute_score(gts, res)[0]
    out["CIDEr"] = Cider().compute_score(gts, res)[0]
    return out


def _our_scores(hyps: list[str], refs: list[list[str]]) -> dict[str, float]:
    out = dict(zip(("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4"), bleu(hyps, refs), strict=True))
    out["ROUGE_L"] = sum(rouge_l(hyps, refs)) / len(hyps)
    out["CIDEr"] = sum(cider_d(hyps, refs)) / len(hyps)
    return out


WORDS = [
    "a",
    "an",
    "the",
    "two",
    "many",
    "green",
    "trees",
    "buildings",
    "road",
    "river",
    "is",
    "are",
    "near",
    "with",
    "of",
    "and",
    "in",
    "large",
    "small",
]
sentence = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(sentence, st.lists(sentence, min_size=1, max_size=5)), min_size=1, max_size=12))
def test_scorers_equal_pycocoevalcap_on_random_sets(data: list[tuple[str, list[str]]]) -> None:
    hyps = [h for h, _ in data]
    refs = [r for _, r in data]
    ref = _reference_scores({i: r for i, r in enumerate(refs)}, {i: [h] for i, h in enumerate(hyps)})
    ours = _our_scores(hyps, refs)
    for name, value in ref.items():
        assert ours[name] == pytest.approx(value, rel=1e-12, abs=1e-15), name


def _rsicd_sets(rsicd: dict[str, list[str]]) -> Iterator[tuple[dict[str, str], dict[str, list[str]]]]:
    """Prediction/reference sets from real captions: own caption, another image's, model-style rewrites."""
    ids = sorted(rsicd)
    rng = random.Random(0)
    for k in range(3):
        sample = rng.sample(ids, 150)
        refs = {i: rsicd[i][1:] for i in sample}
        if k == 0:
            preds = {i: rsicd[i][0] for i in sample}
        elif k == 1:
            preds = {i: rsicd[rng.choice(ids)][0] for i in sample}
        else:
            preds = {i: _model_style_variants([rsicd[i][0]])[0] for i in sample}
        yield preds, refs


def test_caption_scores_equal_pycocoevalcap_on_rsicd(rsicd: dict[str, list[str]]) -> None:
    tokenizer = PTBTokenizer()
    for preds, refs in _rsicd_sets(rsicd):
        gts = tokenizer.tokenize({i: [{"caption": c} for c in refs[i]] for i in refs})
        res = tokenizer.tokenize({i: [{"caption": preds[i]}] for i in refs})
        want = _reference_scores(gts, res)
        got = caption_scores(preds, refs, meteor=False).as_dict()
        for name, value in want.items():
            assert got[name] == pytest.approx(value, rel=1e-12), name


def test_meteor_equals_pycocoevalcap(rsicd: dict[str, list[str]]) -> None:
    # Loading METEOR's paraphrase table takes tens of seconds, so pycocoevalcap's Meteor wrapper drives
    # the same jar process as ours: the jar is the metric; the two wrappers' protocols are compared.
    with MeteorScorer() as ours:
        reference = object.__new__(Meteor)
        reference.meteor_p = ours._proc
        reference.lock = threading.Lock()
        preds, refs = next(_rsicd_sets(rsicd))
        tokenizer = PTBTokenizer()
        gts = tokenizer.tokenize({i: [{"caption": c} for c in refs[i]] for i in refs})
        res = tokenizer.tokenize({i: [{"caption": preds[i]}] for i in refs})
        want, want_per_image = Meteor.compute_score(reference, gts, res)
        got = caption_scores(preds, refs, meteor=ours)
        assert got.meteor == pytest.approx(want, rel=1e-12)
        assert [got.per_image[i]["METEOR"] for i in refs] == pytest.approx(want_per_image, rel=1e-12)
        assert 0.0 < got.meteor < 1.0
        # a caption against itself scores (nearly) 1, a caption of another scene much lower
        own = caption_scores(
            {"x": "many green trees are around a square"},
            {"x": ["many green trees are around a square ."]},
            meteor=ours,
        )
        assert own.meteor is not None and own.meteor > 0.9


# --------------------------------------------------------------- unicode classes against the jar

_FRACTIONS = [chr(c) for c in [*range(0xBC, 0xBF), *range(0x2150, 0x2183), *range(0x2185, 0x2190)]]
_COMBINING = [chr(c) for c in [*range(0x300, 0x370), *range(0x483, 0x488)]]
_QUOTES = [chr(c) for c in [*range(0x2018, 0x2020), 0x2039, 0x203A, 0xAB, 0xBB, 0x27, 0x22, 0x60]]
_PARTS = ["the", "Runway", "it", "s", "3", "12", "boats", "don", "t", "a", "U.S", "mile", "-", ".", ",", "1/2", "e"]


def _unicode_lines(n: int, seed: int) -> list[str]:
    """Caption-like lines mixing words with vulgar fractions and number forms, combining marks and quotes."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 8)):
            r, w = rng.random(), rng.choice(_PARTS)
            if r < 0.3:
                w = w[: rng.randint(0, len(w))] + rng.choice(_COMBINING) + w[rng.randint(0, len(w)) :]
            elif r < 0.5:
                w = rng.choice(["", w]) + rng.choice(_FRACTIONS) + rng.choice(["", w, " "])
            elif r < 0.7:
                q = rng.choice(_QUOTES)
                w = rng.choice([q + w, w + q, q + w + rng.choice(_QUOTES), q])
            parts.append(w)
        out.append(rng.choice([" ", ""]).join(parts) if rng.random() < 0.2 else " ".join(parts))
    return out


def test_tokenizer_equals_corenlp_on_generated_unicode() -> None:
    lines = _unicode_lines(3000, seed=7)
    assert ptb_tokens(lines) == corenlp_tokenize(lines)


def test_unicode_classes_by_hand() -> None:
    assert ptb_tokens(["a \u00bd mile, 3\u00bd boats, \u2155 x"]) == [
        ["a", "1/2", "mile", ",", "3", "1/2", "boats", ",", "\u2155", "x"]
    ]
    assert ptb_tokens(["cafe\u0301 e\u0301-e\u0301"]) == [["cafe\u0301", "e\u0301", "-", "e\u0301"]]
    assert ptb_tokens(["\u201c\u2018a\u2019\u2019 \u2019mile \u201812"]) == [["```", "a", "''", "'m", "ile", "`", "12"]]


def test_the_result_says_which_tokenizer_scored_it() -> None:
    preds, refs = {"a": "a \u00bd mile runway"}, {"a": ["a half mile runway", "a runway"]}
    python = caption_scores(preds, refs, meteor=False)
    jar = caption_scores(preds, refs, meteor=False, engine="corenlp")
    assert python.notes[0] == TOKENIZER_NOTES["python"] and jar.notes[0] == TOKENIZER_NOTES["corenlp"]
    assert python.bleu == jar.bleu  # "1/2" both ways
