"""Two CPU processes (gloo) under torchrun: ranks agree after every step and read disjoint samples."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from earthgpt.training import checkpoint as ckpt
from earthgpt.training.config import TrainConfig
from earthgpt.training.runtime import EngineUnavailableError, build_accelerator

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "accelerate"

STEPS = 3
BATCH = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _launch(tmp_path: Path, *launcher: str, extra_env: dict[str, str] | None = None) -> list[dict]:
    out = tmp_path / "run"
    command = [
        sys.executable,
        *launcher,
        "-m",
        "earthgpt.training.distributed",
        "--out-dir",
        str(out),
        "--max-steps",
        str(STEPS),
        "--batch-size",
        str(BATCH),
        "--num-samples",
        "16",
        "--report",
        str(tmp_path / "report"),
    ]
    env = os.environ | {"OMP_NUM_THREADS": "1"} | (extra_env or {})
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-4000:]
    return [json.loads((tmp_path / f"report.rank{r}.json").read_text()) for r in (0, 1)]


@pytest.mark.timeout(240)
def test_two_process_ddp_agrees(tmp_path: Path) -> None:
    reports = _launch(tmp_path, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2")
    rank0, rank1 = reports
    assert rank0["world_size"] == rank1["world_size"] == 2
    assert rank0["distributed_type"] == "DistributedType.MULTI_CPU"
    _check_agreement(rank0, rank1)  # same loss and identical parameters after every step
    assert len({s["digest"] for s in rank0["steps"]}) == STEPS  # and they did change every step
    assert len(rank0["read"]) == len(rank1["read"]) == STEPS * BATCH
    assert not set(rank0["read"]) & set(rank1["read"])  # each rank saw different samples
    final = ckpt.latest_checkpoint(tmp_path / "run")
    assert final is not None and final.name == ckpt.checkpoint_name(STEPS)
    assert sorted(p.name for p in (final / ckpt.RNG_DIR).iterdir()) == ["rank-0.pt", "rank-1.pt"]
    assert ckpt.read_trainer_state(final).world_size == 2


def _check_agreement(rank0: dict, rank1: dict) -> None:
    assert [s["loss"] for s in rank0["steps"]] == [s["loss"] for s in rank1["steps"]]
    assert [s["digest"] for s in rank0["steps"]] == [s["digest"] for s in rank1["steps"]]
    assert not set(rank0["read"]) & set(rank1["read"])


@pytest.mark.timeout(240)
def test_two_process_deepspeed_zero2(tmp_path: Path) -> None:
    """ZeRO-2 on CPU (gloo): ranks agree, and the checkpoint gathers the partitioned Adam moments by name."""
    pytest.importorskip("deepspeed", reason="DeepSpeed is an optional engine: pip install deepspeed")
    launcher = ("-m", "accelerate.commands.launch", "--config_file", str(CONFIGS / "zero2.yaml"))
    rank0, rank1 = _launch(tmp_path, *launcher, "--main_process_port", str(_free_port()))
    assert rank0["distributed_type"] == "DistributedType.DEEPSPEED"
    _check_agreement(rank0, rank1)
    final = ckpt.latest_checkpoint(tmp_path / "run")
    assert final is not None
    tensors = ckpt.read_model_tensors(final / ckpt.MODEL_FILE)
    optimizer = ckpt.read_optimizer_state(final)
    assert set(optimizer["state"]) == set(tensors)  # stage 1 saves exactly the trainable tensors
    for name, entry in optimizer["state"].items():
        assert entry["exp_avg"].shape == tensors[name].shape, name
        assert float(entry["step"]) == STEPS
    assert any(float(e["exp_avg_sq"].abs().sum()) > 0 for e in optimizer["state"].values())


def test_accelerate_configs_parse() -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    kinds = {"ddp": "MULTI_GPU", "fsdp": "FSDP", "zero2": "DEEPSPEED", "zero3": "DEEPSPEED"}
    for name, kind in kinds.items():
        config = load_config_from_file(str(CONFIGS / f"{name}.yaml"))
        assert config.distributed_type.name == kind, name
    assert load_config_from_file(str(CONFIGS / "zero3.yaml")).deepspeed_config["zero_stage"] == 3


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only refusal of FSDP")
def test_fsdp_on_cpu_is_refused_clearly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    with pytest.raises(EngineUnavailableError, match=r"ddp\.yaml"):
        build_accelerator(TrainConfig(out_dir=str(tmp_path)))
