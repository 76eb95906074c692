"""The submission schema: the JSON Schema (draft 2020-12) a submission file follows (published
as leaderboard/submission.schema.json), its validation with the `jsonschema` library's
Draft 2020-12 validator, so that a third party's validator and ours read the same file the
same way, and SubmissionError, which every check of a run or a submission raises.

Two readings are stricter than the standard's, as colbench has always been: a number must be
finite (Python's json module reads NaN and Infinity, which are not JSON) and an integer must
be written without a fraction (1, not 1.0), since counts are used as counts. A failure is one
sentence naming the path of the first bad field in document order (`per_task.3.score must be
number`)."""

from __future__ import annotations

import functools
import math
from typing import Any, TypeGuard

from colbench.errors import ColbenchError
from colbench.tasks import SPLITS

SCHEMA_VERSION = 2  # 2: tasks.content_sha256, the official set identified by content
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"


class SubmissionError(ColbenchError):
    """A run or submission file that cannot go on the leaderboard; the message says why."""


_STR_OR_NULL = {"type": ["string", "null"]}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_METRIC = {
    "type": "object", "required": ["mean", "ci95"], "additionalProperties": False,
    "properties": {"mean": {"type": "number"},
                   "ci95": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}},
}
_PARTICIPANT = {
    "type": "object", "required": ["spec", "name", "adapter", "model", "sampling"], "additionalProperties": False,
    "properties": {
        "spec": {"type": "string", "minLength": 1, "description": "the SPEC given to colbench eval"},
        "name": {"type": "string", "minLength": 1, "description": "the display name"},
        "adapter": {
            "type": "object", "required": ["kind"], "additionalProperties": False,
            "properties": {
                "kind": {"enum": ["builtin", "openai", "hf", "toml", "entry_point", "scripted"]},
                "backend": _STR_OR_NULL, "package": _STR_OR_NULL, "version": _STR_OR_NULL,
            },
        },
        "model": _STR_OR_NULL,
        "sampling": {"type": "object", "description": "temperature, max_tokens, top_p, ... as run"},
    },
}
_USAGE: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "description": "what one role's model calls cost over the run, as the run's summary.json lists it",
    "properties": {"calls": {"type": "integer", "minimum": 0}, "prompt_tokens": {"type": "integer", "minimum": 0},
                   "completion_tokens": {"type": "integer", "minimum": 0}, "seconds": {"type": "number", "minimum": 0},
                   "cost": {"type": "number", "minimum": 0,
                            "description": "in the currency of the model definition's pricing"}},
}
SUBMISSION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://github.com/colbench/colbench/leaderboard/submission.schema.json",
    "title": "ColBench leaderboard submission",
    "description": "Written by `colbench submit RUN_DIR`; checked again by `colbench leaderboard build`.",
    "$defs": {"usage": _USAGE},
    "type": "object",
    "required": ["schema_version", "name", "split", "agent", "human", "tasks", "harness", "run", "per_task",
                 "metrics"],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "name": {"type": "string", "pattern": NAME_PATTERN, "description": "the file name without .json"},
        "split": {"enum": list(SPLITS)},
        "agent": _PARTICIPANT,
        "human": _PARTICIPANT,
        "tasks": {
            "type": "object", "required": ["source", "sha256", "content_sha256", "count"],
            "additionalProperties": False,
            "properties": {"source": {"type": "string"},
                           "sha256": {**_SHA256, "description": "the run's task file, byte for byte"},
                           "content_sha256": {**_SHA256, "description": "its first `count` tasks by content "
                                              "(compact sorted-key JSON of their task fields, one per line)"},
                           "count": {"type": "integer", "minimum": 1}},
        },
        "harness": {
            "type": "object", "required": ["version", "compat", "protocol"], "additionalProperties": False,
            "properties": {"version": {"type": "string"}, "compat": _STR_OR_NULL,
                           "protocol": {"const": "sweet_rl", "description": "only runs under the original ColBench "
                                                                            "protocol are ranked"},
                           "sandbox": _STR_OR_NULL,
                           "timeout": {"type": ["number", "null"]}, "clip_model": _STR_OR_NULL,
                           "allow_network": {"type": "boolean"}},
        },
        "run": {
            "type": "object", "required": ["samples", "seed", "episodes"], "additionalProperties": False,
            "properties": {"samples": {"type": "integer", "minimum": 1}, "seed": {"type": ["integer", "null"]},
                           "episodes": {"type": "integer", "minimum": 1}, "started": _STR_OR_NULL,
                           "episodes_sha256": _SHA256},
        },
        "submitted": {"type": "string"},
        "per_task": {
            "type": "object", "minProperties": 1,
            "description": "task_id -> mean over the task's samples",
            "additionalProperties": {
                "type": "object", "required": ["score", "samples"], "additionalProperties": False,
                "properties": {"score": {"type": "number", "minimum": -1, "maximum": 1},
                               "success": {"type": "number", "minimum": 0, "maximum": 1},
                               "best_score": {"type": "number", "minimum": -1, "maximum": 1,
                                              "description": "the best of the task's samples (with samples > 1)"},
                               "samples": {"type": "integer", "minimum": 1}},
            },
        },
        "metrics": {
            "type": "object", "required": ["score"], "additionalProperties": _METRIC,
            "description": "score and success: mean over episodes; with samples > 1 also best_of_k_score, "
                           "best_of_k_success and pass@k (unbiased estimator) for several k; 95% bootstrap CIs "
                           "resampling tasks (seed 0)",
            "properties": {"score": _METRIC, "success": _METRIC},
        },
        "usage": {
            "type": "object", "additionalProperties": False,
            "description": "optional: the models' usage over the run (calls, tokens, seconds, cost), per role",
            "properties": {"agent": {"$ref": "#/$defs/usage"}, "human": {"$ref": "#/$defs/usage"}},
        },
    },
}

_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool), "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
}


def is_number(value: Any) -> TypeGuard[int | float]:
    """A JSON number as the schema means it: an int or a finite float, not a bool."""
    return _TYPES["number"](value)


@functools.cache
def _validator_class() -> Any:
    """Draft 2020-12 with the two stricter type readings (module docstring)."""
    from jsonschema import Draft202012Validator, validators

    checker = Draft202012Validator.TYPE_CHECKER.redefine_many(
        {name: (lambda _checker, value, check=check: check(value)) for name, check in _TYPES.items()})
    return validators.extend(Draft202012Validator, type_checker=checker)


@functools.cache
def _submission_validator() -> Any:
    cls = _validator_class()
    cls.check_schema(SUBMISSION_SCHEMA)  # the published file is a valid 2020-12 schema
    return cls(SUBMISSION_SCHEMA)


# Within one field, the order in which its checks are reported: the order the hand-written
# validator that came before used, so the sentence for a given document did not change.
_KEYWORDS = ["const", "enum", "type", "minLength", "pattern", "minimum", "maximum", "minItems", "maxItems",
             "minProperties", "required"]


def validate_schema(value: Any, schema: dict[str, Any], where: str = "") -> None:
    """Checks `value` against `schema` (JSON Schema draft 2020-12) with jsonschema; the first
    failure in document order is raised as a SubmissionError of one sentence naming its path
    (under `where`, when given)."""
    validator = _submission_validator() if schema is SUBMISSION_SCHEMA else _validator_class()(schema)
    errors = list(validator.iter_errors(value))
    if errors:
        first = min(errors, key=lambda e: _position(e, value))
        raise SubmissionError(_sentence(first, where))


def _extra_keys(error: Any) -> list[str]:
    """The keys an `additionalProperties: false` error is about, in the document's order."""
    known = error.schema.get("properties", {})
    return [k for k in error.instance if k not in known] if isinstance(error.instance, dict) else []


def _position(error: Any, root: Any) -> tuple[Any, ...]:
    """Where an error sits in a depth-first walk of the document (a field's own checks before
    its members', members in the document's order), then which of the field's checks it is."""
    steps: list[int] = []
    node = root
    for key in error.absolute_path:
        steps.append(list(node).index(key) if isinstance(node, dict) else int(key))
        node = node[key]
    if error.validator == "additionalProperties":
        extra = _extra_keys(error)
        if extra:  # met when the walk reaches the unknown key
            return (*steps, list(node).index(extra[0])), -1, 0
    rank = _KEYWORDS.index(error.validator) if error.validator in _KEYWORDS else len(_KEYWORDS)
    which = 0
    if error.validator == "required" and isinstance(node, dict):
        missing = [k for k in error.validator_value if k not in node]
        which = list(error.validator_value).index(missing[0]) if missing else 0
    return tuple(steps), rank, which


def _sentence(error: Any, where: str) -> str:
    """One sentence for a jsonschema error, naming the field by its path (`per_task.3.score`)."""
    path = where
    for key in error.absolute_path:
        path += f"[{key}]" if isinstance(key, int) else (f".{key}" if path else str(key))
    at = path or "the document"
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword == "const":
        return f"{at} must be {expected!r}"
    if keyword == "enum":
        return f"{at} must be one of {', '.join(map(str, expected))}"
    if keyword == "type":
        return f"{at} must be {' or '.join(expected if isinstance(expected, list) else [expected])}"
    if keyword == "minLength":
        return f"{at} must not be empty" if expected <= 1 else f"{at} must have at least {expected} characters"
    if keyword == "pattern":
        return f"{at} ({value[:40]!r}) does not match {expected}"
    if keyword == "minimum":
        return f"{at} must be at least {expected}"
    if keyword == "maximum":
        return f"{at} must be at most {expected}"
    if keyword in ("minItems", "maxItems"):
        return f"{at} has {len(value)} items"
    if keyword == "minProperties":
        return f"{at} must not be empty"
    if keyword == "required":
        key = next((k for k in expected if k not in value), expected[0])
        return f"{at} lacks the field {key!r}" if path else f"the field {key!r} is missing"
    if keyword == "additionalProperties":
        extra = _extra_keys(error)
        if extra:
            return f"{at} has an unknown field {extra[0]!r}"
    return f"{at} does not follow the schema ({error.message[:120]})"
