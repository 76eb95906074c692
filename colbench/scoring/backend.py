"""Backend scoring: run an answer's test calls in the sandbox and compare with the reference.

Semantics (README "Scoring semantics"): for each test call, expected = the call
evaluated after defining the reference function, actual = the same after defining the
answer. A test passes iff the reference raised nothing and returned a non-None value and
actual == expected. Reference and answer never share a process; values cross the sandbox
boundary only as trusted types and are compared here, on the host.

score = passed / total; success = all passed.

`compat="sweet_rl"` reproduces the original research checker: its substring blocklist
(an answer containing e.g. "import os" scores 0), its fence stripping, and its exec
semantics (an answer's top-level names are invisible to its own functions, so recursive
or helper-calling answers fail). The default mode has none of these quirks.
"""

from __future__ import annotations

import asyncio
import reprlib
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

from colbench.defaults import REFERENCE_TIMEOUT_S, TEST_TIMEOUT_S
from colbench.protocol import extract_code
from colbench.sandbox import Sandbox
from colbench.sandbox.pool import CallResult, Job, call_result, check_time_limit
from colbench.sandbox.values import NotComparable, values_equal
from colbench.scoring.refcache import ReferenceCache, reference_key
from colbench.tasks import Task

COMPAT_MODES = ("sweet_rl",)

# The original checker returned 0 for any answer containing one of these substrings.
SWEET_RL_BLOCKLIST = ("import os", "from os", "import sys", "from sys", "sudo", "transformers",
                      "exit(", "quit(", "argparse")

class _ShortRepr(reprlib.Repr):
    """Short reprs of wrong values for the record, that never raise.

    Python refuses str() of ints over 4300 digits (and it would be quadratic anyway), so a
    long int is shown by its length and last digits."""

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() <= 4000:
            return super().repr_int(x, level)
        sign = "negative " if x < 0 else ""
        return f"<{sign}int of {_digits(x)} digits, ...{abs(x) % 10**6:06d}>"

    def repr_Fraction(self, x: Fraction, level: int) -> str:
        return f"Fraction({self.repr1(x.numerator, level)}, {self.repr1(x.denominator, level)})"

    def repr(self, x: Any) -> str:
        try:
            return super().repr(x)
        except Exception as exc:  # a value that cannot show itself is still a wrong value
            return f"<{type(x).__name__} that cannot be shown: {type(exc).__name__}>"


def _digits(x: int) -> int | str:
    """Decimal digits of |x|: exact up to about 40,000 digits, else approximate."""
    x = abs(x)
    guess = int((x.bit_length() - 1) * 0.30102999566398120) + 1
    if x.bit_length() > 2**17:
        return f"about {guess:,}"
    return guess + (x >= 10**guess)


_repr = _ShortRepr()
_repr.maxstring = 120
_repr.maxother = 120
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 12


@dataclass
class TestOutcome:
    name: str
    passed: bool
    status: str  # pass | wrong | error | timeout | crash | not_comparable | reference_failed
    error: str | None = None
    expected: str | None = None
    actual: str | None = None


@dataclass
class BackendScore:
    score: float
    success: bool
    passed: int
    total: int
    tests: list[TestOutcome] = field(default_factory=list)
    blocked: str | None = None  # compat mode only: why the answer was refused unrun

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"score": self.score, "success": self.success, "passed": self.passed,
                               "total": self.total,
                               "tests": [{k: v for k, v in asdict(t).items() if v is not None}
                                         for t in self.tests]}
        if self.blocked:
            out["blocked"] = self.blocked
        return out


def sweet_rl_prepare(answer: str) -> tuple[str | None, str | None]:
    """The original checker's handling of an answer: (code, None) or (None, why blocked)."""
    for needle in SWEET_RL_BLOCKLIST:
        if needle in answer:
            return None, f"contains {needle!r} (sweet_rl compat blocklist)"
    if "```python" in answer:
        answer = answer.split("```python")[1].split("```")[0]
    if "```" in answer:
        answer = answer.split("```")[1].split("```")[0]
    return answer, None


class BackendScorer:
    """Scores answers to backend tasks in a sandbox; reference outputs are cached."""

    def __init__(self, sandbox: Sandbox, *, compat: str | None = None, timeout: float = TEST_TIMEOUT_S,
                 reference_timeout: float = REFERENCE_TIMEOUT_S, cache: ReferenceCache | None = None):
        if compat is not None and compat not in COMPAT_MODES:
            raise ValueError(f"unknown compat mode {compat!r}")
        self.sandbox = sandbox
        self.compat = compat
        self.mode = compat or "default"
        self.timeout = check_time_limit(timeout, "the time limit per test")
        self.reference_timeout = check_time_limit(reference_timeout, "the reference's time limit per test")
        self.cache = cache if cache is not None else ReferenceCache(None)
        self._expected: dict[str, asyncio.Future] = {}

    def expected(self, task: Task) -> asyncio.Future:
        """The reference's result for each test call (computed once per task), as a future."""
        key = reference_key(self.mode, task.ground_truth, "\0".join(task.test_cases.values()))
        fut = self._expected.get(key)
        if fut is None:
            fut = self._expected[key] = asyncio.ensure_future(self._compute_expected(task))
        return fut

    async def _compute_expected(self, task: Task) -> list[CallResult]:
        calls = list(task.test_cases.values())
        keys = [reference_key(self.mode, task.ground_truth, c) for c in calls]
        found = self.cache.get_many(keys)
        # Each distinct call once: repeated calls share a key and so a result.
        first: dict[str, int] = {}
        for i, k in enumerate(keys):
            first.setdefault(k, i)
        todo = [i for k, i in first.items() if k not in found]
        if todo:
            raw = await self.sandbox.references.run(Job(task.ground_truth, [calls[i] for i in todo],
                                          timeout=self.reference_timeout, mode=self.mode))
            fresh = {keys[i]: r for i, r in zip(todo, raw)}
            self.cache.put_many(fresh)
            found.update(fresh)
        raws = [found[k] for k in keys]
        # Rebuilding values is bounded work, but can take a while: off the event loop.
        return await asyncio.to_thread(lambda: [call_result(r) for r in raws])

    async def score(self, task: Task, answer: str) -> BackendScore:
        names = list(task.test_cases)
        if self.compat == "sweet_rl":
            code, blocked = sweet_rl_prepare(answer)
        else:
            code, blocked = extract_code(answer), None
        expected_task = self.expected(task)  # starts computing now, alongside the answer
        if code is None:
            await asyncio.shield(expected_task)
            tests = [TestOutcome(n, False, "error", error=blocked) for n in names]
            return BackendScore(0.0, False, 0, len(names), tests, blocked=blocked)
        raw = await self.sandbox.answers.run(Job(code, list(task.test_cases.values()), timeout=self.timeout, mode=self.mode))
        expected = await asyncio.shield(expected_task)
        # Rebuilding and comparing values, off the event loop (see values.py for the bounds).
        return await asyncio.to_thread(self._judge, names, expected, raw)

    def _judge(self, names: list[str], expected: list[CallResult], raw: list[dict]) -> BackendScore:
        tests = [self._compare(n, e, call_result(r)) for n, e, r in zip(names, expected, raw)]
        passed = sum(t.passed for t in tests)
        total = len(tests)
        return BackendScore(passed / total, passed == total, passed, total, tests)

    def _compare(self, name: str, exp: CallResult, act: CallResult) -> TestOutcome:
        if exp.status != "ok" or exp.value is None or isinstance(exp.value, NotComparable):
            why = exp.error if exp.status != "ok" else (
                "reference returned None" if exp.value is None else repr(exp.value))
            return TestOutcome(name, False, "reference_failed", error=f"reference: {why}")
        if act.status != "ok":
            return TestOutcome(name, False, act.status, error=act.error)
        if isinstance(act.value, NotComparable):
            return TestOutcome(name, False, "not_comparable", error=act.value.reason)
        if values_equal(exp.value, act.value, compat=self.compat is not None):
            return TestOutcome(name, True, "pass")
        return TestOutcome(name, False, "wrong", expected=_repr.repr(exp.value), actual=_repr.repr(act.value))
