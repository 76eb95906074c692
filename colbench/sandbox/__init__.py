"""Code execution for backend scoring: a pool of sandbox workers (Docker or host process)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from contextlib import asynccontextmanager
from typing import AsyncIterator, Protocol

from colbench.errors import SandboxError
from colbench.sandbox.pool import CallResult, Job, WorkerPool, call_result

SANDBOX_KINDS = ("docker", "process")

__all__ = ["SANDBOX_KINDS", "CallResult", "Job", "WorkerPool", "call_result", "Sandbox", "default_pool_size",
           "open_sandbox"]


def default_pool_size() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


class Backend(Protocol):
    """Where workers run (Docker containers or host processes): pools of them, and cleanup."""

    def pool(self, size: int, depth: int = 2) -> WorkerPool: ...

    async def aclose(self) -> None: ...


@dataclass
class Sandbox:
    """Two pools that never share a process: answers run in one, reference functions in the other.

    An answer's process then holds nothing of any reference, not even freed memory of an
    earlier job, so no amount of introspection can find expected outputs.
    """

    kind: str
    answers: WorkerPool
    references: WorkerPool


@asynccontextmanager
async def open_sandbox(kind: str = "docker", size: int | None = None) -> AsyncIterator[Sandbox]:
    """Started answer workers (`size` of them) and a reference worker started on first use;
    everything is stopped (containers removed) on exit."""
    backend: Backend
    if kind == "docker":
        from colbench.sandbox.docker_backend import DockerBackend
        backend = DockerBackend()
    elif kind == "process":
        from colbench.sandbox.process_backend import ProcessBackend
        backend = ProcessBackend()
    else:
        raise SandboxError(f"unknown sandbox {kind!r}; use docker or process")
    box = Sandbox(kind, backend.pool(size or default_pool_size()), backend.pool(1))
    try:
        await box.answers.start()
        yield box
    finally:
        await asyncio.gather(box.answers.close(), box.references.close())
        await backend.aclose()
