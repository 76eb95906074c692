"""Backend scoring semantics, compat mode, backend parity and the reference cache."""

from __future__ import annotations

import json
import multiprocessing
import re
import signal
from queue import Empty

import pytest
from helpers import backend_task

from colbench.scoring.refcache import ReferenceCache
from colbench.tasks import load_tasks


def faithful_expectation(task):
    """Which tests a reference answer must pass: those where the reference returns non-None
    without raising (the reference is trusted task data, so it may run in-process here)."""
    out = []
    for call in task.test_cases.values():
        ns = {"__name__": "reference"}
        try:
            exec(task.ground_truth, ns)
            out.append(eval(call, ns) is not None)
        except Exception:
            out.append(False)
    return out


# The original checker's helper, defined in a namespace holding what its module held, since
# an answer's functions see those module globals (and not the answer's own names).
_ORIGINAL_NAMESPACE = {"signal": signal, "multiprocessing": multiprocessing, "Empty": Empty}
exec(
    "def get_function_output(function_definition, test_case):\n"
    "    try:\n"
    "        exec(function_definition)\n"
    "        return eval(test_case)\n"
    "    except Exception as e:\n"
    "        return None\n",
    _ORIGINAL_NAMESPACE,
)


def original_checker_score(reference: str, answer: str, calls: list[str]) -> float:
    """The original research checker's arithmetic, for honest answers (no timeouts needed)."""
    for needle in ("import os", "from os", "import sys", "from sys", "sudo", "transformers",
                   "exit(", "quit(", "argparse"):
        if needle in answer:
            return 0.0
    if "```python" in answer:
        answer = answer.split("```python")[1].split("```")[0]
    if "```" in answer:
        answer = answer.split("```")[1].split("```")[0]

    output = _ORIGINAL_NAMESPACE["get_function_output"]
    correct = 0
    for call in calls:
        expected, actual = output(reference, call), output(answer, call)
        try:
            if expected == actual and expected is not None:
                correct += 1
        except ValueError:
            pass
    return correct / len(calls)


def statuses(result):
    return [t.status for t in result.tests]


def test_reference_answers_on_the_real_sample_score_what_the_semantics_say(docker_sandbox, sample_dir):
    tasks = load_tasks(sample_dir / "backend_test_sample.jsonl").tasks
    scorer = docker_sandbox.scorer()
    results = docker_sandbox.run(_gather(scorer, [(t, t.ground_truth) for t in tasks]))
    for task, result in zip(tasks, results):
        assert [t.passed for t in result.tests] == faithful_expectation(task), task.task_id
        assert result.score == sum(faithful_expectation(task)) / len(task.test_cases)
    assert sum(r.passed for r in results) >= 0.9 * sum(r.total for r in results)


async def _gather(scorer, pairs):
    import asyncio
    return await asyncio.gather(*(scorer.score(t, a) for t, a in pairs))


def wrong_answer(task) -> str:
    """A plausible wrong answer: the reference with every integer literal bumped by one."""
    return re.sub(r"(?<![\w.])(\d+)(?![\w.])", lambda m: str(int(m.group(1)) + 1), task.ground_truth)


def _task_sets(sample):
    sets = [load_tasks("bundled", "backend").tasks]
    if sample is not None:
        sets.append(load_tasks(sample / "backend_test_sample.jsonl").tasks)
    return [t for s in sets for t in s]


@pytest.fixture(scope="module")
def maybe_sample():
    import os
    from pathlib import Path
    env = os.environ.get("COLBENCH_SAMPLE_DIR")
    return Path(env) if env else None


@pytest.mark.parametrize("compat", [None, "sweet_rl"])
def test_docker_and_process_backends_give_identical_results(docker_sandbox, process_sandbox, maybe_sample, compat):
    tasks = _task_sets(maybe_sample)
    pairs = [(t, t.ground_truth) for t in tasks] + [(t, wrong_answer(t)) for t in tasks]
    got = {}
    for box in (docker_sandbox, process_sandbox):
        results = box.run(_gather(box.scorer(compat=compat, cache=ReferenceCache(None)), pairs))
        got[box.kind] = [(r.score, statuses(r), [(t.expected, t.actual, t.error) for t in r.tests]) for r in results]
    assert got["docker"] == got["process"]
    # The comparison is not vacuous: the wrong answers fail somewhere.
    assert any(score < 1 for score, _, _ in got["docker"][len(tasks):])


def test_compat_mode_matches_the_original_checker_on_honest_answers(docker_sandbox, maybe_sample):
    tasks = _task_sets(maybe_sample)
    scorer = docker_sandbox.scorer(compat="sweet_rl", cache=ReferenceCache(None))
    results = docker_sandbox.run(_gather(scorer, [(t, t.ground_truth) for t in tasks]))
    for task, result in zip(tasks, results):
        calls = list(task.test_cases.values())
        assert result.score == original_checker_score(task.ground_truth, task.ground_truth, calls), task.task_id


HELPER_REF = "def helper(x):\n    return x * 3\ndef main(x):\n    return helper(x) + 1\n"
HELPER_TASK = backend_task("def main(x):\n    return x * 3 + 1\n", ["main(1)", "main(2)"])


@pytest.mark.parametrize("answer,default_passes,compat_passes", [
    # Helper functions and recursion: names are invisible to each other in the original.
    (HELPER_REF, True, False),
    ("def main(x):\n    return x * 3 + 1 if x < 1 else main(x - 1) + 3\n", True, False),
    # A top-level import used inside the function fails there too.
    ("import math\ndef main(x):\n    return int(math.floor(x * 3 + 1))\n", True, False),
    # The substring blocklist refuses honest code.
    ("def main(x):\n    print('thinking')  # exit( quickly\n    return x * 3 + 1\n", True, False),
    ("import os\ndef main(x):\n    return x * 3 + 1\n", True, False),
    # Plain code passes both.
    ("def main(x):\n    return x * 3 + 1\n", True, True),
    ("Here you go:\n```python\ndef main(x):\n    return x * 3 + 1\n```\n", True, True),
])
def test_compat_quirks_and_the_default_mode_that_fixes_them(docker_sandbox, answer, default_passes, compat_passes):
    assert docker_sandbox.score(HELPER_TASK, answer).success is default_passes
    assert docker_sandbox.score(HELPER_TASK, answer, compat="sweet_rl").success is compat_passes


def test_faithful_semantics_reference_none_or_raise_fails_everyone(any_sandbox):
    ref = "def f(x):\n    if x == 0:\n        return None\n    return 10 // x\n"
    task = backend_task(ref, ["f(0)", "f(2)", "f('a')"])
    r = any_sandbox.score(task, ref)
    assert statuses(r) == ["reference_failed", "pass", "reference_failed"]
    assert r.score == pytest.approx(1 / 3) and not r.success


@pytest.mark.parametrize("returned,passes", [
    ("1.0", True),            # 1 == 1.0
    ("True", True),           # True == 1
    ("[1]", False),           # a list never equals an int
])
def test_python_equality_rules_hold(any_sandbox, returned, passes):
    task = backend_task("def f():\n    return 1\n", ["f()"])
    assert any_sandbox.score(task, f"def f():\n    return {returned}\n").success is passes


def test_counter_equals_dict_and_numpy_scalar_equals_float(any_sandbox):
    task = backend_task("def f():\n    return {'a': 2, 'b': 1}\n", ["f()"])
    assert any_sandbox.score(task, "from collections import Counter\ndef f():\n    return Counter('aab')\n").success
    task = backend_task("def f():\n    return 1.5\n", ["f()"])
    assert any_sandbox.score(task, "import numpy as np\ndef f():\n    return np.float64(1.5)\n").success
    task = backend_task("def f():\n    return [1, 2]\n", ["f()"])
    assert not any_sandbox.score(task, "def f():\n    return (1, 2)\n").success


def test_reference_outputs_are_cached_on_disk_and_reused(docker_sandbox, tmp_path):
    path = tmp_path / "refs.sqlite"
    task = backend_task("def f(x):\n    return x + 1\n", ["f(1)", "f(2)"])
    first = docker_sandbox.score(task, "def f(x):\n    return x + 1\n", cache=ReferenceCache(path))
    assert first.success

    async def no_reference_runs(job):
        raise AssertionError("the reference ran again")

    refs = docker_sandbox.box.references
    original, refs.run = refs.run, no_reference_runs
    try:
        again = docker_sandbox.score(task, "def f(x):\n    return x + 2\n", cache=ReferenceCache(path))
    finally:
        refs.run = original
    assert statuses(again) == ["wrong", "wrong"]
    assert json.loads(json.dumps(again.record()))["score"] == 0.0


def test_classes_and_bytearrays_compare_as_python_does(any_sandbox):
    # Official task 211's reference returns builtin classes; bytes == bytearray holds.
    ref = ("def kinds(values):\n    return [type(v) for v in values]\n\n"
           "def raw(s):\n    return s.encode()\n")
    task = backend_task(ref, ["kinds([1, 'a', 2.5, None])", "kinds([[], {}])", "raw('ab')"])
    honest = ("import collections\n\ndef kinds(values):\n    return [v.__class__ for v in values]\n\n"
              "def raw(s):\n    return bytearray(s, 'utf-8')\n")
    assert statuses(any_sandbox.score(task, honest)) == ["pass", "pass", "pass"]
    wrong = "def kinds(values):\n    return [int for v in values]\n\ndef raw(s):\n    return s\n"
    assert statuses(any_sandbox.score(task, wrong)) == ["wrong", "wrong", "wrong"]
    spoof = ("class Fake:\n    __module__ = 'builtins'\n    __qualname__ = 'int'\n\n"
             "def kinds(values):\n    return [Fake for v in values]\n")
    tests = any_sandbox.score(task, spoof).tests[:2]
    assert [t.status for t in tests] == ["wrong", "wrong"]
    assert all("not comparable: a class that is not the standard library's" in t.actual for t in tests)
