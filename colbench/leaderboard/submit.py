"""From a run to a submission: `colbench submit RUN_DIR` checks a finished run on the full
official test set (every episode ok and scored, its summary agreeing with its episodes, the
task file unchanged) and writes `leaderboard/submissions/NAME.json`: who played (agent,
human, their models and sampling), on what (the task file's sha256), with which harness,
every task's score, and metrics recomputed from those scores."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from datetime import datetime, timezone
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import numpy as np

from colbench.jsonl import check_writable, write_json_atomic
from colbench.leaderboard.board import SUBMISSIONS, check_board_dir
from colbench.leaderboard.schema import NAME_PATTERN, SCHEMA_VERSION, SubmissionError, is_number
from colbench.llm.base import USAGE_KEYS
from colbench.leaderboard.submission import TOLERANCE, check_comparable, submission_metrics, validate_submission
from colbench.protocol import run_protocol
from colbench.runs import SUMMARY_FILE, EpisodeRecord, RunDir
from colbench.stats import summarize, task_order
from colbench.tasks import OFFICIAL_CONTENT_SHA256, OFFICIAL_LIMITS, SPLITS, is_official, load_tasks

log = logging.getLogger(__name__)


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
    errors = [r for r in latest.values() if not r.ok]
    if errors:
        first = errors[0]
        raise SubmissionError(
            f"{where} has {len(errors)} episode(s) that ended in an error (first: task {first.task_id} sample "
            f"{first.sample}: {str(first.error)[:120]}); finish them with `colbench eval ... --resume "
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
        scores = [r.score for r in rows if r.score is not None]  # every one (_check_episode)
        entry: dict[str, Any] = {"score": float(np.mean(scores))}
        if split == "backend":
            entry["success"] = float(np.mean([float(bool(r.success)) for r in rows]))
        if samples > 1:
            entry["best_score"] = max(scores)
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
    usage = _summary_usage(run)
    if usage:
        submission["usage"] = usage
    validate_submission(submission, where=f"the submission from {where}")
    return submission


def _default_name(config: dict[str, Any]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", str(config.get("agent_name") or config.get("agent"))).strip("-.")
    return f"{base or 'agent'}-{config['split']}"[:80]


def _check_episode(r: EpisodeRecord, split: str, where: str) -> None:
    """An ok episode must carry a score, and a backend score must follow from its test results."""
    score = r.score  # a finite number or None: the record's type
    if score is None:
        raise SubmissionError(f"{where} is ok but has no score; the run's episodes.jsonl is damaged")
    if split == "frontend":
        return
    if r.success is None:
        raise SubmissionError(f"{where} is ok but has no success flag; the run's episodes.jsonl is damaged")
    if r.tests:
        passed = sum(t["status"] == "pass" for t in r.tests)
        if not math.isclose(score, passed / len(r.tests), abs_tol=1e-9) or r.success != (passed == len(r.tests)):
            raise SubmissionError(f"{where} has score {score:g} (success {r.success}) but {passed} of "
                                  f"{len(r.tests)} tests passed; its episodes.jsonl was edited")


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
        if not is_number(a) or b is None or not math.isclose(a, b, abs_tol=TOLERANCE):
            raise SubmissionError(f"{run.path}/summary.json lists mean {metric} {a} but its episodes give {b}; "
                                  "the run's files were edited or mixed")


def _summary_usage(run: RunDir) -> dict[str, dict[str, int | float]]:
    """The models' usage from summary.json (per role: calls, tokens, seconds, cost), the keys
    the schema knows with values it accepts; empty when the run recorded none."""
    try:
        listed = json.loads((run.path / SUMMARY_FILE).read_text(encoding="utf-8")).get("usage")
    except (OSError, ValueError, AttributeError):
        return {}  # _check_summary has said what is wrong with the file
    usage: dict[str, dict[str, int | float]] = {}
    for role in ("agent", "human"):
        entry = listed.get(role) if isinstance(listed, dict) else None
        if not isinstance(entry, dict):
            continue
        kept = {}
        for key in USAGE_KEYS:
            v = entry.get(key)
            whole = key in ("calls", "prompt_tokens", "completion_tokens")
            if is_number(v) and v >= 0 and (not whole or isinstance(v, int)):
                kept[key] = v
            elif v is not None:
                log.warning("%s: usage.%s.%s (%r) is left out of the submission", run.path / SUMMARY_FILE, role,
                            key, v)
        if kept:
            usage[role] = kept
    return usage


def submit(run_dir: str | Path, *, name: str | None = None, root: str | Path = "leaderboard",
           force: bool = False) -> tuple[Path, dict[str, Any]]:
    """Checks a run and writes ROOT/submissions/NAME.json; returns its path and content."""
    check_board_dir(Path(root))
    sub = make_submission(run_dir, name=name)
    out = Path(root) / SUBMISSIONS / f"{sub['name']}.json"
    if out.exists() and not force:
        raise SubmissionError(f"{out} already exists; choose another --name or pass --force to replace it")
    check_writable(out, "submission")
    write_json_atomic(out, sub)
    return out, sub
