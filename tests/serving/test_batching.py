"""The batcher: which requests share a batch, FIFO order, a bad request failing alone, the queue bound."""

from __future__ import annotations

import asyncio
import threading

import pytest

from earthgpt.serving.batching import Batcher, Job, QueueFullError, Sampling


def _job(name: str, sampling: Sampling) -> Job:
    return Job(pixels=None, dialogue=[name], sampling=sampling)


class Recorder:
    """A fake model: records each batch's names; a job named ``bad`` makes its batch raise."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, jobs: list[Job]) -> list[str]:
        self.gate.wait(5)
        names = [str(j.dialogue[0]) for j in jobs]
        self.batches.append(names)
        if "bad" in names:
            raise ValueError("bad request")
        return [n.upper() for n in names]


async def _submit_all(batcher: Batcher, jobs: list[Job]) -> list[object]:
    batcher.start()
    try:
        return await asyncio.gather(*(batcher.submit(j) for j in jobs), return_exceptions=True)
    finally:
        await batcher.stop()


def test_greedy_requests_of_one_setting_share_batches_up_to_max_batch_in_order() -> None:
    run = Recorder()
    greedy = Sampling(8)
    jobs = [_job(f"g{i}", greedy) for i in range(5)]
    results = asyncio.run(_submit_all(Batcher(run, max_batch=2, wait_s=0.01), jobs))
    assert results == ["G0", "G1", "G2", "G3", "G4"]
    assert run.batches == [["g0", "g1"], ["g2", "g3"], ["g4"]]


def test_settings_split_batches_and_seeds_batch_only_with_their_own_seed() -> None:
    run = Recorder()
    jobs = [
        _job("a", Sampling(8)),
        _job("b", Sampling(8, temperature=0.7)),
        _job("c", Sampling(8, temperature=0.7, seed=1)),
        _job("d", Sampling(8)),
        _job("e", Sampling(8, temperature=0.7, seed=1)),
        _job("h", Sampling(8, temperature=0.7, seed=2)),
        _job("f", Sampling(4)),  # another max_tokens
        _job("g", Sampling(8, temperature=0.0, top_p=0.5, seed=3)),  # greedy: top_p and seed do not matter
    ]
    asyncio.run(_submit_all(Batcher(run, max_batch=8, wait_s=0.01), jobs))
    assert run.batches == [["a", "d", "g"], ["b"], ["c", "e"], ["h"], ["f"]]


def test_a_failing_batch_is_rerun_one_by_one_so_only_the_bad_request_fails() -> None:
    run = Recorder()
    jobs = [_job(n, Sampling(8)) for n in ("x", "bad", "y")]
    results = asyncio.run(_submit_all(Batcher(run, max_batch=8, wait_s=0.01), jobs))
    assert results[0] == "X" and results[2] == "Y"
    assert isinstance(results[1], ValueError)
    assert run.batches == [["x", "bad", "y"], ["x"], ["bad"], ["y"]]


def test_a_full_queue_refuses_with_a_retry_estimate() -> None:
    async def scenario() -> tuple[list[object], int]:
        run = Recorder()
        run.gate.clear()  # the model is busy: nothing leaves the queue
        batcher = Batcher(run, max_batch=1, wait_s=0.0, max_queue=2)
        batcher.start()
        first = asyncio.ensure_future(batcher.submit(_job("running", Sampling(8))))
        await asyncio.sleep(0.05)  # taken into the running batch
        waiting = [asyncio.ensure_future(batcher.submit(_job(f"w{i}", Sampling(8)))) for i in range(2)]
        await asyncio.sleep(0.01)
        with pytest.raises(QueueFullError) as refused:
            await batcher.submit(_job("over", Sampling(8)))
        run.gate.set()
        results = await asyncio.gather(first, *waiting)
        await batcher.stop()
        return results, refused.value.retry_after

    results, retry_after = asyncio.run(scenario())
    assert results == ["RUNNING", "W0", "W1"]
    assert retry_after >= 1


def test_a_cancelled_wait_leaves_the_queue() -> None:
    async def scenario() -> list[list[str]]:
        run = Recorder()
        run.gate.clear()
        batcher = Batcher(run, max_batch=1, wait_s=0.0)
        batcher.start()
        first = asyncio.ensure_future(batcher.submit(_job("running", Sampling(8))))
        await asyncio.sleep(0.05)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(batcher.submit(_job("gave-up", Sampling(8))), 0.01)
        assert batcher.waiting == 1  # cancelled, dropped when the batcher next looks
        run.gate.set()
        await first
        await asyncio.sleep(0.05)
        await batcher.stop()
        return run.batches

    assert asyncio.run(scenario()) == [["running"]]
