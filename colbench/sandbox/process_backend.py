"""Process backend: the same runner as a host subprocess, for machines without Docker.

Weaker isolation, and said so wherever it is chosen: answers run as the host user, can
read what that user can read and reach the network. What still holds: each job runs in a
fresh forked child with a time limit per test, an address-space limit, a private scratch
directory and an empty environment; leftover processes are killed; values are compared on
the host exactly as with Docker.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import tempfile

from colbench.sandbox.image import runner_path
from colbench.sandbox.pool import STREAM_LIMIT, WorkerPool
from colbench.sandbox.runner import hash_seed_env

log = logging.getLogger(__name__)

WARNING = ("the process sandbox gives weaker isolation than Docker: answers run as your user, "
           "can read your files and reach the network")

CHILD_MEMORY = 2 * 1024**3
CHILD_FSIZE = 64 * 1024**2


class _Process:
    def __init__(self, proc: asyncio.subprocess.Process, scratch: str):
        self.proc = proc
        self.scratch = scratch
        assert proc.stdout is not None and proc.stdin is not None
        self.reader = proc.stdout
        self.writer = proc.stdin
        self.description = f"sandbox process {proc.pid}"

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)


class ProcessBackend:
    def __init__(self) -> None:
        log.warning(WARNING)

    def pool(self, size: int, depth: int = 2) -> WorkerPool:
        return WorkerPool(self.start_worker, size=size, depth=depth)

    async def start_worker(self) -> _Process:
        scratch = tempfile.mkdtemp(prefix="colbench-scratch-")
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": scratch,
            "TMPDIR": scratch,
            "COLBENCH_SCRATCH": scratch,
            "COLBENCH_CHILD_MEMORY": str(CHILD_MEMORY),
            "COLBENCH_CHILD_FSIZE": str(CHILD_FSIZE),
            "OPENBLAS_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            **hash_seed_env(),
        }
        # Not -I: it would ignore PYTHONHASHSEED. The environment above is the whole of it,
        # and -s -P keep user site-packages and the script's folder off the path as -I does.
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-s", "-P", str(runner_path()), "--stdio",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, env=env, cwd=scratch, limit=STREAM_LIMIT,
            start_new_session=True,
        )
        return _Process(proc, scratch)

    async def aclose(self) -> None:
        return None
