"""Leaderboard submissions (checked, reproducible) and the generated leaderboard.

`colbench submit RUN_DIR` turns a finished run on the full official test set into
`leaderboard/submissions/NAME.json`: who played (agent, human, their models and sampling),
on what (the task file's sha256), with which harness, every task's score, and metrics
recomputed from those scores. `colbench leaderboard build` re-checks every submission
(schema, metrics against per-task scores, task set against the official one) and writes
`leaderboard/README.md` and the static page `leaderboard/site/index.html`.

What the checks can and cannot do: they make the numbers on the board follow from the
per-task scores and the per-task scores cover exactly the official tasks, so a number
cannot be edited on its own; they cannot prove the per-task scores came from real episodes
(that needs re-running them), so the run's episodes file hash is recorded for provenance.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from colbench.errors import ColbenchError
from colbench.jsonl import check_writable, write_json_atomic, write_text_atomic
from colbench.protocol import run_protocol
from colbench.runs import SUMMARY_FILE, RunDir
from colbench.stats import TaskTotals, summarize, task_metrics, task_order, win_rate
from colbench.tasks import (OFFICIAL_CONTENT_SHA256, OFFICIAL_FILES, OFFICIAL_LIMITS, SPLITS, TaskSet, data_dir,
                            is_official, load_tasks)

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: tasks.content_sha256, the official set identified by content
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
SUBMISSIONS = "submissions"
REPORTED_FILE = "reported.json"
SCHEMA_FILE = "submission.schema.json"
WIN_RATE_BASELINE = ["gpt-4o", "openai:gpt-4o"]  # frontend win rates are against GPT-4o, as in the paper
REPORTED_LABEL = "reported, not reproduced here"
TOLERANCE = 1e-6  # recomputed metrics must match the listed ones to this


class SubmissionError(ColbenchError):
    """A run or submission file that cannot go on the leaderboard; the message says why."""


# --- The submission schema (JSON Schema, draft 2020-12) ----------------------------------

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
    if _TYPES["number"](value):
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


# --- Submissions -------------------------------------------------------------------------

def submission_metrics(per_task: dict[str, dict[str, Any]], split: str, samples: int) -> dict[str, Any]:
    """The metrics of a run (as in its summary.json) recomputed from its per-task entries."""
    ids = sorted(per_task, key=task_order)
    n = np.array([float(per_task[t]["samples"]) for t in ids])
    score = np.array([float(per_task[t]["score"]) for t in ids])
    best = np.array([float(per_task[t].get("best_score", per_task[t]["score"])) for t in ids])
    if split == "backend":
        successes = np.array([round(float(per_task[t]["success"]) * per_task[t]["samples"]) for t in ids], dtype=float)
        success_n = n
    else:
        successes = success_n = np.zeros(len(ids))
    totals = TaskTotals(ids, n, score * n, best, success_n, successes)
    return task_metrics(totals, samples=samples, with_success=split == "backend")


def describe_participant(spec: str, name: str | None, model: dict[str, Any] | None) -> dict[str, Any]:
    """Agent or human as listed on the board: SPEC, adapter kind, model and sampling.

    Endpoint URLs are left out (they name private hosts and do not change the result)."""
    model = model or {}
    adapter: dict[str, Any] = {"kind": "builtin"}
    if spec.startswith(("openai:", "hf:", "scripted:")):
        adapter = {"kind": spec.split(":", 1)[0]}
    elif spec.endswith(".toml") or model:
        adapter = {"kind": "toml", "backend": "hf" if "path" in model and "base_url" not in model else "openai"}
    else:
        for ep in entry_points(group="colbench.agents"):
            if ep.name == spec:
                dist = getattr(ep, "dist", None)
                adapter = {"kind": "entry_point", "package": getattr(dist, "name", None),
                           "version": getattr(dist, "version", None)}
                break
    sampling = {k: v for k, v in model.items() if k not in ("name", "model", "path", "base_url", "api_key")}
    return {"spec": spec, "name": name or spec, "adapter": adapter,
            "model": model.get("model") or model.get("path"), "sampling": sampling}


def official_ids_of_run(config: dict[str, Any], split: str, where: str) -> list[str]:
    """The task ids of the official test set a run was run on. The run's task file (its
    sha256 is in run.json) is identified by content: any copy of the official set counts,
    under any name and formatting, the first OFFICIAL_LIMITS tasks of a longer file too."""
    limit = OFFICIAL_LIMITS[split]
    path = Path(str(config.get("tasks_path") or ""))
    try:
        raw = path.read_bytes()
    except OSError:
        raise SubmissionError(f"{where} was run on the task file {path}, which cannot be read any more, so its "
                              "task set cannot be identified; put it back, or evaluate again with --tasks colbench")
    if hashlib.sha256(raw).hexdigest() != config["tasks_sha256"]:
        raise SubmissionError(f"the task file {path} has changed since {where} was run on it (its sha256 is "
                              "not the one run.json records); evaluate again with --tasks colbench to submit")
    if not is_official(path, split):
        raise SubmissionError(f"{where} was run on {path}, which is not the official ColBench {split} test set "
                              f"(its first {limit} tasks hash differently); evaluate with --tasks colbench to submit")
    return [t.task_id for t in load_tasks(path, split).tasks[:limit]]


def make_submission(run_dir: str | Path, *, name: str | None = None) -> dict[str, Any]:
    """A submission from a finished run on the full official test set; SubmissionError otherwise."""
    run = RunDir(run_dir)
    where = str(run.path)
    if not run.exists():
        raise SubmissionError(f"{where} is not a run directory (no run.json)")
    config = run.read_config()
    split = config.get("split")
    if split not in SPLITS:
        raise SubmissionError(f"{where}/run.json has no valid split")
    if not config.get("tasks_sha256"):
        raise SubmissionError(f"{where}/run.json does not record its task file's sha256, so the task set "
                              "cannot be checked")
    check_comparable(run_protocol(config), str(config.get("human")), where)
    ids = official_ids_of_run(config, split, where)
    samples = int(config.get("samples") or 1)
    latest = run.latest()
    errors = [r for r in latest.values() if r.get("status") != "ok"]
    if errors:
        first = errors[0]
        raise SubmissionError(
            f"{where} has {len(errors)} episode(s) that ended in an error (first: task {first['task_id']} sample "
            f"{first['sample']}: {str(first.get('error'))[:120]}); finish them with `colbench eval ... --resume "
            f"--out {where}` before submitting")
    missing = [(t, s) for t in ids for s in range(samples) if (t, s) not in latest]
    if missing:
        tasks_missing = sorted({t for t, _ in missing}, key=task_order)
        have = len(ids) - len(tasks_missing)
        raise SubmissionError(
            f"{where} is missing {len(missing)} of the {len(ids) * samples} episodes of the official {split} test "
            f"set ({have} of {len(ids)} tasks complete; e.g. task {', '.join(tasks_missing[:3])}); a submission "
            "needs the full official test set")
    official_ids = set(ids)
    extra = {t for t, _ in latest if t not in official_ids}
    if extra:
        log.info("%d task(s) beyond the official set are left out of the submission", len(extra))
    records = {k: r for k, r in latest.items() if k[0] in official_ids}
    for (task_id, sample), r in records.items():
        _check_episode(r, split, f"{where}: task {task_id} sample {sample}")
    _check_summary(run, split)

    per_task: dict[str, dict[str, Any]] = {}
    for task_id in ids:
        rows = [records[(task_id, s)] for s in range(samples)]
        entry: dict[str, Any] = {"score": float(np.mean([float(r["score"]) for r in rows]))}
        if split == "backend":
            entry["success"] = float(np.mean([float(bool(r["success"])) for r in rows]))
        if samples > 1:
            entry["best_score"] = max(float(r["score"]) for r in rows)
        entry["samples"] = samples
        per_task[task_id] = entry
    raw = run.episodes_path.read_bytes()
    sub_name = name or _default_name(config)
    if not re.match(NAME_PATTERN, sub_name):
        raise SubmissionError(f"submission name {sub_name!r} must be letters, digits, '.', '_' or '-' "
                              "(at most 80, starting with a letter or digit)")
    submission = {
        "schema_version": SCHEMA_VERSION,
        "name": sub_name,
        "split": split,
        "agent": describe_participant(str(config.get("agent")), config.get("agent_name"), config.get("agent_model")),
        "human": describe_participant(str(config.get("human")), config.get("human_name"), config.get("human_model")),
        "tasks": {"source": str(config.get("tasks")), "sha256": config["tasks_sha256"],
                  "content_sha256": OFFICIAL_CONTENT_SHA256[split], "count": len(ids)},
        "harness": {"version": str(config.get("harness_version") or "unknown"), "compat": config.get("compat"),
                    "protocol": config.get("protocol"),
                    "sandbox": config.get("sandbox") if split == "backend" else None,
                    "timeout": config.get("timeout") if split == "backend" else None,
                    "clip_model": config.get("clip_model") if split == "frontend" else None,
                    "allow_network": bool(config.get("allow_network", False))},
        "run": {"samples": samples, "seed": config.get("seed"), "episodes": len(records),
                "started": config.get("started"), "episodes_sha256": hashlib.sha256(raw).hexdigest()},
        "submitted": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "per_task": per_task,
        "metrics": submission_metrics(per_task, split, samples),
    }
    validate_submission(submission, where=f"the submission from {where}")
    return submission


def _default_name(config: dict[str, Any]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", str(config.get("agent_name") or config.get("agent"))).strip("-.")
    return f"{base or 'agent'}-{config['split']}"[:80]


def _check_episode(r: dict[str, Any], split: str, where: str) -> None:
    """An ok episode must carry a score, and a backend score must follow from its test results."""
    score = r.get("score")
    if not isinstance(score, (int, float)) or isinstance(score, bool) or not math.isfinite(score):
        raise SubmissionError(f"{where} is ok but has no score; the run's episodes.jsonl is damaged")
    if split == "frontend":
        return
    if not isinstance(r.get("success"), bool):
        raise SubmissionError(f"{where} is ok but has no success flag; the run's episodes.jsonl is damaged")
    tests = r.get("tests")
    if isinstance(tests, list) and tests:
        passed = sum(isinstance(t, dict) and t.get("status") == "pass" for t in tests)
        if not math.isclose(score, passed / len(tests), abs_tol=1e-9) or r["success"] != (passed == len(tests)):
            raise SubmissionError(f"{where} has score {score:g} (success {r['success']}) but {passed} of "
                                  f"{len(tests)} tests passed; its episodes.jsonl was edited")


def _check_summary(run: RunDir, split: str) -> None:
    """summary.json (written when the run finished) must agree with the episodes."""
    path = run.path / SUMMARY_FILE
    try:
        listed = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SubmissionError(f"{run.path} has no readable summary.json, so the run did not finish; finish it with "
                              f"`colbench eval ... --resume --out {run.path}`") from None
    if not isinstance(listed, dict):
        raise SubmissionError(f"{path} holds a JSON {type(listed).__name__}, not the summary colbench eval writes; "
                              f"rewrite it with `colbench eval ... --resume --out {run.path}`")
    recomputed = summarize(run.frame())
    for metric in ("score", "success") if split == "backend" else ("score",):
        entry = listed.get(metric)
        a = entry.get("mean") if isinstance(entry, dict) else None
        b = recomputed[metric]["mean"]
        if not _TYPES["number"](a) or b is None or not math.isclose(a, b, abs_tol=TOLERANCE):
            raise SubmissionError(f"{run.path}/summary.json lists mean {metric} {a} but its episodes give {b}; "
                                  "the run's files were edited or mixed")


def check_comparable(protocol: str, human: str, where: str) -> None:
    """Only numbers that mean what the paper's mean are ranked beside its rows: dialogues
    under the original protocol, with a model playing the human."""
    if protocol != "sweet_rl":
        raise SubmissionError(f"{where} was run under the {protocol} protocol; the leaderboard ranks only runs under "
                              "the original ColBench protocol, beside the paper's numbers: evaluate with "
                              "--protocol sweet_rl")
    if human == "offline":
        raise SubmissionError(f"{where} was run with the offline human, whose numbers are not comparable with the "
                              "paper's; evaluate with an LLM human (backend) or a VLM human (frontend)")


def validate_submission(sub: Any, *, where: str = "the submission") -> None:
    """Schema, cross-field consistency and metrics recomputed from the per-task scores."""
    try:
        validate_schema(sub, SUBMISSION_SCHEMA)
    except SubmissionError as exc:
        raise SubmissionError(f"{where}: {exc}") from None
    check_comparable(sub["harness"]["protocol"], sub["human"]["spec"], where)
    split, per_task = sub["split"], sub["per_task"]
    if sub["tasks"]["count"] != len(per_task):
        raise SubmissionError(f"{where} says {sub['tasks']['count']} tasks but lists {len(per_task)} per-task scores")
    samples = sub["run"]["samples"]
    for task_id, entry in per_task.items():
        if entry["samples"] != samples:
            raise SubmissionError(f"{where}: task {task_id} has {entry['samples']} samples, the run had {samples}")
        if split == "backend":
            if "success" not in entry or not 0 <= entry["score"] <= 1:
                raise SubmissionError(f"{where}: task {task_id} needs a score in [0, 1] and a success rate")
            if entry["success"] > entry["score"] + 1e-9:  # a successful sample scores 1
                raise SubmissionError(f"{where}: task {task_id} has success {entry['success']:g} above its score "
                                      f"{entry['score']:g}, which no run can produce")
        elif "success" in entry:
            raise SubmissionError(f"{where}: task {task_id} has a success rate, which frontend tasks do not have")
        if (samples > 1) != ("best_score" in entry):
            raise SubmissionError(f"{where}: task {task_id} needs its best score exactly when there are several "
                                  "samples per task")
        best = entry.get("best_score", entry["score"])
        if best < entry["score"] - 1e-9 or (split == "backend" and entry["success"] > 0 and best != 1):
            raise SubmissionError(f"{where}: task {task_id} has best score {best:g}, which its score "
                                  f"{entry['score']:g} and success rate rule out")
    if sub["run"]["episodes"] != len(per_task) * samples:
        raise SubmissionError(f"{where} lists {sub['run']['episodes']} episodes for {len(per_task)} tasks "
                              f"x {samples} samples")
    expected = submission_metrics(per_task, split, samples)
    if set(sub["metrics"]) != set(expected):
        raise SubmissionError(f"{where} must list exactly the metrics {', '.join(expected)} for a {split} run")
    for metric, want in expected.items():
        have = sub["metrics"][metric]
        numbers = [have["mean"], *have["ci95"]], [want["mean"], *want["ci95"]]
        if not all(math.isclose(a, b, abs_tol=TOLERANCE) for a, b in zip(*numbers)):
            raise SubmissionError(
                f"{where}: its metrics do not match its per-task scores ({metric} {have['mean']:.4f} "
                f"[{have['ci95'][0]:.4f}, {have['ci95'][1]:.4f}] listed, {want['mean']:.4f} [{want['ci95'][0]:.4f}, "
                f"{want['ci95'][1]:.4f}] recomputed); submissions must come unedited from `colbench submit`")


def check_official(sub: dict[str, Any], official: TaskSet | None, where: str) -> None:
    """The submission's tasks are the official set: by content hash and count, and against
    the task ids of the local copy when there is one."""
    split, tasks = sub["split"], sub["tasks"]
    if tasks["content_sha256"] != OFFICIAL_CONTENT_SHA256[split] or tasks["count"] != OFFICIAL_LIMITS[split]:
        raise SubmissionError(f"{where} was not run on the official {split} test set (content sha256 "
                              f"{tasks['content_sha256'][:12]}..., {tasks['count']} tasks; the official set is "
                              f"{OFFICIAL_CONTENT_SHA256[split][:12]}..., {OFFICIAL_LIMITS[split]} tasks)")
    if official is None:
        return
    ids = {t.task_id for t in official.tasks}
    if set(sub["per_task"]) != ids:
        missing = len(ids - set(sub["per_task"]))
        extra = len(set(sub["per_task"]) - ids)
        raise SubmissionError(f"{where} does not score exactly the official {split} tasks ({missing} missing, "
                              f"{extra} not in the official set)")


def load_submission(path: str | Path) -> dict[str, Any]:
    """A submission file, validated (schema, consistency, metrics against per-task scores)."""
    p = Path(path)
    try:
        sub = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SubmissionError(f"cannot read submission {p}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise SubmissionError(f"submission {p} is not valid JSON ({exc})") from None
    validate_submission(sub, where=f"submission {p}")
    return sub


def submit(run_dir: str | Path, *, name: str | None = None, root: str | Path = "leaderboard",
           force: bool = False) -> tuple[Path, dict[str, Any]]:
    """Checks a run and writes ROOT/submissions/NAME.json; returns its path and content."""
    _check_board_dir(Path(root))
    sub = make_submission(run_dir, name=name)
    out = Path(root) / SUBMISSIONS / f"{sub['name']}.json"
    if out.exists() and not force:
        raise SubmissionError(f"{out} already exists; choose another --name or pass --force to replace it")
    check_writable(out, "submission")
    write_json_atomic(out, sub)
    return out, sub


def _check_board_dir(root: Path) -> None:
    """The leaderboard directory (or the nearest folder above it that exists) is a folder."""
    if root.exists() and not root.is_dir():
        raise ColbenchError(f"the leaderboard directory {root} is a file; pass --dir a folder")
    check_writable(root / SUBMISSIONS / "x.json", "leaderboard")


# --- The leaderboard ---------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str  # DataFrame column holding the mean (fraction); KEY_lo / KEY_hi hold the CI
    label: str
    primary: bool = False


COLUMNS: dict[str, list[Column]] = {
    "backend": [Column("success", "Success rate (%)", primary=True), Column("score", "Tests passed (%)"),
                Column("best_of_k_success", "Best-of-k success = pass@k, k = samples (%)"),
                Column("best_of_k_score", "Best-of-k score (%)")],
    "frontend": [Column("win_rate", "Win rate vs GPT-4o (%)", primary=True), Column("score", "Cosine similarity x100"),
                 Column("best_of_k_score", "Best-of-k similarity x100")],
}
SPLIT_TITLES = {"backend": "Backend programming", "frontend": "Frontend design"}
REPORTED_FIELDS = {"backend": {"success": "backend_success_rate", "score": "backend_pass_rate"},
                   "frontend": {"win_rate": "frontend_win_rate", "score": "frontend_cosine"}}


@dataclass
class BuildResult:
    readme: Path
    site: Path
    schema: Path
    tables: dict[str, pd.DataFrame]


def load_reported(root: Path) -> dict[str, Any]:
    """The paper's numbers (percent, null = not transcribed) from ROOT/reported.json."""
    path = root / REPORTED_FILE
    if not path.is_file():
        log.info("no %s: no reported rows", path)
        return {"rows": []}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ColbenchError(f"{path} is not valid JSON ({exc})") from None
    rows = doc.get("rows") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise ColbenchError(f"{path} needs a list of rows")
    fields = [f for split in REPORTED_FIELDS.values() for f in split.values()]
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("agent"), str):
            raise ColbenchError(f"{path}: row {i + 1} needs an agent name")
        for f in fields:
            v = row.get(f)
            if v is not None and not (_TYPES["number"](v) and 0 <= v <= 100):
                raise ColbenchError(f"{path}: {row['agent']}'s {f} must be a percentage (0-100) or null")
    return doc


def _matches(sub: dict[str, Any], names: list[str]) -> bool:
    wanted = {n.lower() for n in names}
    return sub["agent"]["name"].lower() in wanted or sub["agent"]["spec"].lower() in wanted


def _per_task_frame(sub: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame([{"task_id": t, "status": "ok", "score": e["score"]} for t, e in sub["per_task"].items()])


def leaderboard_tables(subs: list[dict[str, Any]], reported: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """One DataFrame per split: reproduced entries, then the reported rows no entry replaces."""
    tables: dict[str, pd.DataFrame] = {}
    for split in SPLITS:
        mine = [s for s in subs if s["split"] == split]
        baseline = None
        if split == "frontend":
            gpt = sorted((s for s in mine if _matches(s, WIN_RATE_BASELINE)), key=lambda s: s["name"])
            baseline = gpt[0] if gpt else None
        rows: list[dict[str, Any]] = []
        for s in mine:
            row: dict[str, Any] = {
                "name": s["name"], "agent": s["agent"]["name"], "model": s["agent"]["model"] or "",
                "human": s["human"]["name"], "source": "reproduced", "tasks": s["tasks"]["count"],
                "samples": s["run"]["samples"],
                "harness": s["harness"]["version"]
                + (f" (compat {s['harness']['compat']})" if s["harness"]["compat"] else ""),
            }
            for metric, m in s["metrics"].items():
                row[metric], (row[f"{metric}_lo"], row[f"{metric}_hi"]) = m["mean"], m["ci95"]
            if split == "frontend":
                w = win_rate(_per_task_frame(s), _per_task_frame(baseline)) if baseline else {"mean": None}
                row["win_rate"] = w["mean"]
                row["win_rate_lo"], row["win_rate_hi"] = w.get("ci95", [None, None])
                row["win_rate_baseline"] = baseline["name"] if baseline else None
            rows.append(row)
        for rep in reported.get("rows", []):
            if any(_matches(s, rep.get("match") or [rep["agent"]]) for s in mine):
                continue  # a reproduced entry replaces the paper's row
            human = (reported.get("human") or {}).get(split) or ""
            row = {"name": "", "agent": rep["agent"], "model": rep.get("model") or "", "human": human,
                   "source": "reported", "tasks": None, "samples": None, "harness": ""}
            for key, field_name in REPORTED_FIELDS[split].items():
                v = rep.get(field_name)
                row[key] = None if v is None else v / 100.0
                row[f"{key}_lo"] = row[f"{key}_hi"] = None
            rows.append(row)
        keys = [c.key for c in COLUMNS[split]]
        frame = pd.DataFrame(rows, columns=["name", "agent", "model", "human", "source", "tasks", "samples", "harness",
                                            *[f"{k}{x}" for k in keys for x in ("", "_lo", "_hi")]])
        if len(frame):
            frame = frame.sort_values(keys, ascending=False, na_position="last", kind="stable").reset_index(drop=True)
        tables[split] = frame
    return tables


def build_leaderboard(root: str | Path = "leaderboard") -> BuildResult:
    """Validates every submission and writes README.md, site/index.html and the schema file."""
    root = Path(root)
    _check_board_dir(root)
    subs: list[dict[str, Any]] = []
    sub_dir = root / SUBMISSIONS
    officials: dict[str, TaskSet | None] = {}
    for split in SPLITS:
        local = data_dir() / OFFICIAL_FILES[split]
        officials[split] = load_tasks("colbench", split) if is_official(local, split) else None
    for path in sorted(sub_dir.glob("*.json")) if sub_dir.is_dir() else []:
        sub = load_submission(path)
        where = f"submission {path}"
        if sub["name"] != path.stem:
            raise SubmissionError(f"{where} is named {sub['name']!r}; its file must be {sub['name']}.json")
        check_official(sub, officials[sub["split"]], where)
        subs.append(sub)
    reported = load_reported(root)
    tables = leaderboard_tables(subs, reported)
    hashes: dict[str, str | None] = dict(OFFICIAL_CONTENT_SHA256)
    readme = root / "README.md"
    write_text_atomic(readme, render_markdown(tables, reported, hashes))
    site = root / "site" / "index.html"
    write_text_atomic(site, render_site(tables, reported, hashes))
    schema = root / SCHEMA_FILE
    write_json_atomic(schema, SUBMISSION_SCHEMA)
    return BuildResult(readme=readme, site=site, schema=schema, tables=tables)


# --- Rendering ---------------------------------------------------------------------------

DASH = "–"


def _pct(v: Any) -> str:
    return DASH if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}"


def _value(row: pd.Series, key: str) -> str:
    mean, lo, hi = row[key], row[f"{key}_lo"], row[f"{key}_hi"]
    if _pct(mean) == DASH:
        return DASH
    return _pct(mean) if _pct(lo) == DASH else f"{_pct(mean)} [{_pct(lo)}, {_pct(hi)}]"


def _size(row: pd.Series) -> str:
    if row["tasks"] is None or pd.isna(row["tasks"]):
        return DASH
    return f"{int(row['tasks'])} x {int(row['samples'])}"


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ") or DASH


def _ranks(frame: pd.DataFrame) -> list[str]:
    out, n = [], 0
    for source in frame["source"]:
        n += source == "reproduced"
        out.append(str(n) if source == "reproduced" else DASH)
    return out


def render_markdown(tables: dict[str, pd.DataFrame], reported: dict[str, Any], hashes: dict[str, str | None]) -> str:
    lines = ["# ColBench leaderboard", "",
             "Generated by `colbench leaderboard build` from `submissions/*.json` and `reported.json`; do not edit "
             "by hand. Interactive page: [`site/index.html`](site/index.html). How to submit: "
             "[`docs/submitting.md`](../docs/submitting.md).", "",
             "Numbers are percentages with 95% bootstrap confidence intervals over tasks. Rows marked "
             f"*{REPORTED_LABEL}* are the numbers published in the SWEET-RL paper; a reproduced entry for the same "
             f"agent replaces them. {DASH} = not available.", ""]
    for split, frame in tables.items():
        cols = COLUMNS[split]
        lines += [f"## {SPLIT_TITLES[split]}", ""]
        sha = hashes.get(split)
        lines += [f"Official test set: the first {OFFICIAL_LIMITS[split]} tasks of the published {split} test file"
                  + (f" (content sha256 `{sha[:16]}...`)." if sha else "."), ""]
        if split == "frontend":
            lines += ["Win rate: per task 1 if the entry's page is more similar to the reference than GPT-4o's, 0.5 "
                      "on a tie, 0 otherwise (against the reproduced GPT-4o entry).", ""]
        if not len(frame):
            lines += ["No entries yet.", ""]
            continue
        header = ["#", "Agent", "Model", "Human simulator", *[c.label + " [95% CI]" for c in cols],
                  "Tasks x samples", "Harness", "Source"]
        lines += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        for rank, (_, row) in zip(_ranks(frame), frame.iterrows()):
            source = f"[submission](submissions/{row['name']}.json)" if row["source"] == "reproduced" \
                else f"*{REPORTED_LABEL}*"
            cells = [rank, _md(row["agent"]), _md(row["model"]), _md(row["human"]),
                     *[_value(row, c.key) for c in cols], _size(row), _md(row["harness"]), source]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    source = reported.get("source")
    if source:
        lines += [f"Reported rows: {source}. {reported.get('note', '')}".strip(), ""]
    return "\n".join(lines)


_CSS = """
:root{--fg:#1d2330;--muted:#5b6475;--line:#d9dde5;--accent:#2f5bd3;--bg:#fff;--soft:#f4f6fa}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1280px;padding:24px}
h1{font-size:26px;margin:0 0 4px}
p.lead{color:var(--muted);margin:0 0 18px}
[role=tablist]{display:flex;gap:4px;border-bottom:1px solid var(--line);margin-bottom:16px}
[role=tab]{font:inherit;border:1px solid transparent;border-bottom:none;background:none;padding:8px 16px;cursor:pointer;color:var(--muted);border-radius:6px 6px 0 0}
[role=tab][aria-selected=true]{border-color:var(--line);background:var(--bg);color:var(--fg);font-weight:600;margin-bottom:-1px}
table{border-collapse:collapse;width:100%;margin:12px 0}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top;white-space:nowrap}
.scroll{overflow-x:auto}
th{background:var(--soft);font-weight:600;white-space:nowrap}
th[data-sort]{cursor:pointer;user-select:none}
th[data-sort]:after{content:" \\2195";color:#9aa3b2}
th[aria-sort=descending]:after{content:" \\2193";color:var(--accent)}
th[aria-sort=ascending]:after{content:" \\2191";color:var(--accent)}
td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
td.num small{color:var(--muted)}
tr.reported td{color:var(--muted);font-style:italic}
.badge{font-size:12px;border-radius:10px;padding:1px 8px;background:#eef2fb;color:var(--accent);font-style:normal;white-space:nowrap}
.badge.rep{background:#fbf1e6;color:#9a5a12}
.note{color:var(--muted);font-size:13px}
svg text{font:12px system-ui,sans-serif;fill:var(--fg)}
.empty{color:var(--muted);font-style:italic}
a{color:var(--accent)}
"""

_JS = """
(function () {
  function num(td) { var v = td.getAttribute('data-value'); return v === '' || v === null ? null : parseFloat(v); }
  document.querySelectorAll('table.board').forEach(function (table) {
    var heads = table.querySelectorAll('th[data-sort]');
    heads.forEach(function (th) {
      th.addEventListener('click', function () {
        var col = Array.prototype.indexOf.call(th.parentNode.children, th);
        var numeric = th.getAttribute('data-sort') === 'num';
        // First click: best first (descending) for numbers, A-Z for text.
        var dir = th.getAttribute('aria-sort') === (numeric ? 'descending' : 'ascending')
          ? (numeric ? 'ascending' : 'descending') : (numeric ? 'descending' : 'ascending');
        heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir);
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col];
          if (numeric) {
            var p = num(x), q = num(y);
            if (p === null || q === null) return (p === null) - (q === null);  // missing values last
            return dir === 'ascending' ? p - q : q - p;
          }
          var s = x.textContent.trim().toLowerCase(), t = y.textContent.trim().toLowerCase();
          return dir === 'ascending' ? s.localeCompare(t) : t.localeCompare(s);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  var tabs = document.querySelectorAll('[role=tab]');
  function show(split) {
    tabs.forEach(function (t) {
      var on = t.getAttribute('data-split') === split;
      t.setAttribute('aria-selected', on ? 'true' : 'false');
      document.getElementById(t.getAttribute('aria-controls')).hidden = !on;
    });
  }
  tabs.forEach(function (t) {
    t.addEventListener('click', function () {
      show(t.getAttribute('data-split'));
      history.replaceState(null, '', '#' + t.getAttribute('data-split'));
    });
  });
  var wanted = location.hash.slice(1);
  if (document.querySelector('[role=tab][data-split="' + wanted + '"]')) show(wanted);
})();
"""


def _e(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _data_value(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else repr(float(v))


def render_chart(frame: pd.DataFrame, column: Column) -> str:
    """Horizontal bars (percent) with 95% CI whiskers for one metric, as inline SVG."""
    rows = [r for _, r in frame.iterrows() if _data_value(r[column.key])]
    if not rows:
        return f'<p class="empty">No {_e(column.label.lower())} to chart yet.</p>'
    label_w, bar_w, row_h, top = 250, 560, 26, 24
    agents = [r["agent"] for r in rows]
    height = top + row_h * len(rows) + 8
    x = lambda v: label_w + bar_w * max(0.0, min(1.0, float(v)))  # noqa: E731
    parts = [f'<svg class="chart" role="img" aria-label="{_e(column.label)} by agent" width="{label_w + bar_w + 70}" '
             f'height="{height}" viewBox="0 0 {label_w + bar_w + 70} {height}">']
    for tick in (0, 25, 50, 75, 100):
        tx = x(tick / 100)
        parts.append(f'<line x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{height - 8}" stroke="#e3e6ec"/>'
                     f'<text x="{tx:.1f}" y="{top - 10}" text-anchor="middle">{tick}</text>')
    for i, r in enumerate(rows):
        y = top + i * row_h
        reported = r["source"] == "reported"
        label = f"{r['agent']} (reported)" if reported else \
            r["agent"] + (f" / {r['human']}" if agents.count(r["agent"]) > 1 else "")
        style = 'fill="#f0c997" stroke="#9a5a12" stroke-dasharray="3 2"' if reported else 'fill="#7d9be6"'
        short = label if len(label) <= 36 else label[:35] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{_e(short)}</text>'
                     f'<rect x="{label_w}" y="{y + 5}" width="{x(r[column.key]) - label_w:.1f}" height="{row_h - 10}" '
                     f'{style}><title>{_e(label)}: {_value(r, column.key)}</title></rect>')
        if _data_value(r[f"{column.key}_lo"]):
            lo, hi, mid = x(r[f"{column.key}_lo"]), x(r[f"{column.key}_hi"]), y + row_h / 2
            parts.append(f'<path d="M{lo:.1f} {mid:.1f}H{hi:.1f}M{lo:.1f} {mid - 5:.1f}V{mid + 5:.1f}'
                         f'M{hi:.1f} {mid - 5:.1f}V{mid + 5:.1f}" stroke="#1d2330" stroke-width="1.4" fill="none"/>')
        end = r[f"{column.key}_hi"] if _data_value(r[f"{column.key}_hi"]) else r[column.key]  # right of the whisker
        parts.append(f'<text x="{x(end) + 6:.1f}" y="{y + 16}">{_pct(r[column.key])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table_html(split: str, frame: pd.DataFrame) -> str:
    cols = COLUMNS[split]
    heads = ['<th data-sort="num">#</th>', '<th data-sort="text">Agent</th>', '<th data-sort="text">Model</th>',
             '<th data-sort="text">Human simulator</th>',
             *[f'<th data-sort="num" data-key="{c.key}">{_e(c.label)} <small>[95% CI]</small></th>' for c in cols],
             '<th data-sort="num">Tasks x samples</th>', '<th data-sort="text">Harness</th>',
             '<th data-sort="text">Source</th>']
    body = []
    for rank, (_, row) in zip(_ranks(frame), frame.iterrows()):
        reported = row["source"] == "reported"
        cells = [f'<td class="num" data-value="{"" if rank == DASH else rank}">{rank}</td>',
                 f'<td title="{_e(row["name"])}">{_e(row["agent"])}</td>', f'<td>{_e(row["model"]) or DASH}</td>',
                 f'<td>{_e(row["human"]) or DASH}</td>']
        for c in cols:
            mean, lo = row[c.key], row[f"{c.key}_lo"]
            text = _pct(mean) + (f' <small>[{_pct(lo)}, {_pct(row[f"{c.key}_hi"])}]</small>'
                                 if _data_value(mean) and _data_value(lo) else "")
            cells.append(f'<td class="num" data-value="{_data_value(mean)}">{text}</td>')
        tasks = "" if reported else str(int(row["tasks"]) * int(row["samples"]))
        cells.append(f'<td class="num" data-value="{tasks}">{_e(_size(row))}</td>')
        cells.append(f'<td>{_e(row["harness"]) or DASH}</td>')
        source = f'<span class="badge rep">{REPORTED_LABEL}</span>' if reported else \
            f'<a href="../{SUBMISSIONS}/{_e(row["name"])}.json">reproduced</a>'
        cells.append(f"<td>{source}</td>")
        body.append(f'<tr class="{"reported" if reported else "reproduced"}">{"".join(cells)}</tr>')
    if not body:
        body.append(f'<tr><td colspan="{len(heads)}" class="empty">No entries yet.</td></tr>')
    return (f'<div class="scroll"><table class="board" id="table-{split}"><thead><tr>{"".join(heads)}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def render_site(tables: dict[str, pd.DataFrame], reported: dict[str, Any], hashes: dict[str, str | None]) -> str:
    """A self-contained page: inline CSS and JS, split tabs, sortable tables, SVG charts."""
    tabs, panels = [], []
    for i, (split, frame) in enumerate(tables.items()):
        primary = next(c for c in COLUMNS[split] if c.primary)
        # Frontend: chart the win rate once there is a GPT-4o entry, else the similarity.
        chart_col = primary if frame[primary.key].notna().any() or split == "backend" else COLUMNS[split][1]
        sha = hashes.get(split)
        extra = ('<p class="note">Win rate: per task 1 if the entry\'s page is more similar to the reference than '
                 'the reproduced GPT-4o entry\'s, 0.5 on a tie, 0 otherwise.</p>') if split == "frontend" else ""
        tabs.append(f'<button role="tab" id="tab-{split}" data-split="{split}" aria-controls="panel-{split}" '
                    f'aria-selected="{"true" if i == 0 else "false"}">{SPLIT_TITLES[split]}</button>')
        panels.append(
            f'<section role="tabpanel" id="panel-{split}" aria-labelledby="tab-{split}"{"" if i == 0 else " hidden"}>'
            f'<p class="note">Official test set: the first {OFFICIAL_LIMITS[split]} tasks of the published {split} '
            f'test file{f" (content sha256 {_e(sha[:16])}...)" if sha else ""}. Click a column header to sort.</p>'
            f'{extra}'
            f'<h2>{_e(chart_col.label)}</h2>{render_chart(frame, chart_col)}{_table_html(split, frame)}</section>')
    source = reported.get("source")
    foot = (f'<p class="note">Rows marked <span class="badge rep">{REPORTED_LABEL}</span> carry the numbers published '
            f'in the SWEET-RL paper{": " + _e(source) if source else ""}. {_e(reported.get("note", ""))} A reproduced '
            f'entry for the same agent replaces them. {DASH} = not available.</p>')
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>ColBench leaderboard</title><style>{_CSS}</style></head><body>"
            "<h1>ColBench leaderboard</h1><p class=\"lead\">Agents that collaborate with a simulated human over up to "
            "10 turns. Percentages with 95% bootstrap confidence intervals over tasks.</p>"
            f'<div role="tablist" aria-label="Task split">{"".join(tabs)}</div>{"".join(panels)}{foot}'
            f"<script>{_JS}</script></body></html>\n")
