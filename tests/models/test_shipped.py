"""The shipped model: `ship_model` writes bf16 inference weights under the size limit, a bf16 model computes in fp32
on the CPU with the fp32 run's answers, and `default_model_dir` finds $EARTHGPT_MODEL or the repository's model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from earthgpt.cli import main
from earthgpt.data.conversation import Message
from earthgpt.evaluation.tasks import get_task
from earthgpt.evaluation.tasks.load import load_task
from earthgpt.inference.predictor import INPUT_IMAGE, Predictor
from earthgpt.models import load_pretrained
from earthgpt.models import shipped as shipped_module
from earthgpt.models.shipped import MODEL_ENV, default_model_dir, ship_model


def _stored_dtypes(path: Path) -> set[torch.dtype]:
    with safe_open(str(path / "model.safetensors"), framework="pt") as f:
        return {f.get_tensor(k).dtype for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)


def test_ship_writes_bf16_inference_weights_config_tokenizer_and_card(shipped_run: tuple[Path, Path]) -> None:
    run, out = shipped_run
    assert (run / "run" / "checkpoints").is_dir()  # the run has training state ...
    assert sorted(p.name for p in out.iterdir()) == [
        "MODEL_CARD.md", "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
        "train_run.json",
    ]  # fmt: skip  # ... the shipped folder none of it
    assert _stored_dtypes(out) == {torch.bfloat16}
    assert (out / "model.safetensors").stat().st_size < (run / "model.safetensors").stat().st_size * 0.51
    assert json.loads((out / "config.json").read_text()) == json.loads((run / "config.json").read_text())
    card = (out / "MODEL_CARD.md").read_text()
    assert "steps: 3 at batch 4, seed 0" in card and "parameters: " in card


def test_bf16_model_computes_in_fp32_on_cpu_with_logits_close_to_the_fp32_run(
    shipped_run: tuple[Path, Path], data_root: Path
) -> None:
    run, out = shipped_run
    fp32, bf16 = load_pretrained(run), load_pretrained(out)
    assert bf16.dtype == torch.float32  # widened on load
    assert load_pretrained(out, dtype=torch.bfloat16).dtype == torch.bfloat16  # an explicit dtype wins
    task = load_task(get_task("rsscn7"), data_root, limit=4)
    predictor = Predictor.load(run)
    pixels = torch.stack([predictor.pixels(s.image.resolve(task.root)) for s in task.samples])
    ids = torch.tensor([predictor.encode([Message.user(s.prompt, INPUT_IMAGE)]) for s in task.samples])
    with torch.no_grad():
        a, b = fp32(pixels, ids).logits, bf16(pixels, ids).logits
    # Measured: max |difference| 0.008 at logits up to 4.5 (bf16 keeps 8 bits of mantissa: 0.4% per weight)
    assert (a - b).abs().max() < 0.05
    assert torch.equal(a.argmax(-1), b.argmax(-1))
    shipped = Predictor.load(out, max_new_tokens=12)
    for s in task.samples:
        image = s.image.resolve(task.root)
        assert shipped.ask(image, s.prompt)[0] == Predictor.load(run, max_new_tokens=12).ask(image, s.prompt)[0]


def test_ship_refuses_weights_over_the_limit_before_writing(shipped_run: tuple[Path, Path], tmp_path: Path) -> None:
    run, _ = shipped_run
    with pytest.raises(ValueError, match=r"MB in bf16, more than the 0 MB a shipped model may hold"):
        ship_model(run, tmp_path / "big", max_bytes=1000)
    assert not (tmp_path / "big").exists()
    with pytest.raises(ValueError, match="--dtype 'int8'"):
        ship_model(run, tmp_path / "big", dtype="int8")


def test_model_ship_command_keeps_a_written_card(shipped_run: tuple[Path, Path], tmp_path: Path) -> None:
    run, _ = shipped_run
    out = tmp_path / "m"
    out.mkdir()
    (out / "MODEL_CARD.md").write_text("# my card\n")
    assert main(["model", "ship", "--model", str(run), "--out", str(out), "--dtype", "fp16"]) == 0
    assert _stored_dtypes(out) == {torch.float16}
    assert (out / "MODEL_CARD.md").read_text() == "# my card\n"


def test_default_model_dir_prefers_the_env_then_the_repository(
    shipped_run: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, out = shipped_run
    monkeypatch.setenv(MODEL_ENV, str(out))
    assert default_model_dir() == out
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=r"\$EARTHGPT_MODEL=.*nowhere is not a model directory"):
        default_model_dir()
    monkeypatch.delenv(MODEL_ENV)
    monkeypatch.setattr(shipped_module, "shipped_dir", lambda: out)
    assert default_model_dir() == out
    monkeypatch.setattr(shipped_module, "shipped_dir", lambda: tmp_path / "models" / "earthgpt-tiny")
    with pytest.raises(FileNotFoundError) as err:
        default_model_dir()
    for fix in ("$EARTHGPT_MODEL is not set", "models/earthgpt-tiny", "--model DIR", "make demo TRAIN=1"):
        assert fix in str(err.value)


def test_the_repository_default_is_models_earthgpt_tiny_at_the_checkout_root() -> None:
    root = Path(__file__).resolve().parents[2]
    assert shipped_module.shipped_dir() == root / "models" / "earthgpt-tiny"


def test_the_shipped_record_names_no_path_of_the_training_machine() -> None:
    from earthgpt.models.shipped import portable_record

    run = {"build": "/work/runs/tinydata", "out": "/work/runs/tiny", "init": None, "size": "tiny",
           "resolved": {"out_dir": "/work/runs/tiny/run", "base_weights": None, "lr": 0.001}}  # fmt: skip
    assert portable_record(run) == {"build": "tinydata", "out": "tiny", "init": None, "size": "tiny",
                                    "resolved": {"out_dir": "run", "base_weights": None, "lr": 0.001}}  # fmt: skip
