"""Resumable data order: a seeded shuffle per epoch, grouped by length, sharded across ranks, and the position."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch
from torch.utils.data import DataLoader, Dataset, Sampler


class DatasetTooSmallError(ValueError):
    """The dataset cannot fill one micro-batch on every rank."""


@dataclass
class DataPosition:
    """Where the next micro-batch starts: ``index`` samples of this rank's shard of ``epoch`` are consumed."""

    epoch: int = 0
    index: int = 0

    def to_dict(self) -> dict[str, int]:
        """Plain values for JSON."""
        return {"epoch": self.epoch, "index": self.index}

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> DataPosition:
        """Inverse of :meth:`to_dict`."""
        return cls(epoch=int(data["epoch"]), index=int(data["index"]))


@runtime_checkable
class KnowsLengths(Protocol):
    """A dataset that can say how many tokens each of its samples holds, without loading the samples."""

    def lengths(self) -> Sequence[int]:
        """Tokens of sample ``i`` at position ``i``."""
        ...


@runtime_checkable
class KnowsEpoch(Protocol):
    """A dataset whose samples depend on the epoch (a seeded augmentation): told the epoch before it is read."""

    def set_epoch(self, epoch: int) -> None:
        """The epoch of the samples read next."""
        ...


def task_sample_weights(tasks: Sequence[str], task_weights: Mapping[str, float]) -> torch.Tensor:
    """Per-sample weights [N] giving task t the share w_t / sum(w) of the draws: w_t / (samples of task t).

    ValueError naming a task of the data that ``task_weights`` lacks, or a negative weight.
    """
    counts: dict[str, int] = {}
    for task in tasks:
        counts[task] = counts.get(task, 0) + 1
    missing = sorted(set(counts) - set(task_weights))
    if missing:
        raise ValueError(
            f"task_weights {dict(task_weights)} has no weight for task(s) {missing} of the data: give every task a "
            "weight (0 leaves it out)"
        )
    if any(w < 0 for w in task_weights.values()) or not any(task_weights[t] > 0 for t in counts):
        raise ValueError(f"task_weights {dict(task_weights)}: weights must be >= 0 and one task of the data > 0")
    return torch.tensor([task_weights[t] / counts[t] for t in tasks], dtype=torch.float64)


def epoch_order(
    num_samples: int, *, seed: int, epoch: int, shuffle: bool, sample_weights: torch.Tensor | None = None
) -> torch.Tensor:
    """The dataset order of one epoch: a permutation drawn from a generator seeded by (seed, epoch), or with
    ``sample_weights`` [N] ``num_samples`` draws with replacement in proportion to them (same seeding)."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    if sample_weights is not None:
        return torch.multinomial(sample_weights.double(), num_samples, replacement=True, generator=generator)
    if not shuffle:
        return torch.arange(num_samples)
    return torch.randperm(num_samples, generator=generator)


def group_by_length(
    shard: list[int], lengths: Sequence[int], *, batch_size: int, window: int, generator: torch.Generator
) -> list[int]:
    """``shard`` reordered so that every micro-batch holds samples of similar length (little padding).

    The shard is cut into windows of ``window`` micro-batches; each window is sorted by length (longest first,
    ties in shard order) and cut into micro-batches, whose order within the window is then shuffled by
    ``generator``. Which samples a window holds, and so the mix of the data over an epoch, stays that of the
    shuffled order; only the neighbours within a batch change. Micro-batches stay aligned to ``batch_size``.
    """
    grouped: list[int] = []
    span = batch_size * window
    for begin in range(0, len(shard), span):
        chunk = sorted(shard[begin : begin + span], key=lambda i: -lengths[i])  # stable: ties keep shard order
        batches = [chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size)]
        full = [b for b in batches if len(b) == batch_size]  # a short tail batch stays last (drop_last drops it)
        order = torch.randperm(len(full), generator=generator).tolist()
        grouped += [i for k in order for i in full[k]] + [i for b in batches[len(full) :] for i in b]
    return grouped


class ShardedEpochSampler(Sampler[int]):
    """The indices one rank reads in one epoch, starting at ``start``.

    The epoch order is cut to a multiple of ``world_size`` (the tail is dropped, so every rank reads the same
    number of samples) and rank ``r`` takes positions ``r, r + world_size, ...``: ranks never share a sample.
    With ``lengths`` (tokens per sample of the dataset), the shuffled, trimmed epoch is grouped by length before it
    is sharded (:func:`group_by_length`), in windows of ``length_window`` global micro-batches of
    ``batch_size * world_size`` samples, seeded by (seed, epoch): every rank's micro-batch holds samples of similar
    length, and ``world_size`` processes with ``batch_size`` read, step by step, the samples of one process with
    ``batch_size * world_size``.
    """

    def __init__(
        self,
        num_samples: int,
        *,
        seed: int,
        epoch: int,
        shuffle: bool = True,
        rank: int = 0,
        world_size: int = 1,
        start: int = 0,
        lengths: Sequence[int] | None = None,
        batch_size: int = 1,
        length_window: int = 0,
        sample_weights: torch.Tensor | None = None,
    ) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside [0, world_size={world_size})")
        order = epoch_order(num_samples, seed=seed, epoch=epoch, shuffle=shuffle, sample_weights=sample_weights)
        per_rank = num_samples // world_size
        trimmed: list[int] = order[: per_rank * world_size].tolist()
        if lengths is not None and shuffle and length_window > 1:
            if len(lengths) != num_samples:
                raise ValueError(f"{len(lengths)} lengths for a dataset of {num_samples} samples")
            # The whole epoch is grouped in global micro-batches (batch_size samples of every rank) before it is
            # sharded, seeded by (seed, epoch) alone: rank r's k-th micro-batch is samples r, r + world_size, ...
            # of the k-th global one, the samples one process with batch_size * world_size would read at step k.
            generator = torch.Generator().manual_seed((seed * 1_000_003 + epoch) * 1_000_003 + 1)
            trimmed = group_by_length(
                trimmed, lengths, batch_size=batch_size * world_size, window=length_window, generator=generator
            )
        self.shard: list[int] = trimmed[rank::world_size]
        if not 0 <= start <= len(self.shard):
            raise ValueError(f"start {start} outside this rank's shard of {len(self.shard)} samples")
        self.start = start

    def __iter__(self) -> Iterator[int]:
        return iter(self.shard[self.start :])

    def __len__(self) -> int:
        return len(self.shard) - self.start


class BatchStream:
    """An endless stream of collated micro-batches that knows its :class:`DataPosition`.

    Each epoch gets a fresh DataLoader over a :class:`ShardedEpochSampler` (grouped by ``lengths`` in windows of
    ``length_window`` micro-batches when both are given); an incomplete last micro-batch is dropped. ``position`` always names the first sample of the next micro-batch, so a checkpoint taken between
    two micro-batches resumes at exactly the next sample (prefetching workers do not move it).
    """

    def __init__(
        self,
        dataset: Dataset[Any],
        collate_fn: Callable[[list[Any]], Any],
        *,
        batch_size: int,
        seed: int,
        shuffle: bool,
        rank: int,
        world_size: int,
        num_workers: int = 0,
        position: DataPosition | None = None,
        lengths: Sequence[int] | None = None,
        length_window: int = 0,
        sample_weights: torch.Tensor | None = None,
    ) -> None:
        self.dataset = dataset
        self.sample_weights = sample_weights
        self.collate_fn = collate_fn
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.rank = rank
        self.world_size = world_size
        self.num_workers = num_workers
        self.lengths = lengths
        self.length_window = length_window
        self.num_samples = len(dataset)  # type: ignore[arg-type]
        self.batches_per_epoch = (self.num_samples // world_size) // batch_size
        if self.batches_per_epoch == 0:
            raise DatasetTooSmallError(
                f"dataset of {self.num_samples} samples cannot give each of {world_size} process(es) one "
                f"micro-batch of {batch_size}: lower batch_size or the number of processes"
            )
        self.position = position if position is not None else DataPosition()

    def _loader(self) -> DataLoader[Any]:
        if isinstance(self.dataset, KnowsEpoch):  # before the loader copies the dataset into its workers
            self.dataset.set_epoch(self.position.epoch)
        sampler = ShardedEpochSampler(
            self.num_samples,
            seed=self.seed,
            epoch=self.position.epoch,
            shuffle=self.shuffle,
            rank=self.rank,
            world_size=self.world_size,
            start=self.position.index,
            lengths=self.lengths,
            batch_size=self.batch_size,
            length_window=self.length_window,
            sample_weights=self.sample_weights,
        )
        # A private generator seeds the workers without drawing from the global torch RNG.
        generator = torch.Generator().manual_seed(
            (self.seed * 1_000_003 + self.position.epoch) * 1_000_003 + self.position.index
        )
        return DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=sampler,
            collate_fn=self.collate_fn,
            drop_last=True,
            num_workers=self.num_workers,
            generator=generator,
            pin_memory=torch.cuda.is_available(),
        )

    def __iter__(self) -> Generator[Any, None, None]:
        while True:
            for batch in self._loader():
                self.position.index += self.batch_size
                if self.position.index // self.batch_size >= self.batches_per_epoch:
                    self.position = DataPosition(self.position.epoch + 1, 0)
                yield batch
            if self.position.index != 0:  # the loader ran dry early (only if the shard is shorter than planned)
                self.position = DataPosition(self.position.epoch + 1, 0)
