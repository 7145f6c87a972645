"""`make demo`: build the quickstart corpus from real data, train a tiny EarthGPT, and chat about held-out images."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from earthgpt.data.corpus import build, iter_records, load_config
from earthgpt.data.instructions import templates as T
from earthgpt.data.records import DetectionRecord, SceneRecord
from earthgpt.evaluation.answerers import ModelAnswerer
from earthgpt.evaluation.harness import evaluate
from earthgpt.inference.chat import chat
from earthgpt.inference.predictor import Predictor
from earthgpt.pipeline import TrainRun, train_from_build

log = logging.getLogger(__name__)

CONFIG = Path(__file__).resolve().parent / "configs" / "quickstart.yaml"
DEMO_STEPS = 200
DEMO_MAX_LENGTH = 640  # tokens per conversation: the few very dense frames beyond it are not trained (fit says so)
DEMO_ANSWER_TOKENS = DEMO_MAX_LENGTH  # covers every answer the model trained on (a box costs about 26 tokens)


def run_demo(data_root: str | Path, out: str | Path, steps: int | None = None) -> Iterator[str]:
    """Build (or resume) the quickstart corpus, train a tiny model unless ``out/model`` holds one, then ask it about
    a held-out RSSCN7 scene and a held-out HIT-UAV infrared frame. Yields the lines to print."""
    out = Path(out)
    root = Path(data_root)
    if not root.is_dir():
        raise FileNotFoundError(f"data root {root} not found: pass --data (or set EARTHGPT_DATA) to the shared data")
    config = load_config(CONFIG, data_root=root.resolve(), out_dir=out / "data")
    result = build(config)
    yield f"corpus: {result.conversations} conversations in {out / 'data'}"
    model_dir = out / "model"
    if (model_dir / "model.safetensors").is_file():
        yield f"model: reusing {model_dir}"
    else:
        run = train_from_build(
            TrainRun(
                build=str(out / "data"),
                out=str(model_dir),
                max_length=DEMO_MAX_LENGTH,
                train={"max_steps": steps or DEMO_STEPS},
            )
        )
        yield f"model: trained {len(run.losses)} steps, loss {run.losses[0]:.3f} -> {run.losses[-1]:.3f}"
    metrics = evaluate(
        ModelAnswerer(Predictor.load(model_dir, max_new_tokens=16)), "rsscn7", root, out / "eval", plots=False
    )["tasks"]["rsscn7"]
    top1, n = metrics["metrics"]["top1"], metrics["counts"]["samples"]
    yield f"held-out RSSCN7 top-1: {top1:.1f}% on {n} test images (chance {100 / 7:.1f}%); report in {out / 'eval'}"
    scene = next(r for r in iter_records(out / "data", split="test") if isinstance(r, SceneRecord))
    frame = next(r for r in iter_records(out / "data", split="val") if isinstance(r, DetectionRecord))
    question = T.classify_prompt(scene.categories)
    for q, a in chat(model_dir, scene.image.resolve(root), [question], max_new_tokens=DEMO_ANSWER_TOKENS):
        yield f"\nimage: {scene.image.path} (truth: {scene.label})\nUSER: {q}\nEARTHGPT: {a}"
    png = out / "detection.png"
    for q, a in chat(model_dir, frame.image.resolve(root), [T.DETECT_HBB], draw=png, max_new_tokens=DEMO_ANSWER_TOKENS):
        yield f"\nimage: {frame.image.path} ({len(frame.objects)} objects)\nUSER: {q}\nEARTHGPT: {a}\nboxes drawn: {png}"
