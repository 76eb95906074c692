"""The original research code's trajectory format (sweet_rl), both ways.

Lines: {"task": {...problem_description, ground_truth, test_cases...}, "dialogue_history":
[{"role": "user" | "assistant", "content", "input"?, "output"?}, ...], "answer", "reward"}.

Export (`colbench export --format sweet_rl`): runs feed the original's scripts. The dialogue
starts with the user's request; agent turns are "assistant" messages carrying "input" (the
chat the agent saw, rendered as text) and "output" (its raw message); human turns are
"user" messages. Lines are ordered sample-major (all tasks for sample 0, then sample 1...),
as the original's `tasks * best_of_n`, so its evaluate_code.py `k` argument works.

Import (`colbench train import`, SWEET-RL's released data): writes a run directory
(run.json, episodes.jsonl, and the tasks it found as tasks.jsonl), so every stage that reads
runs reads imported data too. Trajectories of the same task (same problem description)
become samples 0, 1, ... of that task.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any, Iterator

from colbench.errors import ColbenchError
from colbench.jsonl import check_writable, encode_text, parse_object, read_lines, write_jsonl_atomic
from colbench.protocol import agent_messages, agent_system_for, run_protocol
from colbench.runs import EpisodeRecord, EpisodeWriter, RunDir, Turn
from colbench.tasks import Task

FORMATS = ("sweet_rl",)


def _render(messages: list[dict[str, str]]) -> str:
    return "".join(f"{m['role']}: {m['content']}\n\n" for m in messages)


def sweet_rl_lines(run_dir: str | Path) -> Iterator[dict[str, Any]]:
    run = RunDir.existing(run_dir)
    config = run.read_config()
    taskset = run.taskset()
    if taskset.sha256 != config.get("tasks_sha256"):
        raise ColbenchError(f"the task file {config['tasks_path']} changed since the run (or the run does not record "
                            "its sha256); cannot export it faithfully")
    tasks = taskset.tasks[: config["limit"]] if config.get("limit") else taskset.tasks
    latest = run.latest()
    protocol = run_protocol(config)
    for sample in range(int(config.get("samples", 1))):
        for task in tasks:
            record = latest.get((task.task_id, sample))
            if record is None or not record.ok:
                continue
            yield _sweet_rl_line(task, record, protocol)


def _sweet_rl_line(task: Task, record: EpisodeRecord, protocol: str) -> dict[str, Any]:
    history: list[dict[str, Any]] = [{"role": "user", "content": task.problem_description}]
    seen: list[Turn] = []
    for turn in record.turns:
        if turn["role"] == "agent":
            prompt = agent_messages(task.split, task.problem_description, seen, agent_system_for(protocol, task.split))
            history.append({"role": "assistant", "content": turn["content"], "input": _render(prompt),
                            "output": turn.get("raw", turn["content"])})
        else:
            history.append({"role": "user", "content": turn["content"]})
        seen.append(turn)
    task_obj: dict[str, Any] = {"task_id": task.task_id, "problem_description": task.problem_description,
                                "ground_truth": task.ground_truth, "hidden_information": task.hidden_information}
    if task.test_cases:
        task_obj["test_cases"] = task.test_cases
    return {"task": task_obj, "dialogue_history": history, "answer": record.answer or "", "reward": record.score}


def export_run(run_dir: str | Path, fmt: str, out: str | Path) -> int:
    if fmt not in FORMATS:
        raise ColbenchError(f"unknown export format {fmt!r}; use {', '.join(FORMATS)}")
    check_writable(out, "export")
    lines = list(sweet_rl_lines(run_dir))
    write_jsonl_atomic(out, lines)
    return len(lines)


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
        turns: list[Turn] = []
        for m in history[1:]:  # the first message is the user's request
            if m.get("role") == "assistant":
                turn: Turn = {"role": "agent", "content": str(m.get("content", ""))}
                if m.get("output") and m["output"] != turn["content"]:
                    turn["raw"] = str(m["output"])
                turns.append(turn)
            else:
                turns.append({"role": "human", "content": str(m.get("content", ""))})
        records.append(EpisodeRecord(task_id=task_id, sample=sample, status="ok", turns=turns, answer=answer,
                                     score=reward, success=(reward == 1.0) if "test_cases" in task else None))
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
