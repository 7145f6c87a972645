"""The request queue and dynamic batcher in front of the one model.

Batching: requests wait in one FIFO queue. The batcher takes the oldest request and every queued request with the
same sampling settings (:class:`Sampling`), up to ``max_batch``; when fewer are there it first waits ``wait_s`` (a
few ms) for more. The batch goes to the model as one left-padded :meth:`Predictor.generate` call on one worker
thread, so the event loop keeps accepting requests meanwhile and the next batch forms while this one runs.

* Greedy requests (temperature 0) batch with every greedy request of the same ``max_tokens`` and ``stop``: their
  answers equal the one-by-one answers.
* Sampled requests batch with those of the same temperature, top_p, max_tokens, stop and seed (the Predictor seeds
  a generator per sample, so a seeded answer does not depend on what it was batched with).

A failed batch is rerun request by request, so one bad request fails alone. The queue holds at most ``max_queue``
waiting requests; beyond that :class:`QueueFullError` (429 with Retry-After).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Batcher", "Job", "QueueFullError", "Sampling"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sampling:
    """Per-request generation settings; requests with equal ``key`` may share a batch."""

    max_new_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    key: tuple[Any, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if self.temperature == 0:
            key: tuple[Any, ...] = ("greedy", self.max_new_tokens, self.stop)
        else:  # each sample draws from its own generator seeded with ``seed``: batching does not change it
            key = ("sampled", self.max_new_tokens, self.stop, self.temperature, self.top_p, self.seed)
        object.__setattr__(self, "key", key)

    def options(self) -> dict[str, Any]:
        """Keyword options of ``Predictor.generate``."""
        return {
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "stop": list(self.stop) or None,
            "seed": self.seed,
        }


@dataclass
class Job:
    """One request's generation input: the model pixels, the dialogue, the settings and the EarthGPT-X extras."""

    pixels: Any  # torch.Tensor [3, S, S]
    dialogue: Sequence[Any]  # Sequence[Message], ending with the user's question
    sampling: Sampling
    prompts: tuple[Any, ...] = ()  # VisualPrompt per <regionK>
    views: str = ""
    future: asyncio.Future[Any] | None = None


class QueueFullError(RuntimeError):
    """The queue is full; ``retry_after`` is the estimated wait in whole seconds."""

    def __init__(self, waiting: int, retry_after: int) -> None:
        super().__init__(f"{waiting} requests are waiting, the server's --max-queue; retry in {retry_after} s")
        self.waiting = waiting
        self.retry_after = retry_after


RunBatch = Callable[[list[Job]], list[Any]]
"""Generates one batch (all with the same sampling key) -> one result per job, in order."""


class Batcher:
    """Collects jobs into batches and runs them on one worker thread; see the module docstring."""

    def __init__(self, run: RunBatch, max_batch: int = 8, wait_s: float = 0.005, max_queue: int = 256) -> None:
        if max_batch < 1 or max_queue < 1 or wait_s < 0:
            raise ValueError(f"max_batch={max_batch} and max_queue={max_queue} must be >= 1, wait_s={wait_s} >= 0")
        self.run = run
        self.max_batch = max_batch
        self.wait_s = wait_s
        self.max_queue = max_queue
        self._pending: deque[Job] = deque()
        self._ready = asyncio.Event()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="earthgpt-generate")
        self._task: asyncio.Task[None] | None = None
        self._batch_seconds = 1.0  # running mean of one batch's time: the Retry-After estimate
        self.batches = 0
        self.requests = 0

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="earthgpt-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for job in self._pending:
            if job.future is not None and not job.future.done():
                job.future.cancel()
        self._pending.clear()
        self._worker.shutdown(wait=True)

    async def submit(self, job: Job) -> Any:
        """Queue ``job`` and wait for its result (a cancelled wait, e.g. a timeout, takes it out of the queue)."""
        if len(self._pending) >= self.max_queue:
            batches_ahead = math.ceil(len(self._pending) / self.max_batch)
            raise QueueFullError(len(self._pending), max(1, math.ceil(batches_ahead * self._batch_seconds)))
        job.future = asyncio.get_running_loop().create_future()
        self._pending.append(job)
        self._ready.set()
        return await job.future

    def _drop_cancelled(self) -> None:
        if any(j.future is None or j.future.done() for j in self._pending):
            self._pending = deque(j for j in self._pending if j.future is not None and not j.future.done())

    def _take(self) -> list[Job]:
        """The oldest job and the queued jobs that share its sampling key, up to ``max_batch``, in FIFO order."""
        key = self._pending[0].sampling.key
        batch: list[Job] = []
        rest: deque[Job] = deque()
        for job in self._pending:
            (batch if job.sampling.key == key and len(batch) < self.max_batch else rest).append(job)
        self._pending = rest
        return batch

    def _same_key(self) -> int:
        key = self._pending[0].sampling.key
        return sum(1 for j in self._pending if j.sampling.key == key)

    async def _loop(self) -> None:
        while True:
            await self._ready.wait()
            self._drop_cancelled()
            if not self._pending:
                self._ready.clear()
                continue
            if self.wait_s > 0 and self._same_key() < self.max_batch:
                await asyncio.sleep(self.wait_s)
                self._drop_cancelled()
                if not self._pending:
                    continue
            await self._execute(self._take())

    async def _execute(self, batch: list[Job]) -> None:
        loop = asyncio.get_running_loop()
        began = time.perf_counter()
        try:
            results = await loop.run_in_executor(self._worker, self.run, batch)
        except Exception as exc:
            if len(batch) > 1:  # find the bad request: the others still get their answers
                log.info("a batch of %d failed (%s); running its requests one by one", len(batch), exc)
                for job in batch:
                    await self._execute([job])
                return
            _resolve(batch[0], exc=exc)
            return
        self._batch_seconds = 0.8 * self._batch_seconds + 0.2 * (time.perf_counter() - began)
        self.batches += 1
        self.requests += len(batch)
        for job, result in zip(batch, results, strict=True):
            _resolve(job, result=result)


def _resolve(job: Job, result: Any = None, exc: BaseException | None = None) -> None:
    fut = job.future
    if fut is None or fut.done():  # timed out or cancelled meanwhile
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)
