"""Values at the size limits: correct big answers pass, far bigger ones fail clearly and
cost the host nothing. The limits are the runner's (colbench/sandbox/guest.py)."""

from __future__ import annotations

import pytest
from helpers import backend_task

from colbench.sandbox.guest import MAX_JOB_NODES, MAX_VALUE_NODES


def _peak_reset() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM, the peak resident size


def _peak_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


BIG_INTS = "def f(n):\n    return list(range(n))\n"
BIG_FLOATS = "def f(n):\n    return [i / 7 for i in range(n)]\n"
BIG_STR = "def f(n, c='x'):\n    return c * n\n"


@pytest.mark.parametrize(("code", "calls"), [
    pytest.param(BIG_INTS, ["f(10**6)", "f(10**6 - 1)", "f(10**6 + 1)"], id="10**6-ints"),
    pytest.param(BIG_FLOATS, ["f(10**6)", "f(10**6 - 3)"], id="10**6-floats"),
    pytest.param(BIG_STR, ["f(5 * 10**6)", "f(5 * 10**6 // 2, 'é')", "f(10)"], id="5MB-strings"),
    pytest.param("def f():\n    return {i: str(i) for i in range(300_000)}\n", ["f()"], id="dict-300k"),
])
def test_correct_answer_with_a_big_value_passes(any_sandbox, code, calls):
    task = backend_task(code, calls)
    result = any_sandbox.score(task, code)
    assert [t.status for t in result.tests] == ["pass"] * len(calls), [t.error for t in result.tests]


def test_a_big_but_wrong_value_fails_as_wrong(any_sandbox):
    task = backend_task(BIG_INTS, ["f(10**6)"])
    result = any_sandbox.score(task, "def f(n):\n    return list(range(1, n + 1))\n")
    assert [t.status for t in result.tests] == ["wrong"]


@pytest.mark.parametrize(("answer", "call", "why"), [
    pytest.param(BIG_INTS, f"f({MAX_VALUE_NODES})", "over 3,000,000 nodes", id="just-over-the-node-limit"),
    pytest.param("def f(n):\n    return [0] * n\n", "f(5 * 10**7)", "over 3,000,000 nodes", id="50M-ints"),
    pytest.param(BIG_STR, "f(33 * 2**20)", "MiB encoded", id="just-over-the-byte-limit"),
    pytest.param(BIG_STR, "f(3 * 10**8)", "MiB encoded", id="300MB-string"),
    pytest.param(BIG_STR, "f(6 * 2**20, '\U0001f600')", "MiB encoded", id="emoji-string-72MiB-encoded"),
    pytest.param("def f(n):\n    return [[i] for i in range(n)]\n", "f(1_000_001)", "over 3,000,000 nodes",
                 id="nested-lists-3n+2-nodes"),
])
def test_value_far_over_the_limit_is_not_comparable_and_host_unharmed(any_sandbox, answer, call, why):
    task = backend_task("def f(*args):\n    return 1\n", [call, "f(1)"])
    _peak_reset()
    before = _peak_mib()
    result = any_sandbox.score(task, answer)
    grew = _peak_mib() - before
    first, second = result.tests
    assert first.status == "not_comparable" and "value too large" in first.error and why in first.error
    assert second.status == "wrong"  # the same answer's next test still ran (f(1) != 1)
    assert grew < 100, f"the host grew by {grew:.0f} MiB for a value it never received"


def test_one_answers_values_together_are_bounded(any_sandbox):
    per_test = 10**6 + 2  # JSON nodes of a list of 10**6 ints
    fits = MAX_JOB_NODES // per_test
    calls = [f"f(10**6 + {i} - {i})" for i in range(fits + 2)]  # distinct calls, each its own value
    task = backend_task(BIG_INTS, calls)
    result = any_sandbox.score(task, BIG_INTS)
    statuses = [t.status for t in result.tests]
    # The reference's values are bounded the same way, so its later tests are not comparable too.
    assert statuses == ["pass"] * fits + ["reference_failed"] * 2, statuses
    # An honest small answer in the same sandbox is unaffected.
    small = backend_task("def g(x):\n    return x * 2\n", ["g(2)", "g('a')"])
    assert any_sandbox.score(small, "def g(x):\n    return x + x\n").score == 1.0


def test_runner_enforces_the_limits_on_what_a_child_sends():
    # A hostile answer can write its own result lines, so the runner counts for itself.
    from colbench.sandbox.guest import MAX_JOB_BYTES, MAX_VALUE_BYTES, within_limits

    nested = {"l": [{"l": [i]} for i in range(1_000_000)]}  # 3,000,002 JSON nodes
    value, nodes, size = within_limits(nested, 10, 0, 0)
    assert "over 3,000,000 nodes" in value["x"] and (nodes, size) == (0, 0)
    assert "MiB encoded" in within_limits("x", MAX_VALUE_BYTES + 1, 0, 0)[0]["x"]
    ok = {"l": list(range(10**6))}
    assert within_limits(ok, 7_000_000, 0, 0) == (ok, 10**6 + 2, 7_000_000)
    assert "together" in within_limits(ok, 10, MAX_JOB_NODES - 10**6, 0)[0]["x"]
    assert "together" in within_limits(ok, 10, 0, MAX_JOB_BYTES - 5)[0]["x"]
