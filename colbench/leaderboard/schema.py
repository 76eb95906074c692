"""The submission schema: the JSON Schema (draft 2020-12) a submission file follows, the
small validator that checks it without a dependency, and SubmissionError, which every check
of a run or a submission raises."""

from __future__ import annotations

import math
import re
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
SUBMISSION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://github.com/colbench/colbench/leaderboard/submission.schema.json",
    "title": "ColBench leaderboard submission",
    "description": "Written by `colbench submit RUN_DIR`; checked again by `colbench leaderboard build`.",
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


def validate_schema(value: Any, schema: dict[str, Any], where: str = "") -> None:
    """Checks `value` against the subset of JSON Schema SUBMISSION_SCHEMA uses (no dependency)."""
    at = where or "the document"
    if "const" in schema and value != schema["const"]:
        raise SubmissionError(f"{at} must be {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        raise SubmissionError(f"{at} must be one of {', '.join(map(str, schema['enum']))}")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            raise SubmissionError(f"{at} must be {' or '.join(types)}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            raise SubmissionError(f"{at} must not be empty")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise SubmissionError(f"{at} ({value[:40]!r}) does not match {schema['pattern']}")
    if is_number(value):
        if "minimum" in schema and value < schema["minimum"]:
            raise SubmissionError(f"{at} must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise SubmissionError(f"{at} must be at most {schema['maximum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            raise SubmissionError(f"{at} has {len(value)} items")
        for i, item in enumerate(value):
            validate_schema(item, schema.get("items", {}), f"{at}[{i}]")
    if isinstance(value, dict):
        if len(value) < schema.get("minProperties", 0):
            raise SubmissionError(f"{at} must not be empty")
        for key in schema.get("required", []):
            if key not in value:
                raise SubmissionError(f"{at} lacks the field {key!r}" if where else f"the field {key!r} is missing")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            sub = f"{where}.{key}" if where else key
            if key in props:
                validate_schema(item, props[key], sub)
            elif extra is False:
                raise SubmissionError(f"{at} has an unknown field {key!r}")
            elif isinstance(extra, dict):
                validate_schema(item, extra, sub)
