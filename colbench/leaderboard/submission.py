"""The checks of a submission document: its schema, its fields against each other, its
metrics recomputed from its per-task scores, and its tasks against the official set.

What the checks can and cannot do: they make the numbers on the board follow from the
per-task scores and the per-task scores cover exactly the official tasks, so a number
cannot be edited on its own; they cannot prove the per-task scores came from real episodes
(that needs re-running them), so the run's episodes file hash is recorded for provenance.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from colbench.leaderboard.schema import SUBMISSION_SCHEMA, SubmissionError, validate_schema
from colbench.stats import TaskTotals, task_metrics, task_order
from colbench.tasks import OFFICIAL_CONTENT_SHA256, OFFICIAL_LIMITS, TaskSet

TOLERANCE = 1e-6  # recomputed metrics must match the listed ones to this


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
