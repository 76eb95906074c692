"""Docker backend: long-lived, locked-down containers, each running the sandbox runner.

Each container: no network, read-only root, a small tmpfs for scratch files, memory and
pids limits, every capability dropped, no privilege escalation, an unprivileged user. The
runner is PID 1 of the container, so answer code can neither kill it nor hide a process
from it. The host talks to it over a Unix socket in a private directory mounted into the
container (the only host path it sees); the runner accepts one connection and unlinks
the socket, so nothing else can connect later, and the host then removes the directory.
Containers are removed by the engine as soon as they stop (the runner stops when the host
closes the connection, also when the host is killed), so nothing of a run outlives it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

from colbench.errors import SandboxError
from colbench.sandbox.pool import STREAM_LIMIT, WorkerPool, owner_alive, read_hello, remove_stale_dirs
from colbench.sandbox.guest import hash_seed_env

LABEL = "colbench.sandbox"
OWNER_LABEL = "colbench.owner"
GUEST_IN_IMAGE = "/opt/colbench/guest.py"
IPC_PREFIX = "colbench-ipc-"  # then the owner's pid: /tmp/colbench-ipc-PID-XXXX


@dataclass
class Limits:
    memory: str = "1g"
    pids: int = 64
    tmpfs: str = "64m"
    cpus: float = 1.0


def docker_client():
    """A client for the local engine, or SandboxError saying how to get one."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise SandboxError("the docker Python package is missing; reinstall colbench") from exc
    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except DockerException as exc:
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise SandboxError(
            f"the Docker engine is not reachable at {host}; start it (as root: "
            "`make system`, or `dockerd --bridge=none --iptables=false --ip-masq=false`) "
            "or use --sandbox process (weaker isolation)"
        ) from exc
    return client


class _Container:
    def __init__(self, container, reader, writer, isolation: str):
        self.container = container
        self.reader = reader
        self.writer = writer
        self.isolation = isolation
        self.description = f"sandbox container {container.short_id}"

    async def close(self) -> None:
        try:
            self.writer.close()
        except Exception:
            pass
        await asyncio.to_thread(_remove, self.container)


def _remove(container) -> None:
    from docker.errors import DockerException

    try:
        container.remove(force=True)
    except DockerException:
        pass


class DockerBackend:
    """Starts sandbox containers for a WorkerPool."""

    def __init__(self, image: str | None = None, limits: Limits | None = None):
        from colbench.sandbox.image import require_image

        self.client = docker_client()
        self.image = image or require_image(self.client)
        self.limits = limits or Limits()
        remove_orphans(self.client)

    def pool(self, size: int, depth: int = 2) -> WorkerPool:
        return WorkerPool(self.start_worker, size=size, depth=depth)

    async def start_worker(self) -> _Container:
        # A 0700 directory (only we reach the socket) holding the one the container mounts
        # (writable by its user, who creates the socket there). Both are removed as soon as
        # we are connected: the container keeps its mount, and nothing stays on disk.
        base = tempfile.mkdtemp(prefix=f"{IPC_PREFIX}{os.getpid()}-")
        ipc_dir = os.path.join(base, "ipc")
        os.mkdir(ipc_dir)
        os.chmod(ipc_dir, 0o777)
        sock = os.path.join(ipc_dir, "runner.sock")
        try:
            container = await asyncio.to_thread(self._run, ipc_dir)
            deadline = time.monotonic() + 30
            while True:
                try:
                    reader, writer = await asyncio.open_unix_connection(sock, limit=STREAM_LIMIT)
                    break
                except (FileNotFoundError, ConnectionRefusedError):
                    pass
                if time.monotonic() > deadline:
                    logs = await asyncio.to_thread(_logs, container)
                    await asyncio.to_thread(_remove, container)
                    raise SandboxError(f"a sandbox container did not start its runner within 30 s ({logs})")
                await asyncio.sleep(0.01)
            try:
                hello = await read_hello(reader, f"sandbox container {container.short_id}")
            except SandboxError:
                writer.close()
                await asyncio.to_thread(_remove, container)
                raise
        finally:
            shutil.rmtree(base, ignore_errors=True)
        return _Container(container, reader, writer, str(hello.get("isolation")))

    def _run(self, ipc_dir: str):
        from docker.errors import DockerException
        from docker.types import Mount

        lim = self.limits
        try:
            return self.client.containers.run(
                self.image,
                # Not -I, which ignores PYTHONHASHSEED; the environment is all ours.
                command=["python3", "-s", "-P", GUEST_IN_IMAGE, "--listen", "/ipc/runner.sock"],
                detach=True,
                network_mode="none",
                read_only=True,
                tmpfs={"/tmp": f"rw,nosuid,nodev,size={lim.tmpfs},mode=1777"},
                mounts=[Mount("/ipc", ipc_dir, type="bind")],
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                user="65534:65534",
                mem_limit=lim.memory,
                memswap_limit=lim.memory,
                pids_limit=lim.pids,
                nano_cpus=int(lim.cpus * 1e9),
                environment={"HOME": "/tmp", "OPENBLAS_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
                             **hash_seed_env()},
                working_dir="/tmp",
                labels={LABEL: "1", OWNER_LABEL: str(os.getpid())},
                auto_remove=True,  # gone once stopped, even if we are killed
            )
        except DockerException as exc:
            raise SandboxError(f"could not start a sandbox container: {_short(exc)}") from exc

    async def aclose(self) -> None:
        return None


def _logs(container) -> str:
    try:
        return container.logs(tail=3).decode(errors="replace").strip() or "no output"
    except Exception as exc:
        return _short(exc)


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1][:300] if text else type(exc).__name__


def remove_orphans(client) -> int:
    """Removes sandbox containers (and socket directories) left by colbench processes that
    no longer exist: what a kill in the middle of starting a worker can leave."""
    from docker.errors import DockerException

    remove_stale_dirs(IPC_PREFIX)
    removed = 0
    for c in sandbox_containers(client):
        owner = (c.get("Labels") or {}).get(OWNER_LABEL, "")
        if owner.isdigit() and owner_alive(int(owner)):
            continue
        try:
            client.api.remove_container(c["Id"], force=True)
            removed += 1
        except DockerException:
            pass  # removed meanwhile (they remove themselves once stopped)
    return removed


def sandbox_containers(client, running_only: bool = False) -> list[dict]:
    """Sandbox containers as the engine lists them (one call: a container that removes
    itself meanwhile cannot fail the listing)."""
    from docker.errors import DockerException

    try:
        return client.api.containers(all=not running_only, filters={"label": LABEL})
    except DockerException:
        return []


def build_sandbox_image(*, mirror: str | None = None, force: bool = False,
                        announce: Callable[[str], None] | None = None) -> tuple[str, bool]:
    """`colbench sandbox build`: the image built if it is missing (or `force`); returns
    (tag, built_now). `announce` is told before a build starts (it takes about a minute)."""
    from colbench.sandbox.image import build_image, find_image, image_tag

    client = docker_client()
    if announce is not None and (force or find_image(client) is None):
        announce(f"building {image_tag()} from Debian packages (about a minute) ...")
    return build_image(client, mirror=mirror, force=force)


@dataclass
class SandboxStatus:
    """`colbench sandbox status`: the engine, the image this colbench needs, and our containers."""

    engine_version: str
    wanted: str  # the image tag this colbench runs answers in
    built: bool
    size_mb: float | None
    created: str | None
    running: int  # sandbox containers running (any colbench process's)


def sandbox_status() -> SandboxStatus:
    from colbench.sandbox.image import find_image, image_tag

    client = docker_client()
    version = str(client.version().get("Version", "?"))
    tag = find_image(client)
    size = created = None
    if tag is not None:
        attrs = client.images.get(tag).attrs
        size, created = attrs.get("Size", 0) / 1e6, str(attrs.get("Created", "?"))[:19]
    return SandboxStatus(version, image_tag(), tag is not None, size, created,
                         len(sandbox_containers(client, running_only=True)))
