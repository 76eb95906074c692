"""Stage 1: trajectory preference pairs from a run with K samples per task.

Backend, as the original's evaluate_code.py: chosen = the best successful trajectory (all
tests passed; the earliest sample on a tie), rejected = each trajectory of that task with a
lower score; tasks with no success give no pairs. Frontend, `frontend_pairs`:
- "all" (the default, as the original's evaluate_html.py): every two trajectories of a task
  whose similarities differ by at least `min_gap` (0.1), the higher one chosen;
- "best": the best trajectory against each one at least `min_gap` lower.
Each pair carries the task's reference solution, which the critic sees during training.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from colbench.errors import ColbenchError
from colbench.jsonl import check_writable, write_jsonl_atomic
from colbench.protocol import run_protocol
from colbench.runs import EpisodeRecord, RunDir
from colbench.train.common import task_with_reference


def _trajectory(record: EpisodeRecord) -> dict[str, Any]:
    return {"sample": record.sample, "score": record.score, "turns": record.turns, "answer": record.answer}


FRONTEND_PAIRS = ("all", "best")


def _score(record: EpisodeRecord) -> float:
    assert record.score is not None  # only scored episodes are paired
    return record.score


def preference_pairs(run_dir: str | Path, *, min_gap: float = 0.1,
                     frontend_pairs: str = "all") -> list[dict[str, Any]]:
    run = RunDir.existing(run_dir)
    config = run.read_config()
    if int(config.get("samples", 1)) < 2:
        raise ColbenchError(f"no preference pairs are possible: {run_dir} has 1 sample per task; "
                            "collect with colbench eval --samples K (K >= 2)")
    tasks = run.taskset().by_id()
    by_task: dict[str, list[EpisodeRecord]] = {}
    for (task_id, _), record in sorted(run.latest().items()):
        if record.ok and record.score is not None:
            by_task.setdefault(task_id, []).append(record)
    if frontend_pairs not in FRONTEND_PAIRS:
        raise ColbenchError(f"unknown frontend pairing {frontend_pairs!r}; use {' or '.join(FRONTEND_PAIRS)}")
    protocol = run_protocol(config)
    pairs = []
    for task_id, records in by_task.items():
        task = task_with_reference(tasks, task_id, run_dir, config)
        if task.split == "frontend" and frontend_pairs == "all":
            matched = [(a, b) if _score(a) > _score(b) else (b, a)
                       for i, a in enumerate(records) for b in records[i + 1:]
                       if abs(_score(a) - _score(b)) >= min_gap and a.score != b.score]
        else:
            winners = records if task.split == "frontend" else [r for r in records if r.success]
            if not winners:
                continue
            best = max(winners, key=lambda r: (_score(r), -r.sample))
            gap = min_gap if task.split == "frontend" else 0.0
            matched = [(best, r) for r in records if r is not best and _score(r) <= _score(best) - gap
                       and _score(r) < _score(best)]
        pairs += [{"task_id": task_id, "split": task.split, "protocol": protocol,
                   "problem_description": task.problem_description, "reference": task.ground_truth,
                   "chosen": _trajectory(chosen), "rejected": _trajectory(rejected)} for chosen, rejected in matched]
    return pairs


def write_preference_pairs(run_dir: str | Path, out: str | Path, *, min_gap: float = 0.1,
                           frontend_pairs: str = "all") -> int:
    if not isinstance(min_gap, (int, float)) or not math.isfinite(min_gap) or min_gap < 0:
        raise ColbenchError(f"--min-gap must be a finite number of at least 0, got {min_gap}")
    check_writable(out, "preference pairs")
    pairs = preference_pairs(run_dir, min_gap=min_gap, frontend_pairs=frontend_pairs)
    if not pairs:
        raise ColbenchError(f"{run_dir} gives no preference pairs: {_why_no_pairs(run_dir)}")
    write_jsonl_atomic(out, pairs)
    return len(pairs)


def _why_no_pairs(run_dir: str | Path) -> str:
    samples: dict[str, list[str]] = {}
    for (task_id, _), r in sorted(RunDir.existing(run_dir).latest().items()):
        if r.ok:
            samples.setdefault(task_id, []).append(repr((r.turns, r.answer)))
    if samples and all(len(v) > 1 and len(set(v)) == 1 for v in samples.values()):
        return ("the samples of every task are identical, so none is better than another (the agent decoded "
                "greedily?); collect with sampling: --agent-temperature 1.0, or --protocol sweet_rl (the default)")
    return "no task has a successful trajectory beside a worse one"
