"""Docker backend plumbing: worker replacement, orphan clean-up, the image's contents."""

from __future__ import annotations

import os
import threading
import time

import docker
from helpers import backend_task

from colbench.sandbox.docker_backend import LABEL, OWNER_LABEL, DockerBackend, docker_client, sandbox_containers
from colbench.sandbox.image import image_tag


def _our_containers(client):
    return [client.containers.get(c["Id"]) for c in sandbox_containers(client, running_only=True)
            if c["Labels"].get(OWNER_LABEL) == str(os.getpid())]


def test_a_container_killed_from_outside_is_replaced_and_the_job_retried(docker_sandbox):
    client = docker_client()
    before = {c.id for c in _our_containers(client)}
    task = backend_task("def f(x):\n    return x + 1\n", ["f(1)", "f(2)", "f(3)"])
    slow = "import time\ndef f(x):\n    time.sleep(0.3)\n    return x + 1\n"

    def kill_soon():
        time.sleep(0.4)
        for c in _our_containers(client):
            try:
                c.kill()
            except docker.errors.APIError:
                pass

    killer = threading.Thread(target=kill_soon)
    killer.start()
    result = docker_sandbox.score(task, slow, timeout=2)
    killer.join()
    assert result.success, [(t.status, t.error) for t in result.tests]
    assert {c.id for c in _our_containers(client)} - before  # fresh workers took over
    assert docker_sandbox.score(task, "def f(x):\n    return x + 1\n").success


def test_containers_left_by_a_dead_process_are_removed_at_start():
    client = docker_client()
    orphan = client.containers.run(image_tag(), command=["sleep", "300"], detach=True, network_mode="none",
                                   labels={LABEL: "1", OWNER_LABEL: "999999999"})
    try:
        DockerBackend()
        remaining = [c["Id"] for c in sandbox_containers(client)]
        assert orphan.id not in remaining
    finally:
        try:
            orphan.remove(force=True)
        except docker.errors.NotFound:
            pass


def test_sandbox_containers_are_locked_down(docker_sandbox):
    client = docker_client()
    containers = _our_containers(client)
    assert containers
    cfg = containers[0].attrs["HostConfig"]
    assert cfg["NetworkMode"] == "none"
    assert cfg["ReadonlyRootfs"] is True
    assert cfg["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in cfg["SecurityOpt"]
    assert cfg["Memory"] > 0 and cfg["PidsLimit"] > 0
    assert containers[0].attrs["Config"]["User"] == "65534:65534"


def test_reference_functions_may_import_numpy_and_beautifulsoup(docker_sandbox):
    ref = ("import numpy as np\nfrom bs4 import BeautifulSoup\n"
           "def f(html):\n    soup = BeautifulSoup(html, 'html.parser')\n"
           "    return float(np.mean([len(p.text) for p in soup.find_all('p')]))\n")
    task = backend_task(ref, ["f('<p>ab</p><p>abcd</p>')", "f('<p>x</p>')"])
    result = docker_sandbox.score(task, ref)
    assert result.success, [(t.status, t.error) for t in result.tests]
