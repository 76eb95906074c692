"""Host side of code execution: a pool of long-lived runner workers.

A backend only knows how to start one worker (a container, or a host subprocess) and hand
back a byte stream to its runner; this module does the rest for both: request framing,
pipelining (a worker always has its next request queued), replacing workers after
anything abnormal, and retrying a job once when its worker died under it.

Failure modes and what happens:
- a test hangs (Python or C): the runner kills it at its time limit, reports "timeout";
- the answer kills its own process: the runner reports "crash" and runs the other tests;
- the runner dies or stops answering (answer killed it, engine trouble): the worker is
  replaced; the job that was running is retried and, if it also kills a worker started
  after the first died, its unfinished tests are reported as "crash"; jobs that were only queued
  behind it are retried without counting against them;
- the runner says it could not clean up after a job: the worker is replaced;
- no worker can be started: SandboxError, with the backend's reason.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol

from colbench.defaults import TEST_TIMEOUT_S
from colbench.errors import SandboxError
from colbench.sandbox.guest import ENCODE_TIMEOUT_S, MAX_JOB_BYTES, MAX_TIMEOUT_S, PROTOCOL_VERSION, time_limit
from colbench.sandbox.values import decode

log = logging.getLogger(__name__)

# A reply holds one job's values (the runner keeps them within MAX_JOB_BYTES together)
# plus per-test framing and error messages.
STREAM_LIMIT = MAX_JOB_BYTES + 4 * 1024 * 1024
# Replies longer than this are parsed off the event loop.
_PARSE_INLINE = 1 << 20
# Time a worker gets beyond the sum of its job's time limits (each test's call and the
# encoding of its value) before it is presumed stuck.
SLACK_S = 10.0
# Tries of one job across workers that died or were replaced under it. Hostile jobs kill at
# most three workers each (two strikes, the second on a worker started after the first), so only a sandbox that cannot work at all gets this far.
MAX_ATTEMPTS = 50


@dataclass
class Job:
    """Run `code`, then evaluate each of `calls`, each within `timeout` seconds."""

    code: str
    calls: list[str]
    timeout: float = TEST_TIMEOUT_S
    mode: str = "default"  # or "sweet_rl": the original checker's exec semantics

    def __post_init__(self) -> None:
        check_time_limit(self.timeout)


def check_time_limit(seconds: float, what: str = "a test's time limit") -> float:
    """`seconds` if it is a usable time limit; else SandboxError in one sentence."""
    limit = time_limit(seconds)
    if limit is None:
        raise SandboxError(f"{what} must be a number of seconds above 0 and at most {MAX_TIMEOUT_S:g}, "
                           f"not {seconds!r}")
    return limit


# How long a starting worker may take to say hello.
HELLO_TIMEOUT_S = 30.0


async def read_hello(reader: asyncio.StreamReader, description: str) -> dict:
    """The runner's first line (protocol version, isolation); SandboxError if it is not one."""
    try:
        line = await asyncio.wait_for(reader.readline(), HELLO_TIMEOUT_S)
        hello = json.loads(line)
    except (asyncio.TimeoutError, ValueError, ConnectionError, asyncio.LimitOverrunError) as exc:
        raise SandboxError(f"{description} did not start its runner ({type(exc).__name__})") from exc
    if type(hello) is not dict or hello.get("hello") != PROTOCOL_VERSION:
        raise SandboxError(f"{description} runs another sandbox runner version; rebuild it with "
                           "`colbench sandbox build`")
    return hello


@dataclass
class CallResult:
    status: str  # ok | error | timeout | crash
    value: Any = None
    error: str | None = None


class Worker(Protocol):
    """One live runner: a stream to it, and a way to stop it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    description: str
    isolation: str  # what the runner said: "container", "namespaces" or "none"

    async def close(self) -> None: ...


class WorkerLost(Exception):
    def __init__(self, reason: str, was_running: bool, worker_no: int = 0):
        super().__init__(reason)
        self.was_running = was_running
        self.worker_no = worker_no  # which start of the pool's the lost worker was (1, 2, ...)


@dataclass
class _Pending:
    future: asyncio.Future
    seq: int


@dataclass
class _Slot:
    """A place in the pool for one worker, replaced whenever it goes bad."""

    pool: "WorkerPool"
    worker: Worker | None = None
    pending: dict[int, _Pending] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    reader_task: asyncio.Task | None = None
    generation: int = 0
    worker_no: int = 0  # the pool's count of started workers when this one started

    async def ensure(self) -> None:
        async with self.lock:
            if self.worker is None:
                if self.pool.closed:
                    raise SandboxError("the sandbox pool is closed")
                worker = await self.pool.start_worker()
                if self.pool.closed:  # closed while it started: nothing may outlive the pool
                    await worker.close()
                    raise SandboxError("the sandbox pool is closed")
                self.worker = worker
                self.generation += 1
                self.pool.started += 1
                self.worker_no = self.pool.started
                self.reader_task = asyncio.create_task(self._read(self.worker, self.generation))

    async def _refill(self) -> None:
        try:
            await self.ensure()
        except Exception as exc:  # the next job that needs this slot tries again, and reports
            log.info("could not start a replacement sandbox worker yet: %s", exc)

    async def _read(self, worker: Worker, generation: int) -> None:
        reason = "sandbox worker closed its stream"
        try:
            while True:
                line = await worker.reader.readline()
                if not line:
                    break
                # A reply of many megabytes takes a while to parse: not on the event loop.
                msg = json.loads(line) if len(line) < _PARSE_INLINE else await asyncio.to_thread(json.loads, line)
                entry = self.pending.pop(msg["id"], None) if type(msg) is dict and type(msg.get("id")) is int else None
                if entry is None:
                    # Every reply answers a request of ours, in turn: anything else means the
                    # runner is not in a state to trust with more work.
                    reason = "sandbox worker sent a reply to no request"
                    break
                if not entry.future.done():
                    entry.future.set_result(msg)
        except asyncio.CancelledError:
            reason = "sandbox pool closed"
        except Exception as exc:  # ValueError, RecursionError, LimitOverrunError, ConnectionError...
            reason = f"sandbox worker sent a malformed reply ({type(exc).__name__})"
        if generation == self.generation:
            await self.retire(reason)

    async def retire(self, reason: str, blame_oldest: bool = True) -> None:
        """Stops the current worker; its pending requests fail with WorkerLost.

        The oldest pending request was the one running, and is blamed (it counts towards
        giving up on that job) unless the worker went bad for another reason."""
        worker, self.worker = self.worker, None
        pending, self.pending = self.pending, {}
        oldest = min((p.seq for p in pending.values()), default=None) if blame_oldest else None
        for p in pending.values():
            if not p.future.done():
                p.future.set_exception(WorkerLost(reason, was_running=p.seq == oldest, worker_no=self.worker_no))
        if worker is not None:
            log.info("replacing %s: %s", worker.description, reason)
            self.pool.track(worker.close())
            if not self.pool.closed and not blame_oldest:
                # Replaced after a job it could not clean up after: the replacement starts now,
                # not when the next job finds the slot empty (a container takes seconds to
                # start, and meanwhile jobs go to live workers). A worker that died under a
                # job is replaced when a job next needs the slot, so a worker that keeps
                # dying costs jobs their attempts, not an endless loop of restarts.
                self.pool.track(self._refill())
        task = self.reader_task
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _stuck(self, fut: asyncio.Future, generation: int) -> None:
        if not fut.done() and generation == self.generation:
            self.pool.track(self.retire("sandbox worker stopped answering"))

    async def request(self, payload: dict, wait_s: float) -> dict:
        await self.ensure()
        worker, generation = self.worker, self.generation
        assert worker is not None
        seq = next(self.pool.seq)
        payload = dict(payload, id=seq)
        fut = asyncio.get_running_loop().create_future()
        self.pending[seq] = _Pending(fut, seq)
        try:
            worker.writer.write(json.dumps(payload, separators=(",", ":")).encode() + b"\n")
            await worker.writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            if generation == self.generation:
                await self.retire(f"could not send to sandbox worker ({exc})")
        # A timer rather than asyncio.wait_for: no extra task per request on the hot path.
        timer = asyncio.get_running_loop().call_later(wait_s, self._stuck, fut, generation)
        try:
            msg = await fut
        finally:
            timer.cancel()
        if msg.get("fatal"):
            raise SandboxError(f"the sandbox runner rejected a request: {msg['fatal']}")
        if msg.get("retry"):
            if generation == self.generation:
                await self.retire(msg["retry"], blame_oldest=False)
            raise WorkerLost(msg["retry"], was_running=False)
        if msg.get("dirty") and generation == self.generation:
            # Jobs queued behind this one are not to blame for what it did.
            await self.retire("runner could not clean up after a job", blame_oldest=False)
        return msg


class WorkerPool:
    """Runs Jobs on `size` workers made by `start_worker`, `depth` requests in flight each."""

    def __init__(self, start_worker: Callable[[], Awaitable[Worker]], size: int, depth: int = 2):
        if size < 1:
            raise SandboxError("the sandbox pool needs at least one worker")
        self.start_worker = start_worker
        self.size = size
        self.seq = itertools.count(1)
        self.closing: set[asyncio.Future] = set()  # closes and restarts under way
        self.closed = False
        self.started = 0  # workers started so far
        self.depth = depth
        self._slots = [_Slot(self) for _ in range(size)]
        self._lanes = asyncio.Semaphore(size * depth)
        self._load = [0] * size

    async def start(self) -> None:
        """Starts every worker now (otherwise they start on first use)."""
        await asyncio.gather(*(s.ensure() for s in self._slots))

    @property
    def isolation(self) -> str | None:
        """How the live workers' runners isolate answers, the weakest if they differ (None
        before any started)."""
        kinds = {s.worker.isolation for s in self._slots if s.worker is not None}
        return max(kinds) if kinds else None  # the weakest: "none" > "namespaces" > "container"

    async def run(self, job: Job) -> list[dict]:
        """The runner's raw result for each call (see guest.py); `call_result` decodes one."""
        payload = {"code": job.code, "calls": job.calls, "timeout": job.timeout, "mode": job.mode}
        wait_s = len(job.calls) * (job.timeout + ENCODE_TIMEOUT_S + 0.5) + SLACK_S
        strikes = attempts = 0
        fresh_after = 0  # a death counts against the job only on a worker started after this
        last_reason = ""
        async with self._lanes:
            while True:
                attempts += 1
                if attempts > MAX_ATTEMPTS:
                    raise SandboxError(f"sandbox workers keep failing ({last_reason})")
                # A slot whose worker is up and has room, the least loaded; else the least loaded.
                i = min(range(self.size), key=lambda k: (self._slots[k].worker is None or self._load[k] >= self.depth,
                                                         self._load[k]))
                self._load[i] += 1
                try:
                    msg = await self._slots[i].request(payload, wait_s)
                    return msg["results"]
                except WorkerLost as lost:
                    last_reason = str(lost)
                    if lost.was_running and lost.worker_no > fresh_after:
                        # A worker that was already up when the job's last worker died may have
                        # died of the same outside cause (an engine killing every container):
                        # only a fresh worker's death is the job's second strike.
                        strikes += 1
                        fresh_after = self.started
                    if strikes >= 2:
                        reason = f"the sandbox worker died while running this answer ({lost})"
                        return [{"s": "crash", "e": reason} for _ in job.calls]
                finally:
                    self._load[i] -= 1

    def track(self, work: Awaitable[Any]) -> None:
        """Runs `work` in the background; `close` waits for it."""
        task = asyncio.ensure_future(work)
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    async def close(self) -> None:
        self.closed = True
        for slot in self._slots:
            await slot.retire("sandbox pool closed")
        while self.closing:
            done = list(self.closing)
            self.closing.clear()
            await asyncio.gather(*done, return_exceptions=True)

    async def __aenter__(self) -> "WorkerPool":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def call_result(raw: dict) -> CallResult:
    status = raw.get("s")
    if status == "ok":
        return CallResult("ok", value=decode(raw.get("v")))
    if status in ("error", "crash"):
        return CallResult(status, error=str(raw.get("e", ""))[:500])
    if status == "timeout":
        return CallResult("timeout", error="time limit exceeded")
    return CallResult("crash", error="no result")


def owner_alive(pid: int) -> bool:
    """Whether the process `pid` (a colbench that owns sandbox resources) still exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_dirs(prefix: str) -> int:
    """Removes our temporary directories named PREFIX + PID + "-..." whose colbench process
    (PID) no longer exists: what a kill can leave behind. Returns how many it removed."""
    removed = 0
    base = tempfile.gettempdir()
    try:
        names = os.listdir(base)
    except OSError:
        return 0
    for name in names:
        owner = name[len(prefix):].split("-", 1)[0] if name.startswith(prefix) else ""
        path = os.path.join(base, name)
        try:
            if (not owner.isdigit() or owner_alive(int(owner)) or os.lstat(path).st_uid != os.getuid()
                    or not os.path.isdir(path)):
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    return removed
