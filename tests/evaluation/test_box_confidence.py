"""Box confidences: token log-probabilities, a CLIP score from a local checkpoint, the rank fallback, and AP."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from earthgpt.data.records import ImageRef
from earthgpt.evaluation.answerers import OracleAnswerer
from earthgpt.evaluation.box_confidence import ClipScorer, LogprobScorer, assign_scores, rank_score
from earthgpt.evaluation.harness import evaluate
from earthgpt.evaluation.task_scores import score_task
from earthgpt.evaluation.tasks import ParsedBox, Sample, TaskData, get_task, load_task
from earthgpt.geometry import HBB, LabeledBox
from earthgpt.inference.output import Generation

IMAGE = ImageRef("im.png", width=64, height=48)


def _box(label: str, span: tuple[int, int], score: float | None = None) -> ParsedBox:
    return ParsedBox(label, HBB(0, 0, 10, 10), span, score)


def _sample() -> Sample:
    return Sample("s", IMAGE, "p", "", categories=("car", "person"), objects=(LabeledBox("car", HBB(0, 0, 10, 10)),))


def test_logprob_scorer_averages_the_tokens_of_each_box() -> None:
    text = "car [0.1,0.2,0.3,0.4]; person [0.5,0.5,0.6,0.6]"
    spans = [(0, 3), (4, 22), (22, 23), (24, 30), (31, 47)]
    lps = [-0.1, -0.3, -5.0, -1.0, -2.0]
    boxes = [_box("car", (0, 22)), _box("person", (22, 47)), _box("x", (48, 60))]
    got = LogprobScorer().score(_sample(), Generation(text, lps, spans), boxes, None)
    assert got[0] == pytest.approx(-0.2)  # tokens 0-1
    assert got[1] == pytest.approx((-5.0 - 1.0 - 2.0) / 3)  # the ';' token overlaps the span, then 3-4
    assert got[2] is None  # no token there
    assert LogprobScorer().score(_sample(), Generation(text), boxes, None) == [None, None, None]


def test_scores_come_from_the_output_then_the_scorer_then_the_rank() -> None:
    boxes = [_box("car", (0, 3), score=0.7), _box("car", (4, 8)), _box("car", (50, 60))]
    counts: Counter[str] = Counter()
    resp = Generation("car car xx", [-1.0, -2.0], [(0, 3), (4, 7)])
    out = assign_scores(_sample(), resp, boxes, LogprobScorer(), None, counts)
    assert [b.score for b in out] == [0.7, -2.0, rank_score(2)]
    assert counts == {"given": 1, "logprob": 1, "rank": 1}
    assert rank_score(0) == 1.0 and rank_score(3) == 0.25


def _two_box_task(tmp_path: Path) -> TaskData:
    """One image, one car; answers hold a wrong box and the right one."""
    Image.fromarray(np.zeros((48, 64, 3), dtype=np.uint8)).save(tmp_path / "im.png")
    spec = dataclasses.replace(get_task("hit_uav_hbb"), name="two_boxes")
    gt = LabeledBox("car", HBB(8, 8, 24, 24))
    sample = Sample("s", IMAGE, "p", "", objects=(gt,), categories=("car",))
    return TaskData(spec=spec, root=tmp_path, samples=[sample])


def test_the_confidence_ranking_decides_ap(tmp_path: Path) -> None:
    data = _two_box_task(tmp_path)
    # Square 64 px: dy = 8. Wrong box first, then the right one ([8, 8, 24, 24] px -> y + 8, / 64).
    text = "car [0.500,0.500,0.700,0.700]; car [0.125,0.250,0.375,0.500]"
    spans = [(0, 30), (31, len(text))]
    right_first = Generation(text, [-3.0, -0.1], spans)
    wrong_first = Generation(text, [-0.1, -3.0], spans)
    ap_right = score_task(data, {"s": right_first}, LogprobScorer()).metrics["AP@50"]
    ap_wrong = score_task(data, {"s": wrong_first}, LogprobScorer()).metrics["AP@50"]
    assert ap_right == 100.0 and ap_wrong == 50.0  # the true positive ranked second: precision 1/2 at recall 1


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight CLIPModel and a word-level tokenizer, saved like a local checkpoint."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import CLIPConfig, CLIPModel, PreTrainedTokenizerFast

    words = ["[PAD]", "[UNK]", "[EOS]", "a", "remote", "sensing", "image", "of", "car", "person", "ship", "airplane"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    cfg = CLIPConfig(
        text_config={"vocab_size": 32, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
                     "num_attention_heads": 2, "max_position_embeddings": 16, "eos_token_id": 2, "bos_token_id": 1,
                     "pad_token_id": 0},
        vision_config={"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                       "image_size": 32, "patch_size": 16},
        projection_dim=8,
    )  # fmt: skip
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny_clip")
    CLIPModel(cfg).save_pretrained(folder)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]")
    fast.save_pretrained(folder)
    return folder


def test_clip_score_is_the_cosine_of_crop_and_prompt(tiny_clip: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "im.png")
    scorer = ClipScorer(tiny_clip)
    boxes = [ParsedBox("car", HBB(4.2, 6.0, 30.0, 20.5), (0, 1)), ParsedBox("ship", HBB(70, 60, 80, 70), (0, 1))]
    got = scorer.score(_sample(), Generation(""), boxes, tmp_path)
    assert got[1] is None  # wholly outside the image: nothing to crop
    # Reference: CLIPModel's own forward on the same crop and prompt; its logits are cosine * exp(logit_scale).
    crop = pixels[6:21, 4:30]
    enc = scorer.tokenizer(["a remote sensing image of a car"], return_tensors="pt")
    with torch.no_grad():
        out = scorer.model(**enc, pixel_values=torch.from_numpy(scorer.pixels(crop)[None]))
        expected = (out.logits_per_image[0, 0] / scorer.model.logit_scale.exp()).item()
    assert got[0] == pytest.approx(expected, abs=1e-5)


def test_clip_scorer_in_the_harness_is_named_in_the_report(tiny_clip: Path, data_root: Path, tmp_path: Path) -> None:
    spec = get_task("hrsid")
    samples = load_task(spec, data_root, 2).samples
    res = evaluate(OracleAnswerer(samples), [spec], data_root, tmp_path, 2, scorer=ClipScorer(tiny_clip), plots=False)
    task = res["tasks"]["hrsid"]
    assert task["box_scores"] == {"clip": task["counts"]["boxes"]}
    assert "CLIP score" in task["scorer"] and "CLIP score" in (tmp_path / "report.md").read_text()
    assert task["metrics"]["AP@50"] == 100.0


def test_clip_scorer_needs_a_local_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"has no config\.json"):
        ClipScorer(tmp_path)
