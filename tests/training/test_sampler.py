"""Data order: seeded per-epoch shuffles, disjoint rank shards, and a position that resumes at the next sample."""

from __future__ import annotations

import itertools

import pytest
import torch

from earthgpt.training.sampler import (
    BatchStream,
    DataPosition,
    DatasetTooSmallError,
    ShardedEpochSampler,
    epoch_order,
    task_sample_weights,
)


class Indices(torch.utils.data.Dataset[int]):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> int:
        return index


def collate_ids(items: list[int]) -> list[int]:
    return list(items)


def test_shards_are_disjoint_and_cover_the_trimmed_epoch() -> None:
    shards = [list(ShardedEpochSampler(23, seed=5, epoch=0, rank=r, world_size=3)) for r in range(3)]
    assert all(len(s) == 7 for s in shards)
    union = set().union(*map(set, shards))
    assert len(union) == 21  # 23 // 3 * 3, no sample twice


def test_order_depends_on_seed_and_epoch_only() -> None:
    a = list(ShardedEpochSampler(50, seed=1, epoch=0))
    assert a == list(ShardedEpochSampler(50, seed=1, epoch=0))
    assert a != list(ShardedEpochSampler(50, seed=1, epoch=1))
    assert a != list(ShardedEpochSampler(50, seed=2, epoch=0))
    assert sorted(a) == list(range(50))
    assert list(ShardedEpochSampler(5, seed=1, epoch=3, shuffle=False)) == [0, 1, 2, 3, 4]


def test_start_skips_consumed_samples() -> None:
    full = list(ShardedEpochSampler(20, seed=0, epoch=2, rank=1, world_size=2))
    assert list(ShardedEpochSampler(20, seed=0, epoch=2, rank=1, world_size=2, start=4)) == full[4:]


def _stream(position: DataPosition | None = None, **kw: int) -> BatchStream:
    args = {"batch_size": 3, "seed": 7, "shuffle": True, "rank": 0, "world_size": 1} | kw
    return BatchStream(Indices(10), collate_ids, position=position, **args)  # type: ignore[arg-type]


def test_stream_crosses_epochs_and_drops_the_tail() -> None:
    stream = _stream()
    batches = list(itertools.islice(iter(stream), 7))
    epoch0 = list(ShardedEpochSampler(10, seed=7, epoch=0))[:9]
    epoch1 = list(ShardedEpochSampler(10, seed=7, epoch=1))[:9]
    assert [i for b in batches[:3] for i in b] == epoch0  # 3 batches of 3; the 10th sample is dropped
    assert [i for b in batches[3:6] for i in b] == epoch1
    assert stream.position == DataPosition(epoch=2, index=3)


class EpochIndices(Indices):
    """Samples that say which epoch they were read in (as a seeded augmentation would use it)."""

    def __init__(self, n: int) -> None:
        super().__init__(n)
        self.epoch = -1

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, index: int) -> tuple[int, int]:  # type: ignore[override]
        return self.epoch, index


@pytest.mark.parametrize("workers", [0, 1])
def test_stream_tells_the_dataset_its_epoch_before_reading_it(workers: int) -> None:
    stream = BatchStream(EpochIndices(6), list, batch_size=3, seed=0, shuffle=True, rank=0, world_size=1,
                         num_workers=workers)  # fmt: skip
    batches = list(itertools.islice(iter(stream), 6))
    assert [{e for e, _ in b} for b in batches] == [{0}, {0}, {1}, {1}, {2}, {2}]
    resumed = BatchStream(EpochIndices(6), list, batch_size=3, seed=0, shuffle=True, rank=0, world_size=1,
                          position=DataPosition(1, 3))  # fmt: skip
    assert next(iter(resumed)) == batches[3]


@pytest.mark.parametrize("consumed", [1, 2, 3, 5])
def test_resume_from_position_continues_exactly(consumed: int) -> None:
    reference = list(itertools.islice(iter(_stream()), 8))
    first = _stream()
    it = iter(first)
    for _ in range(consumed):
        next(it)
    saved = DataPosition.from_dict(first.position.to_dict())
    resumed = list(itertools.islice(iter(_stream(saved)), 8 - consumed))
    assert resumed == reference[consumed:]


def test_dataset_too_small() -> None:
    with pytest.raises(DatasetTooSmallError, match="batch_size"):
        _stream(batch_size=6, world_size=2)


LENGTHS = [(7 * i) % 23 + 1 for i in range(40)]  # tokens of sample i


def _grouped(**kw: int) -> list[int]:
    args = {"seed": 3, "epoch": 0, "lengths": LENGTHS, "batch_size": 4, "length_window": 5} | kw
    return list(ShardedEpochSampler(40, **args))  # type: ignore[arg-type]


def test_length_grouping_keeps_each_window_and_sorts_its_batches() -> None:
    plain = list(ShardedEpochSampler(40, seed=3, epoch=0))
    grouped = _grouped()
    for begin in (0, 20):  # two windows of 5 batches of 4: the same samples, now batched by length
        assert sorted(grouped[begin : begin + 20]) == sorted(plain[begin : begin + 20])
    batches = [grouped[k : k + 4] for k in range(0, 40, 4)]
    spans = [max(LENGTHS[i] for i in b) - min(LENGTHS[i] for i in b) for b in batches]
    plain_spans = [
        max(LENGTHS[i] for i in plain[k : k + 4]) - min(LENGTHS[i] for i in plain[k : k + 4]) for k in range(0, 40, 4)
    ]
    assert sum(spans) < sum(plain_spans) / 2
    # within a window, the batches are cut from the length-sorted window (longest first), in shuffled order
    window = sorted(plain[:20], key=lambda i: -LENGTHS[i])
    assert sorted(batches[:5]) == sorted(window[k : k + 4] for k in range(0, 20, 4))
    assert batches[:5] != [window[k : k + 4] for k in range(0, 20, 4)]


def test_length_grouping_is_seeded_resumable_and_optional() -> None:
    assert _grouped() == _grouped()
    assert _grouped() != _grouped(epoch=1)
    assert _grouped(start=8) == _grouped()[8:]
    assert _grouped(length_window=1) == list(ShardedEpochSampler(40, seed=3, epoch=0))
    assert _grouped(shuffle=False) == list(range(40))  # an unshuffled order is kept as given
    with pytest.raises(ValueError, match="39 lengths"):
        ShardedEpochSampler(40, seed=3, epoch=0, lengths=LENGTHS[:39], batch_size=4, length_window=5)


def test_length_grouping_keeps_a_short_tail_last() -> None:
    grouped = _grouped(batch_size=3, length_window=4)  # windows of 12: 40 = 3 * 12 + 4 -> last window 3 + 1
    plain = list(ShardedEpochSampler(40, seed=3, epoch=0))
    assert grouped[-1] == sorted(plain[36:], key=lambda i: -LENGTHS[i])[-1]
    assert sorted(grouped) == list(range(40))


@pytest.mark.parametrize("world_size", [2, 3])
def test_length_grouping_before_sharding_gives_every_step_the_samples_of_one_process(world_size: int) -> None:
    """Ranks of batch 2 read, step by step, the samples one process of batch 2 * world_size reads (issue 11)."""
    n, batch, window = 40, 2, 3
    one = _grouped(batch_size=batch * world_size, length_window=window)
    shards = [
        _grouped(batch_size=batch, length_window=window, rank=r, world_size=world_size) for r in range(world_size)
    ]
    steps = n // world_size // batch
    for k in range(steps):
        together = sorted(i for shard in shards for i in shard[k * batch : (k + 1) * batch])
        assert together == sorted(one[k * batch * world_size : (k + 1) * batch * world_size]), k

    # and each rank's micro-batch is still grouped: its share of a length-sorted global batch
    def spread(shards: list[list[int]]) -> int:
        return sum(max(LENGTHS[i] for i in s[k : k + batch]) - min(LENGTHS[i] for i in s[k : k + batch])
                   for s in shards for k in range(0, steps * batch, batch))  # fmt: skip

    plain = [list(ShardedEpochSampler(n, seed=3, epoch=0, rank=r, world_size=world_size)) for r in range(world_size)]
    assert spread(shards) <= spread(plain) / 2


def test_task_weights_set_each_tasks_share_whatever_its_size() -> None:
    tasks = ["refer"] * 10 + ["seg"] * 30 + ["caption"] * 60
    weights = task_sample_weights(tasks, {"refer": 2.0, "seg": 1.0, "caption": 1.0})
    torch.testing.assert_close(weights[:1], torch.tensor([0.2], dtype=torch.float64))  # 2 / 10 by hand
    torch.testing.assert_close(weights[-1:], torch.tensor([1 / 60], dtype=torch.float64))
    draws = torch.cat([epoch_order(100, seed=0, epoch=e, shuffle=True, sample_weights=weights) for e in range(200)])
    shares = [float(((draws >= lo) & (draws < hi)).float().mean()) for lo, hi in ((0, 10), (10, 40), (40, 100))]
    assert abs(shares[0] - 0.5) < 0.01 and abs(shares[1] - 0.25) < 0.01 and abs(shares[2] - 0.25) < 0.01
    again = epoch_order(100, seed=0, epoch=3, shuffle=True, sample_weights=weights)
    assert torch.equal(again, draws[300:400])  # seeded by (seed, epoch): resumable
    zero = task_sample_weights(tasks, {"refer": 0.0, "seg": 1.0, "caption": 0.0})
    assert not bool((epoch_order(100, seed=1, epoch=0, shuffle=True, sample_weights=zero) < 10).any())
    with pytest.raises(ValueError, match=r"no weight for task\(s\) \['caption'\]"):
        task_sample_weights(tasks, {"refer": 1.0, "seg": 1.0})
