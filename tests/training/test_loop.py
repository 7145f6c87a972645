"""The training loop on a tiny real LLaMA: determinism, exact resume, accumulation, freezing, logs, refusals."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open
from torch.optim.optimizer import register_optimizer_step_pre_hook

from earthgpt.training import TrainConfig, build_optimizer, train
from earthgpt.training import checkpoint as ckpt
from earthgpt.training.config import ConfigError
from earthgpt.training.loop import set_train_mode
from earthgpt.training.sampler import ShardedEpochSampler
from earthgpt.training.schedule import warmup_cosine_lr

BASE: dict[str, Any] = {"max_steps": 6, "batch_size": 4, "lr": 1e-3, "warmup_steps": 2, "progress_bar": False}


def _config(out: Path, **changes: Any) -> TrainConfig:
    return TrainConfig(out_dir=str(out), **(BASE | changes))


def _params(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_same_seed_same_losses(tmp_path: Path, llama: Callable[..., Any], token_data: Any, collate_fn: Any) -> None:
    a = train(llama(), token_data, collate_fn, _config(tmp_path / "a"))
    b = train(llama(), token_data, collate_fn, _config(tmp_path / "b"))
    c = train(llama(), token_data, collate_fn, _config(tmp_path / "c", seed=1))
    assert a.losses == b.losses  # bit-identical
    assert a.losses != c.losses  # the seed changes the data order
    assert len(a.losses) == 6 and a.steps == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("stop", [3, 6])  # 6 ends epoch 0 exactly (24 samples, batches of 4)
def test_exact_resume(tmp_path: Path, llama: Callable[..., Any], token_data: Any, collate_fn: Any, stop: int) -> None:
    """Stop after ``stop`` of 7 steps, resume in a fresh model (other init, disturbed RNG): bit-identical curve."""
    straight_model = llama()
    straight = train(straight_model, token_data, collate_fn, _config(tmp_path / "one", max_steps=7))
    first = train(llama(), token_data, collate_fn, _config(tmp_path / "two", max_steps=7, stop_at_step=stop))
    assert first.checkpoint_dir is not None and first.checkpoint_dir.name == ckpt.checkpoint_name(stop)
    torch.manual_seed(12345)
    resumed_model = llama(seed=99)
    second = train(resumed_model, token_data, collate_fn, _config(tmp_path / "two", max_steps=7, resume=True))
    assert second.start_step == stop and second.steps == list(range(stop + 1, 8))
    assert first.losses + second.losses == straight.losses
    for key, value in straight_model.state_dict().items():
        assert torch.equal(value, resumed_model.state_dict()[key]), key
    logged = [json.loads(line)["step"] for line in (tmp_path / "two" / "log.jsonl").read_text().splitlines()]
    assert logged == list(range(1, 8))


def test_gradient_accumulation_matches_big_batch(
    tmp_path: Path, llama: Callable[..., Any], token_data: Any, collate_fn: Any
) -> None:
    big_model, small_model = llama(), llama()
    big = train(big_model, token_data, collate_fn, _config(tmp_path / "a", batch_size=4, grad_accum=1))
    small = train(small_model, token_data, collate_fn, _config(tmp_path / "b", batch_size=2, grad_accum=2))
    assert small.losses == pytest.approx(big.losses, rel=1e-5)
    for key, value in big_model.state_dict().items():
        torch.testing.assert_close(small_model.state_dict()[key], value, rtol=1e-4, atol=1e-5)


def test_only_trainable_parameters_change_and_are_saved(
    tmp_path: Path, llama: Callable[..., Any], token_data: Any, collate_fn: Any
) -> None:
    model = llama()
    model.model.embed_tokens.requires_grad_(False)
    model.model.layers[0].requires_grad_(False)
    before = _params(model)
    result = train(model, token_data, collate_fn, _config(tmp_path, max_steps=2, base_weights="tiny-llama"))
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]) == (key not in trainable), key
    assert result.checkpoint_dir is not None
    with safe_open(str(result.checkpoint_dir / ckpt.MODEL_FILE), framework="pt") as handle:
        assert set(handle.keys()) == trainable
        assert handle.metadata()["base_weights"] == "tiny-llama"
    state = ckpt.read_trainer_state(result.checkpoint_dir)
    assert {n for group in state.optimizer_params for n in group} == trainable


def test_weight_decay_skips_vectors(llama: Callable[..., Any]) -> None:
    optimizer, names = build_optimizer(llama(), TrainConfig(out_dir="r", weight_decay=0.1))
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.1, 0.0]
    assert optimizer.param_groups[0]["betas"] == (0.9, 0.95)
    assert all("norm" in n for n in names[1])  # LLaMA's only vectors are RMSNorm scales
    assert "model.layers.0.self_attn.q_proj.weight" in names[0]


def test_log_and_checkpoint_layout(tmp_path: Path, llama: Callable[..., Any], token_data: Any, collate_fn: Any) -> None:
    config = _config(tmp_path, save_every=1, keep_last=2, max_steps=5)
    model = llama()
    result = train(model, token_data, collate_fn, config)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["step-00000004", "step-00000005"]
    directory = result.checkpoint_dir
    assert directory is not None
    files = {p.name for p in directory.iterdir()}
    assert files == {ckpt.MODEL_FILE, ckpt.OPTIMIZER_FILE, ckpt.STATE_FILE, ckpt.CONFIG_FILE, ckpt.RNG_DIR}
    assert TrainConfig.load(directory / ckpt.CONFIG_FILE) == config
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5]
    expected = [warmup_cosine_lr(s, peak=1e-3, minimum=0.0, warmup_steps=2, total_steps=5) for s in range(5)]
    assert [r["lr"] for r in records] == pytest.approx(expected)
    assert [r["loss"] for r in records] == result.losses
    assert all(r["tokens_per_s"] == pytest.approx(r["samples_per_s"] * 12) for r in records)  # 12 tokens a sample
    optimizer = ckpt.read_optimizer_state(directory)  # keyed by parameter name, not slot
    params = dict(model.named_parameters())
    assert set(optimizer["state"]) == set(params)
    for name, entry in optimizer["state"].items():
        assert entry["exp_avg"].shape == params[name].shape and float(entry["step"]) == 5
    state = ckpt.read_trainer_state(directory)
    assert state.engine["mixed_precision"] == "no" and state.engine["distributed_type"] == "NO"  # "auto" on CPU
    assert state.position == {"epoch": 0, "index": 20}  # 5 batches of 4 from a 24-sample epoch


def test_refuses_to_overwrite_and_checks_data_order(
    tmp_path: Path, llama: Callable[..., Any], token_data: Any, collate_fn: Any
) -> None:
    train(llama(), token_data, collate_fn, _config(tmp_path, max_steps=2))
    with pytest.raises(FileExistsError, match="resume=True"):
        train(llama(), token_data, collate_fn, _config(tmp_path, max_steps=4))
    with pytest.raises(ConfigError, match="batch_size=4 but this run has 2"):
        train(llama(), token_data, collate_fn, _config(tmp_path, max_steps=4, batch_size=2, resume=True))
    done = train(llama(), token_data, collate_fn, _config(tmp_path, max_steps=2, resume=True))
    assert done.losses == [] and done.final_step == 2


def test_resume_into_other_architecture_names_key(
    tmp_path: Path, llama: Callable[..., Any], token_data: Any, collate_fn: Any
) -> None:
    train(llama(), token_data, collate_fn, _config(tmp_path, max_steps=1, warmup_steps=0))
    other = llama()
    other.lm_head = torch.nn.Linear(32, 7, bias=False)
    with pytest.raises(ckpt.CheckpointMismatchError, match=r"'lm_head\.weight' has shape \(61, 32\).*\(7, 32\)"):
        train(other, token_data, collate_fn, _config(tmp_path, max_steps=2, resume=True))


@pytest.mark.parametrize(("precision", "dtype"), [("bf16", torch.bfloat16), ("auto", torch.float32)])
def test_mixed_precision_autocast(
    tmp_path: Path, llama: Callable[..., Any], token_data: Any, collate_fn: Any, precision: str, dtype: torch.dtype
) -> None:
    model = llama()
    seen: list[torch.dtype] = []
    model.lm_head.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    result = train(
        model, token_data, collate_fn, _config(tmp_path, max_steps=1, warmup_steps=0, mixed_precision=precision)
    )
    assert seen == [dtype]
    assert model.lm_head.weight.dtype == torch.float32  # master weights stay fp32
    model(**collate_fn([token_data[0]]))
    assert seen[-1] == torch.float32  # after training the caller's model runs without autocast
    assert torch.isfinite(torch.tensor(result.losses)).all()


def test_resume_after_crash_drops_unsaved_log_records(
    tmp_path: Path, llama: Callable[..., Any], token_data: Any, collate_fn: Any
) -> None:
    straight = train(llama(), token_data, collate_fn, _config(tmp_path / "a"))
    crashed = _config(tmp_path / "b", save_every=3, stop_at_step=5)
    train(llama(), token_data, collate_fn, crashed)
    shutil.rmtree(tmp_path / "b" / ckpt.CHECKPOINTS / ckpt.checkpoint_name(5))  # died after logging step 5
    resumed = train(llama(), token_data, collate_fn, _config(tmp_path / "b", resume=True))
    assert resumed.start_step == 3
    records = [json.loads(line) for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert [r["loss"] for r in records] == straight.losses


def test_resume_with_another_dataset_is_refused(
    tmp_path: Path, llama: Callable[..., Any], token_data: Any, collate_fn: Any
) -> None:
    train(llama(), token_data, collate_fn, _config(tmp_path, max_steps=2))
    shorter = torch.utils.data.Subset(token_data, range(20))
    with pytest.raises(ckpt.CheckpointMismatchError, match="dataset of 24 samples, resumed with 20"):
        train(llama(), shorter, collate_fn, _config(tmp_path, max_steps=3, resume=True))


def test_worker_processes_give_the_same_run(
    tmp_path: Path, llama: Callable[..., Any], token_data: Any, collate_fn: Any
) -> None:
    inline = train(llama(), token_data, collate_fn, _config(tmp_path / "a", max_steps=7))
    workers = train(llama(), token_data, collate_fn, _config(tmp_path / "b", max_steps=7, num_workers=2))
    assert workers.losses == inline.losses


def test_gradients_are_clipped_before_the_step(
    tmp_path: Path, llama: Callable[..., Any], token_data: Any, collate_fn: Any
) -> None:
    norms: list[float] = []

    def record(optimizer: torch.optim.Optimizer, _args: Any, _kwargs: Any) -> None:
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        norms.append(float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))))

    handle = register_optimizer_step_pre_hook(record)
    try:
        result = train(llama(), token_data, collate_fn, _config(tmp_path, max_steps=3, max_grad_norm=0.05))
    finally:
        handle.remove()
    assert len(norms) == 3 and all(n == pytest.approx(0.05, rel=1e-4) for n in norms)
    logged = [json.loads(line)["grad_norm"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert all(n > 0.05 for n in logged)  # the log reports the norm before clipping
    assert len(result.losses) == 3


def test_frozen_submodules_run_in_eval_mode(llama: Callable[..., Any]) -> None:
    model = llama()
    model.model.embed_tokens.requires_grad_(False)
    model.model.layers[0].requires_grad_(False)
    frozen = set_train_mode(model, frozen_eval=True)
    assert frozen == {"model.embed_tokens", "model.layers.0"}
    assert not model.model.layers[0].training and not model.model.layers[0].self_attn.training
    assert model.training and model.model.layers[1].training
    set_train_mode(model, frozen_eval=False)
    assert model.model.layers[0].training


class SizedTokens(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    """Token rows whose declared lengths the loop groups by; each sample carries its index."""

    def __init__(self, lengths: list[int]) -> None:
        self._lengths = lengths

    def __len__(self) -> int:
        return len(self._lengths)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"input_ids": torch.full((4,), index % 50), "index": torch.tensor(index)}

    def lengths(self) -> list[int]:
        return self._lengths


def test_loop_groups_batches_by_the_dataset_lengths(tmp_path: Path, llama: Callable[..., Any]) -> None:
    lengths = [(5 * i) % 17 for i in range(24)]
    seen: list[list[int]] = []

    def collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        seen.append([int(item["index"]) for item in items])
        ids = torch.stack([item["input_ids"] for item in items])
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}

    train(llama(), SizedTokens(lengths), collate, _config(tmp_path / "grouped", length_window=3))
    expected = ShardedEpochSampler(24, seed=0, epoch=0, lengths=lengths, batch_size=4, length_window=3).shard
    assert [i for batch in seen for i in batch] == expected
    seen.clear()
    train(llama(), SizedTokens(lengths), collate, _config(tmp_path / "plain", length_window=0))
    assert [i for batch in seen for i in batch] == ShardedEpochSampler(24, seed=0, epoch=0).shard
    with pytest.raises(ConfigError, match="length_window=3 but this run has 0"):
        train(
            llama(),
            SizedTokens(lengths),
            collate,
            _config(tmp_path / "grouped", max_steps=8, resume=True, length_window=0),
        )
