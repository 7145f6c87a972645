"""`make demo`: the shipped tiny EarthGPT answers about held-out real images in seconds; ``--train`` retrains it.

The default path loads the shipped model (``models.shipped.default_model_dir``) and asks it, with the truth beside
each answer, to classify a held-out RSSCN7 scene, to answer a held-out RSVQA-LR question and to detect the objects
of a held-out HIT-UAV thermal frame (boxes drawn to ``out/detection.png``). The samples are read from the data root
by the evaluation tasks (their held-out splits), so the demo needs no corpus. ``--train`` rebuilds the shipped
recipe's corpus (``configs/data/tiny.yaml``) in ``out/data``, trains its phases (``TRAIN_CONFIGS``: from scratch in
``out/train``, then continued in ``out/train-2``; rerunning continues each from its newest checkpoint), ships the
last to ``out/model`` and asks that model the same.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path

from earthgpt.data.corpus import build, load_config
from earthgpt.evaluation.tasks import TASKS, get_task
from earthgpt.evaluation.tasks.load import load_task
from earthgpt.evaluation.tasks.spec import Sample
from earthgpt.inference.chat import answer_boxes, draw_answers, read_input_image
from earthgpt.inference.predictor import Predictor
from earthgpt.models.shipped import repo_root, resolve_model, ship_model
from earthgpt.pipeline import load_train_run, train_from_build

log = logging.getLogger(__name__)

DATA_CONFIG = Path("configs/data/tiny.yaml")
"""The shipped model's corpus recipe, relative to the repository root."""
TRAIN_CONFIGS = (Path("configs/train/tiny.yaml"), Path("configs/train/tiny-more.yaml"))
"""The shipped model's training phases, relative to the repository root: from random weights, then continued (each
phase after the first starts from the one before it, ``init``)."""
SCENE_TASK = "rsscn7"
"""RSSCN7 test split (a hash split the recipe does not train on)."""
VQA_TASK = "rsvqa_lr_dev" if "rsvqa_lr_dev" in TASKS else "rsvqa_lr_sample"
"""RSVQA-LR: the held-out dev images of the website samples where that task exists, else the samples themselves."""
DETECT_TASK = "hit_uav_hbb"
"""HIT-UAV val split, horizontal boxes."""
ANSWER_TOKENS = 768
"""Token budget of each demo answer: longer than any answer of the shipped recipe (its max_length)."""


def _recipe(path: Path | None, default: Path) -> Path:
    chosen = path if path is not None else repo_root() / default
    if not chosen.is_file():
        raise FileNotFoundError(
            f"{chosen}: the recipe `earthgpt demo --train` uses is missing; run it from a checkout of the repository "
            f"(it holds {default}) or pass the config"
        )
    return chosen


def retrain(
    data_root: Path,
    out: Path,
    steps: int | None = None,
    data_config: Path | None = None,
    train_configs: Sequence[Path] | None = None,
) -> Generator[str, None, Path]:
    """Build the recipe's corpus, train (or continue) each of its phases, ship the last; yields progress lines,
    returns the model. ``steps`` replaces every phase's step count (a quick try)."""
    config = load_config(_recipe(data_config, DATA_CONFIG), data_root=data_root.resolve(), out_dir=out / "data")
    built = build(config)
    yield f"corpus: {built.conversations} conversations in {out / 'data'}"
    overrides = {"max_steps": steps} if steps else {}
    phases = [_recipe(p, p) for p in train_configs] if train_configs else [_recipe(None, p) for p in TRAIN_CONFIGS]
    previous: Path | None = None
    for number, recipe_file in enumerate(phases, 1):
        work = out / ("train" if number == 1 else f"train-{number}")
        start = {"init": str(previous)} if previous is not None else {}
        run = load_train_run(recipe_file, build=str(out / "data"), out=str(work), resume=True, **overrides, **start)
        result = train_from_build(run)
        if result.losses:
            yield (
                f"trained steps {result.start_step + 1}-{result.final_step}: loss {result.losses[0]:.3f} -> "
                f"{result.losses[-1]:.3f} ({recipe_file.name})"
            )
        else:
            yield f"training: {work} already reached step {result.final_step} ({recipe_file.name})"
        previous = work
    assert previous is not None
    model_dir = ship_model(previous, out / "model")
    yield f"model: shipped to {model_dir}"
    return model_dir


def held_out_sample(task: str, data_root: Path) -> tuple[Sample, Path]:
    """The task's first held-out sample and the absolute path of its image."""
    data = load_task(get_task(task), data_root, limit=1)
    if not data.samples:
        raise FileNotFoundError(f"task {task}: no samples under {data.root}; check the data root (--data)")
    sample = data.samples[0]
    return sample, Path(sample.image.resolve(data.root))


def run_demo(
    data_root: str | Path,
    out: str | Path,
    model: str | Path | None = None,
    train: bool = False,
    steps: int | None = None,
    data_config: Path | None = None,
    train_configs: Sequence[Path] | None = None,
) -> Iterator[str]:
    """Ask a model (``model``, else the default one; with ``train``, a retrained one) about three held-out images.

    Yields the lines to print: the model, then per image its question, the answer, whether it ended with </s>,
    and the truth. ``steps`` overrides the recipe's step count (``train`` only).
    """
    out, root = Path(out), Path(data_root)
    if not root.is_dir():
        raise FileNotFoundError(f"data root {root} not found: pass --data (or set EARTHGPT_DATA) to the shared data")
    if train:
        model_dir = yield from retrain(root, out, steps, data_config, train_configs)
    else:
        if steps:
            raise ValueError("--steps sets the retraining length: pass it with --train (make demo TRAIN=1 STEPS=N)")
        model_dir = resolve_model(model)
        yield f"model: {model_dir} (retrain it with `make demo TRAIN=1`)"
    predictor = Predictor.load(model_dir, max_new_tokens=ANSWER_TOKENS)
    for task in (SCENE_TASK, VQA_TASK, DETECT_TASK):
        sample, image = held_out_sample(task, root)
        rgb = read_input_image(image)
        gen = predictor.ask_generation(rgb, sample.prompt)
        ending = "ends with </s>" if gen.finish_reason == "stop" else f"cut at the {ANSWER_TOKENS}-token limit"
        lines = [f"\n[{task}] image: {os.path.relpath(image, root)}", f"USER: {sample.prompt}", f"EARTHGPT: {gen.text}"]
        lines.append(f"({ending}) truth: {sample.answer}")
        if task == DETECT_TASK:
            png = out / "detection.png"
            png.parent.mkdir(parents=True, exist_ok=True)
            h, w = rgb.shape[:2]
            draw_answers(rgb, (), answer_boxes(gen.text, w, h), [gen], png)
            lines.append(f"boxes drawn: {png} ({len(sample.objects)} objects in the truth)")
        yield "\n".join(lines)
