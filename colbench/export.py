"""Exporting runs to other tools' formats.

`sweet_rl`: the original research code's trajectory lines, so runs feed its scripts:
{"task": {...}, "dialogue_history": [...], "answer": "...", "reward": score}. The dialogue
starts with the user's request; agent turns are "assistant" messages carrying "input" (the
chat the agent saw, rendered as text) and "output" (its raw message); human turns are
"user" messages. Lines are ordered sample-major (all tasks for sample 0, then sample 1...),
as the original's `tasks * best_of_n`, so its evaluate_code.py `k` argument works.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from colbench.errors import ColbenchError
from colbench.jsonl import check_writable, write_jsonl_atomic
from colbench.protocol import agent_messages, agent_system_for, run_protocol
from colbench.runs import RunDir
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
            if record is None or record.get("status") != "ok":
                continue
            yield _sweet_rl_line(task, record, protocol)


def _sweet_rl_line(task: Task, record: dict[str, Any], protocol: str) -> dict[str, Any]:
    history: list[dict[str, Any]] = [{"role": "user", "content": task.problem_description}]
    seen: list[dict[str, str]] = []
    for turn in record["turns"]:
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
    return {"task": task_obj, "dialogue_history": history, "answer": record.get("answer") or "",
            "reward": record.get("score")}


def export_run(run_dir: str | Path, fmt: str, out: str | Path) -> int:
    if fmt not in FORMATS:
        raise ColbenchError(f"unknown export format {fmt!r}; use {', '.join(FORMATS)}")
    check_writable(out, "export")
    lines = list(sweet_rl_lines(run_dir))
    write_jsonl_atomic(out, lines)
    return len(lines)
