"""Process backend: the same runner as a host subprocess, for machines without Docker.

Weaker isolation than Docker, and said so wherever it is chosen: answers run as the host
user and can read what that user can read. Where the system allows unprivileged user
namespaces (most Linux systems, and root everywhere), the runner also puts answers in
namespaces of their own: no network (a loopback only), a private /dev/shm and SysV IPC,
emptied after every job, and a PID namespace whose processes the kernel kills when the
runner ends, so nothing an answer starts outlives its worker. Without them, answers can
reach the network, and leftover processes are found by the worker's marker in their
environment. Either way: each job runs in a fresh forked child with a time limit per test,
an address-space limit, a private scratch directory and an environment of ours; leftover
processes are killed; values are compared on the host exactly as with Docker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import sys
import tempfile

from colbench.procs import kill_marked
from colbench.sandbox.image import guest_path
from colbench.sandbox.pool import STREAM_LIMIT, WorkerPool, read_hello, remove_stale_dirs
from colbench.sandbox.guest import hash_seed_env

log = logging.getLogger(__name__)

WARNING = ("the process sandbox gives weaker isolation than Docker: answers run as your user, "
           "can read your files and reach the network")
NAMESPACED = ("the process sandbox gives weaker isolation than Docker: answers run as your user and can "
              "read your files (they have no network, and their own /dev/shm, IPC and process namespaces)")

CHILD_MEMORY = 2 * 1024**3
CHILD_FSIZE = 64 * 1024**2
SCRATCH_PREFIX = "colbench-scratch-"  # then the owner's pid: /tmp/colbench-scratch-PID-XXXX


class _Process:
    def __init__(self, proc: asyncio.subprocess.Process, scratch: str, isolation: str):
        self.proc = proc
        self.scratch = scratch
        self.isolation = isolation
        assert proc.stdout is not None and proc.stdin is not None
        self.reader = proc.stdout
        self.writer = proc.stdin
        self.description = f"sandbox process {proc.pid}"

    async def close(self) -> None:
        # The runner and its zygote share a process group; answers' processes are found by
        # the scratch marker in their environment (in namespaces, the kernel kills them).
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        await self.proc.wait()
        # What an answer left when its runner could not clean up (it was killed).
        kill_marked(f"COLBENCH_SCRATCH={self.scratch}".encode(), "environ")
        shutil.rmtree(self.scratch, ignore_errors=True)


class ProcessBackend:
    def __init__(self) -> None:
        self._warned = False
        remove_stale_dirs(SCRATCH_PREFIX)

    def pool(self, size: int, depth: int = 2) -> WorkerPool:
        return WorkerPool(self.start_worker, size=size, depth=depth)

    async def start_worker(self) -> _Process:
        scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": scratch,
            "TMPDIR": scratch,
            "COLBENCH_SCRATCH": scratch,
            "COLBENCH_CHILD_MEMORY": str(CHILD_MEMORY),
            "COLBENCH_CHILD_FSIZE": str(CHILD_FSIZE),
            "COLBENCH_NAMESPACES": os.environ.get("COLBENCH_NAMESPACES", "1"),
            "OPENBLAS_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            **hash_seed_env(),
        }
        # Not -I: it would ignore PYTHONHASHSEED. The environment above is the whole of it,
        # and -s -P keep user site-packages and the script's folder off the path as -I does.
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-s", "-P", str(guest_path()), "--stdio",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, env=env, cwd=scratch, limit=STREAM_LIMIT,
            start_new_session=True,
        )
        worker = _Process(proc, scratch, "none")
        try:
            worker.isolation = str((await read_hello(worker.reader, worker.description)).get("isolation"))
        except BaseException:
            await worker.close()
            raise
        if not self._warned:
            self._warned = True
            log.warning(NAMESPACED if worker.isolation == "namespaces" else WARNING)
        return worker

    async def aclose(self) -> None:
        return None
