"""The episode record: one line of a run's episodes.jsonl, typed and versioned.

Every stage that reads runs (the runner on --resume, the report, the leaderboard, export,
regress and the trainer) reads episodes through `EpisodeRecord`, and the runner and the
import write them through it. A line is validated when read: a line that is not a record
every reader can use is reported and skipped by the run directory, never half-used.

Versions:
- 1 (no `version` key; colbench before records were typed): a frontend record said how many
  of its page's requests were refused in `blocked_requests` alone, where a backend record
  said why its answer was refused in `blocked`.
- 2: `blocked` is one sentence in both splits (what was refused), and frontend records also
  keep the count in `blocked_requests`. `read_record` brings version 1 records up to 2.
"""

from __future__ import annotations

import math
from typing import Any

from typing_extensions import NotRequired, TypedDict  # pydantic reads these on Python 3.11

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

RECORD_VERSION = 2

# Keys written even when null: a reader of the file sees at once that an episode has no
# answer, score or success (an error, or a dialogue that is not scored), not a missing key.
_ALWAYS_WRITTEN = ("error", "answer", "score", "success")


class Usage(TypedDict, total=False):
    """What model calls cost: tokens as the endpoint reported them, the seconds they took,
    and their price when the model's definition gives one. Every key is optional: a model
    that reports no usage (a scripted agent, an offline human) records none."""

    calls: int  # model requests, retries included
    prompt_tokens: int
    completion_tokens: int
    seconds: float  # wall time of the calls, retries and waits included
    cost: float  # in the currency of the definition's [pricing] (USD for the bundled ones)


class Turn(TypedDict):
    """One message of a dialogue as recorded: who spoke, and what counts of it."""

    role: str  # "agent" or "human"
    content: str  # agent: the part after OUTPUT: (if any); human: the reply as shown (cut)
    raw: NotRequired[str]  # agent only: the full message as generated, when it differs
    screenshot: NotRequired[str]  # frontend agent turns: the rendered page, saved as a run artifact
    usage: NotRequired[Usage]  # what the message cost the model that wrote it


class TestResult(TypedDict):
    """One hidden test of a backend answer."""

    name: str
    passed: bool
    status: str  # pass | wrong | error | timeout | crash | not_comparable | reference_failed
    error: NotRequired[str]
    expected: NotRequired[str]
    actual: NotRequired[str]


def blocked_requests_sentence(count: int) -> str:
    """What the record's `blocked` says of a frontend page whose requests were refused."""
    return f"{count} request{'s' if count != 1 else ''} refused (offline rendering)"


class EpisodeRecord(BaseModel):
    """One finished episode: its dialogue, its answer and, for a finished dialogue, its score."""

    # strict: a JSON string is not a number, nor true a whole number; extra keys (an import's,
    # a later colbench's) are kept and written back unchanged.
    model_config = ConfigDict(strict=True, extra="allow", frozen=False)

    version: int = RECORD_VERSION
    task_id: str
    sample: int
    seed: int | None = None  # the episode's seed (None in imported data)
    status: str = "ok"  # ok | error (an infrastructure failure: never scored, re-run by --resume)
    error: str | None = None
    turns: list[Turn] = []
    answer: str | None = None
    answered: bool | None = None  # the agent said I WANT TO ANSWER: (rather than running out of turns)
    score: float | None = None  # None: not scored (an error, or no answer file score)
    success: bool | None = None  # backend: every test passed; frontend: None
    # backend scoring
    passed: int | None = None
    total: int | None = None
    tests: list[TestResult] | None = None
    # what was refused, in a sentence: backend (compat mode) why the answer was not run;
    # frontend, how many of its page's requests were refused (also counted in blocked_requests)
    blocked: str | None = None
    blocked_requests: int | None = None
    # frontend scoring: ok | no_page | render_failed | reference_failed, and its error
    status_detail: str | None = None
    detail_error: str | None = None
    artifacts: list[str] | None = None  # frontend: screenshots written
    timings: dict[str, float] | None = None  # dialogue_s, scoring_s
    usage: dict[str, Usage] | None = None  # per role ("agent", "human"): the episode's totals

    @field_validator("task_id", mode="before")
    @classmethod
    def _task_id(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            return str(v)  # imported data may number its tasks
        if not isinstance(v, str) or v == "":
            raise ValueError("task_id must be a non-empty string or an integer")
        return v

    @field_validator("sample")
    @classmethod
    def _sample(cls, v: int) -> int:
        if v < 0:
            raise ValueError("sample must be a whole number, at least 0")
        return v

    @field_validator("score")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("score must be a finite number or null")
        return v

    @property
    def key(self) -> tuple[str, int]:
        return (self.task_id, self.sample)

    @property
    def ok(self) -> bool:
        """The dialogue finished (status ok): the episode counts, scored or not."""
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        """The line to write: every set field, and the always-written ones even when null."""
        out = self.model_dump(mode="python")
        return {k: v for k, v in out.items() if v is not None or k in _ALWAYS_WRITTEN}


class RecordError(ValueError):
    """A line that is not an episode record (its message says why, in one sentence)."""


def read_record(obj: Any) -> EpisodeRecord:
    """The record a parsed line holds, brought up to the current version; RecordError otherwise."""
    if not isinstance(obj, dict):
        raise RecordError(f"a JSON {type(obj).__name__}, not an episode object")
    version = obj.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RecordError("version must be a whole number, at least 1")
    if version > RECORD_VERSION:
        raise RecordError(f"written by a newer colbench (record version {version}; this one reads up to "
                          f"{RECORD_VERSION}): upgrade colbench to read it")
    if "status" not in obj:
        raise RecordError("status is missing")
    data = dict(obj)
    tests = data.get("tests")
    if isinstance(tests, list) and any(isinstance(t, dict) and "passed" not in t for t in tests):
        # A test without its verdict (written by other tools): passed is what its status says.
        data["tests"] = [{**t, "passed": t.get("status") == "pass"} if isinstance(t, dict) and "passed" not in t
                         else t for t in tests]
    if version == 1:
        count = data.get("blocked_requests")
        if isinstance(count, int) and not isinstance(count, bool) and count > 0 and data.get("blocked") is None:
            data["blocked"] = blocked_requests_sentence(count)
        data["version"] = RECORD_VERSION
    try:
        return EpisodeRecord.model_validate(data)
    except ValidationError as exc:
        raise RecordError(_why(exc)) from None


# What each field must be, said the same way whatever pydantic found wrong with it.
_EXPECTED = {
    "version": "a whole number, at least 1", "task_id": "a non-empty string or an integer",
    "sample": "a whole number, at least 0", "seed": "a whole number or null", "status": "a string",
    "error": "a string or null", "score": "a finite number or null", "success": "true, false or null",
    "answered": "true, false or null", "answer": "a string or null",
    "turns": "a list of {role, content} objects", "tests": "a list of {name, status} objects or null",
    "passed": "a whole number or null", "total": "a whole number or null", "blocked": "a string or null",
    "blocked_requests": "a whole number or null", "status_detail": "a string or null",
    "detail_error": "a string or null", "artifacts": "a list of strings or null",
    "timings": "an object of numbers or null", "usage": "an object of per-role usage or null",
}


def _why(exc: ValidationError) -> str:
    """One sentence naming every field that is wrong, in the record's field order."""
    fields = [str(e["loc"][0]) for e in exc.errors() if e["loc"]]
    order = list(EpisodeRecord.model_fields)
    wrong = sorted(set(fields), key=lambda f: order.index(f) if f in order else len(order))
    return "; ".join(f"{f} must be {_EXPECTED.get(f, 'of the right type')}" for f in wrong) or str(exc)
