"""A reference answer scores 1.0 against itself: every time, in both sandboxes and modes.

Reference and answer run in different processes (never one process, as in the original
checker), so equal code must give equal output across processes: set iteration order of
strings depends on the hash seed, which is why every runner hashes with one fixed seed.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
from helpers import backend_task

from colbench.sandbox.image import guest_path
from colbench.scoring.refcache import ReferenceCache
from colbench.tasks import load_tasks

RUNS = 5

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon"]

# The shape of official tasks 248 and 704 (and 552, 863): a set of strings, returned as a
# list or used for order. Their output is the set's iteration order.
SET_ORDER_TASKS = [
    backend_task("def unique_tags(posts):\n    return list(set(t for p in posts for t in p.split()))\n",
                 [f"unique_tags({[' '.join(WORDS[i:i + 4]) for i in range(0, n, 2)]!r})" for n in range(6, 16)],
                 task_id="set-to-list"),
    backend_task("def shared(a, b):\n    return [w.upper() for w in set(a) & set(b)]\n",
                 [f"shared({WORDS[:n]!r}, {WORDS[n // 3:]!r})" for n in range(8, 18)],
                 task_id="set-intersection"),
    backend_task("def rank(words):\n    return {w: i for i, w in enumerate(set(words))}\n",
                 [f"rank({WORDS[:n] * 2!r})" for n in range(5, 15)],
                 task_id="set-enumerate"),
    backend_task("def first(words):\n    return next(iter(frozenset(words)))\n",
                 [f"first({WORDS[k:k + 9]!r})" for k in range(10)],
                 task_id="frozenset-first"),
]


def _tasks(sample_dir, compat):
    tasks = list(SET_ORDER_TASKS)
    if compat is None:
        # The bundled tasks' references use helpers and imports, which the original
        # checker's exec quirks (compat mode) break by design; official ones do not.
        tasks += load_tasks("bundled", "backend").tasks
    if sample_dir is not None:
        tasks += load_tasks(sample_dir / "backend_test_sample.jsonl").tasks
    return tasks


@pytest.fixture(scope="module")
def maybe_sample():
    import os
    from pathlib import Path
    env = os.environ.get("COLBENCH_SAMPLE_DIR")
    return Path(env) if env else None


async def _score_references(kind: str, compat: str | None, tasks) -> dict[str, float]:
    from colbench.sandbox import open_sandbox
    from colbench.scoring.backend import BackendScorer

    # A fresh sandbox (new runner processes) and no cache: every run computes everything.
    async with open_sandbox(kind, 2) as box:
        scorer = BackendScorer(box, compat=compat, cache=ReferenceCache(None))
        results = await asyncio.gather(*(scorer.score(t, t.ground_truth) for t in tasks))
    return {t.task_id: r.score for t, r in zip(tasks, results)}


@pytest.mark.parametrize("compat", [None, "sweet_rl"])
@pytest.mark.parametrize("kind", ["docker", "process"])
def test_every_reference_scores_one_against_itself_run_after_run(kind, compat, maybe_sample, request):
    if kind == "docker":
        request.getfixturevalue("docker_sandbox")  # skips or fails like the other Docker tests
    tasks = _tasks(maybe_sample, compat)
    for run in range(RUNS):
        scores = asyncio.run(_score_references(kind, compat, tasks))
        below = {task_id: s for task_id, s in scores.items() if s != 1.0}
        assert not below, f"run {run + 1}: references scoring below 1.0 against themselves: {below}"


def _hash_in_runner(*python_flags: str) -> int:
    """hash('colbench') as computed by an answer in a runner started with these flags."""
    req = {"id": 1, "code": "def h():\n    return hash('colbench')\n", "calls": ["h()"], "timeout": 5}
    proc = subprocess.run([sys.executable, *python_flags, str(guest_path()), "--stdio"],
                          input=json.dumps(req) + "\n", capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})
    hello, reply = proc.stdout.splitlines()[:2]  # the runner says hello first
    assert "hello" in json.loads(hello)
    result = json.loads(reply)["results"][0]
    assert result["s"] == "ok", result
    return result["v"] if isinstance(result["v"], int) else int(result["v"]["I"], 16)


def test_runner_hashes_with_the_fixed_seed_however_it_is_started():
    # -I ignores PYTHONHASHSEED; the runner re-executes itself with the seed then.
    seeded = subprocess.run([sys.executable, "-c", "print(hash('colbench'))"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"}).stdout.strip()
    assert _hash_in_runner("-I") == _hash_in_runner() == int(seeded)
