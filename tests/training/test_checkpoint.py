"""Checkpoint pieces: model tensors, mismatch errors, RNG states, pruning, optimizer slots."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open

from earthgpt.training import checkpoint as ckpt


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 2))


def test_trainable_keys_and_buffers() -> None:
    model = _model()
    model[0].requires_grad_(False)
    keys = ckpt.model_state_keys(model, full=False)
    assert set(keys) == {"1.weight", "1.bias", "2.weight", "2.bias"} | {
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    }
    assert set(ckpt.model_state_keys(model, full=True)) == set(model.state_dict())


def test_tied_weights_saved_once(llama: object, tmp_path: Path) -> None:
    model = llama()  # type: ignore[operator]
    model.lm_head.weight = model.model.embed_tokens.weight
    keys = ckpt.model_state_keys(model, full=True)
    assert ("lm_head.weight" in keys) != ("model.embed_tokens.weight" in keys)
    state = model.state_dict()
    ckpt.save_model_state({k: state[k] for k in keys}, tmp_path / "m.safetensors", {})
    ckpt.load_model_state(model, tmp_path / "m.safetensors")


def test_round_trip_and_metadata(tmp_path: Path) -> None:
    source = _model()
    state = source.state_dict()
    path = tmp_path / "model.safetensors"
    ckpt.save_model_state(state, path, {"base_weights": "base.safetensors"})
    target = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 2))
    loaded = ckpt.load_model_state(target, path)
    assert set(loaded) == set(state)
    for key, value in target.state_dict().items():
        assert torch.equal(value, state[key])
    with safe_open(str(path), framework="pt") as handle:
        assert handle.metadata()["base_weights"] == "base.safetensors"


def test_shape_mismatch_names_key_and_shapes(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    ckpt.save_model_state(_model().state_dict(), path, {})
    other = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5), torch.nn.Linear(5, 2))
    with pytest.raises(ckpt.CheckpointMismatchError, match=r"'0\.weight' has shape \(3, 4\).*\(5, 4\)"):
        ckpt.load_model_state(other, path)


def test_unexpected_and_missing_keys(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    ckpt.save_model_state({"extra.weight": torch.zeros(2)}, path, {})
    with pytest.raises(ckpt.CheckpointMismatchError, match=r"'extra\.weight' \(shape \(2,\)\) is not in the model"):
        ckpt.load_model_state(_model(), path)
    ckpt.save_model_state({"0.weight": torch.zeros(3, 4)}, path, {})
    with pytest.raises(ckpt.CheckpointMismatchError, match=r"trainable model key '0\.bias' \(shape \(3,\)\)"):
        ckpt.load_model_state(_model(), path)


def test_rng_state_restores_all_generators(tmp_path: Path) -> None:
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    np.random.normal()  # leave a cached gaussian in numpy's legacy state
    torch.save(ckpt.capture_rng_state(), tmp_path / "rng.pt")
    expected = (random.random(), np.random.normal(), np.random.rand(), torch.rand(3))
    random.seed(9)
    np.random.seed(9)
    torch.manual_seed(9)
    ckpt.restore_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    got = (random.random(), np.random.normal(), np.random.rand(), torch.rand(3))
    assert got[:3] == expected[:3]
    assert torch.equal(got[3], expected[3])


def test_list_and_prune(tmp_path: Path) -> None:
    for step in (2, 10, 4):
        directory = tmp_path / ckpt.CHECKPOINTS / ckpt.checkpoint_name(step)
        directory.mkdir(parents=True)
        (directory / ckpt.STATE_FILE).write_text("{}")
    (tmp_path / ckpt.CHECKPOINTS / "step-00000099.partial").mkdir()  # an interrupted save is ignored
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["step-00000002", "step-00000004", "step-00000010"]
    ckpt.prune_checkpoints(tmp_path, keep_last=2)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["step-00000004", "step-00000010"]
    assert ckpt.latest_checkpoint(tmp_path) == tmp_path / ckpt.CHECKPOINTS / "step-00000010"


def test_optimizer_slot_mismatch_names_parameter(tmp_path: Path) -> None:
    with pytest.raises(ckpt.CheckpointMismatchError, match=r"slot 1 holds 'b' in the checkpoint but 'c'"):
        ckpt.check_optimizer_params([["a", "b"], []], [["a", "c"], []], tmp_path)
    with pytest.raises(ckpt.CheckpointMismatchError, match=r"first unmatched: 'd'"):
        ckpt.check_optimizer_params([["a"], []], [["a", "d"], []], tmp_path)


def test_optimizer_state_names_round_trip() -> None:
    a, b, c = (torch.nn.Parameter(torch.randn(n)) for n in (2, 3, 4))
    optimizer = torch.optim.AdamW([{"params": [a, b]}, {"params": [c], "weight_decay": 0.0}])
    for p in (a, b, c):
        p.grad = torch.ones_like(p)
    optimizer.step()
    names = [["a", "b"], ["c"]]
    named = ckpt.optimizer_state_by_name(optimizer.state_dict(), names)
    assert named["param_groups"][1]["params"] == ["c"]
    assert named["state"]["b"]["exp_avg"].shape == (3,)
    back = ckpt.optimizer_state_by_slot(named, names)
    original = optimizer.state_dict()
    assert back["param_groups"] == original["param_groups"]
    for slot, entry in original["state"].items():
        for key, value in entry.items():
            assert torch.equal(back["state"][slot][key], value)
