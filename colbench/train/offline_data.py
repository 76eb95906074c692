"""Import of the published offline trajectory format (SWEET-RL's released data).

Lines: {"task": {...problem_description, ground_truth, test_cases...}, "dialogue_history":
[{"role": "user" | "assistant", "content", "input"?, "output"?}, ...], "answer", "reward"}.
The import writes a run directory (run.json, episodes.jsonl, and the tasks it found as
tasks.jsonl), so every stage that reads runs reads imported data too. Trajectories of the
same task (same problem description) become samples 0, 1, ... of that task.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

from colbench.errors import ColbenchError
from colbench.jsonl import check_writable, encode_text, parse_object, read_lines, write_jsonl_atomic
from colbench.runs import EpisodeWriter, RunDir


def import_sweet_rl(path: str | Path, out: str | Path, *, protocol: str = "sweet_rl") -> int:
    """Imports the trajectories into a new run directory `out`; returns how many. `protocol`
    is the one their dialogues were held under (the released data: the original's), which
    the trainer then shows the agent."""
    run = RunDir(out)
    if run.exists():
        raise ColbenchError(f"{out} already holds a run; choose another directory")
    if run.path.exists() and not run.path.is_dir():
        raise ColbenchError(f"{out} is a file; --out must be a directory for the imported run")
    check_writable(run.path / "run.json", "imported run")
    _, lines = read_lines(Path(path), "trajectory file")
    tasks: dict[str, dict[str, Any]] = {}
    samples: dict[str, int] = {}
    records = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path} line {n}"
        obj = parse_object(line, where)
        task, history = obj.get("task"), obj.get("dialogue_history")
        if not isinstance(task, dict) or not isinstance(history, list):
            raise ColbenchError(f"{where}: expected task and dialogue_history")
        if not isinstance(task.get("ground_truth"), str) or not task["ground_truth"].strip():
            raise ColbenchError(f"{where}: the task has no reference solution (ground_truth)")
        if not all(isinstance(m, dict) for m in history):
            raise ColbenchError(f"{where}: every dialogue_history entry must be a {{role, content}} object")
        reward = obj.get("reward")
        if reward is not None and (isinstance(reward, bool) or not isinstance(reward, (int, float))
                                   or not math.isfinite(reward)):
            raise ColbenchError(f"{where}: reward must be a number or null")
        answer = obj.get("answer")
        if answer is not None and not isinstance(answer, str):
            raise ColbenchError(f"{where}: answer must be a string or null")
        desc = str(task.get("problem_description", ""))
        task_id = str(task.get("task_id") or hashlib.sha256(encode_text(desc)).hexdigest()[:12])
        tasks.setdefault(task_id, {**task, "task_id": task_id})
        sample = samples.get(task_id, 0)
        samples[task_id] = sample + 1
        turns = []
        for m in history[1:]:  # the first message is the user's request
            if m.get("role") == "assistant":
                turn = {"role": "agent", "content": str(m.get("content", ""))}
                if m.get("output") and m["output"] != turn["content"]:
                    turn["raw"] = str(m["output"])
                turns.append(turn)
            else:
                turns.append({"role": "human", "content": str(m.get("content", ""))})
        records.append({"task_id": task_id, "sample": sample, "status": "ok", "error": None, "turns": turns,
                        "answer": answer, "score": reward,
                        "success": (reward == 1.0) if "test_cases" in task else None})
    if not records:
        raise ColbenchError(f"trajectory file {path} has no trajectories")
    run.path.mkdir(parents=True, exist_ok=True)
    tasks_path = run.path.resolve() / "tasks.jsonl"  # absolute: later stages may run from elsewhere
    write_jsonl_atomic(tasks_path, list(tasks.values()))
    split = "backend" if all("test_cases" in t for t in tasks.values()) else "frontend"
    run.start({"agent": f"imported:{path}", "human": "unknown", "split": split, "tasks": str(tasks_path),
               "tasks_path": str(tasks_path), "tasks_sha256": hashlib.sha256(tasks_path.read_bytes()).hexdigest(),
               "samples": max(samples.values()), "imported_from": str(path), "protocol": protocol})
    writer = EpisodeWriter(run.episodes_path)
    try:
        for r in records:
            writer.append(r)
    finally:
        writer.close()
    return len(records)
