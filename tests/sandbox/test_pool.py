"""The worker pool: a worker replaced after a job it could not clean up costs later jobs nothing.

Workers here are real process-sandbox runners; only their start is held back by the test,
standing in for a container that is slow to start on a loaded machine.
"""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from colbench.sandbox import Sandbox, WorkerPool
from colbench.sandbox.pool import Job, call_result
from colbench.sandbox.process_backend import ProcessBackend
from colbench.scoring.backend import BackendScorer
from test_exploits import HONEST, TASK

# Renices the process that forks every child (same uid may): the runner notices and asks to
# be replaced. (SIGSTOP would not do here: in its PID namespace the factory is PID 1.)
SPOIL_THE_WORKER = "import os\ndef target(x):\n    os.setpriority(os.PRIO_PROCESS, os.getppid(), 19)\n    return 0\n"


class HeldStarts:
    """start_worker for a pool: the first `free` starts go through, later ones wait for `go`.
    `answers` (of `size` workers started this way) and `references` make `scorer`'s sandbox."""

    def __init__(self, free: int, size: int):
        self.backend, self.free = ProcessBackend(), free
        self.go = asyncio.Event()
        self.started: list = []
        self.asked = 0
        self.answers, self.references = WorkerPool(self, size=size), WorkerPool(self.backend.start_worker, size=1)
        self.scorer = BackendScorer(Sandbox("process", self.answers, self.references))

    async def close(self) -> None:
        await asyncio.gather(self.answers.close(), self.references.close())

    async def __call__(self):
        self.asked += 1
        if self.asked > self.free:
            await self.go.wait()
        worker = await self.backend.start_worker()
        self.started.append(worker)
        return worker


async def _until(condition, seconds: float = 10.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_replaced_worker_is_restarted_at_once_and_the_next_job_runs_on_a_live_one():
    async def main():
        starts = HeldStarts(free=2, size=2)
        scorer = starts.scorer
        try:
            await starts.answers.start()
            assert (await scorer.score(TASK, HONEST)).success
            assert (await scorer.score(TASK, SPOIL_THE_WORKER)).passed == 0
            # The stopped worker is being replaced (its start is held), and the next job does
            # not wait for that: it runs on the worker that is up.
            assert await _until(lambda: starts.asked == 3), starts.asked
            honest = await asyncio.wait_for(scorer.score(TASK, HONEST), 15)
            assert honest.success, [(t.status, t.error) for t in honest.tests]
            assert len(starts.started) == 2
            starts.go.set()
            assert await _until(lambda: len(starts.started) == 3)  # started with no job asking
        finally:
            starts.go.set()
            await starts.close()
        assert not any(_alive(w.proc.pid) for w in starts.started)

    asyncio.run(main())


def test_a_replacement_that_finishes_starting_after_the_pool_closed_is_stopped():
    async def main():
        starts = HeldStarts(free=1, size=1)
        await starts.answers.start()
        assert (await starts.scorer.score(TASK, SPOIL_THE_WORKER)).passed == 0
        assert await _until(lambda: starts.asked == 2)  # the replacement is starting, held
        closing = asyncio.ensure_future(starts.close())
        await asyncio.sleep(0.1)
        starts.go.set()
        await asyncio.wait_for(closing, 30)
        assert len(starts.started) == 2
        assert not any(_alive(w.proc.pid) for w in starts.started)

    asyncio.run(main())


def test_a_job_whose_worker_and_the_next_are_killed_from_outside_still_runs_on_a_fresh_one():
    """An engine that kills every worker at once must not cost a job its result: only the
    death of a worker started after the job's first one died counts against the job."""
    async def main():
        starts = HeldStarts(free=10, size=2)
        pool = starts.answers
        slow = Job("import time\ndef f(x):\n    time.sleep(0.3)\n    return x + 1\n", ["f(1)", "f(2)"], timeout=2)
        try:
            await pool.start()
            first, second = starts.started
            os.kill(second.proc.pid, signal.SIGSTOP)  # dead to the pool once it next hears from it
            running = asyncio.ensure_future(pool.run(slow))
            await asyncio.sleep(0.2)  # the job runs on the first worker (the other one is not chosen: idle, equal)
            os.kill(first.proc.pid, signal.SIGKILL)
            assert await _until(lambda: any(s.pending for s in pool._slots if s.worker is second))
            os.kill(second.proc.pid, signal.SIGKILL)  # the retry was sent to the stopped worker: it dies too
            results = [call_result(r) for r in await asyncio.wait_for(running, 30)]
            assert [(r.status, r.value) for r in results] == [("ok", 2), ("ok", 3)], results
            assert len(starts.started) >= 3
        finally:
            await starts.close()

    asyncio.run(main())


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
