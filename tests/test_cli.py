"""The `colbench` command as a user runs it: real process, real exit codes, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from colbench.sandbox.guest import HASH_SEED
from colbench.tasks import load_tasks

COLBENCH = [sys.executable, "-m", "colbench.cli"]


def run(*args, env=None, timeout=300):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(COLBENCH + [str(a) for a in args], capture_output=True, text=True,
                          env=full_env, timeout=timeout)


def assert_one_sentence_error(proc, pattern: str):
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    assert pattern in lines[0], lines[0]


@pytest.fixture()
def bundled_answers(tmp_path) -> Path:
    tasks = load_tasks("bundled", "backend").tasks[:6]
    path = tmp_path / "answers.jsonl"
    with path.open("w") as f:
        for i, t in enumerate(tasks):
            f.write(json.dumps({"task_id": t.task_id, "answer": t.ground_truth, "model": "ref", "n": i}) + "\n")
        # Several answers may share a task; a wrong one scores below 1.
        f.write(json.dumps({"task_id": tasks[0].task_id, "answer": "def nope():\n    return 0\n", "model": "bad"}) + "\n")
    return path


@pytest.mark.parametrize("sandbox", ["docker", "process"])
def test_score_writes_one_line_per_answer_in_order(tmp_path, bundled_answers, sandbox, request):
    if sandbox == "docker":
        request.getfixturevalue("docker_sandbox")  # skips or fails exactly like the other Docker tests
    out = tmp_path / "scored.jsonl"
    proc = run("score", "--tasks", "bundled", "--split", "backend", "--answers", bundled_answers,
               "--out", out, "--sandbox", sandbox)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    inputs = [json.loads(l) for l in bundled_answers.read_text().splitlines()]
    assert [r["task_id"] for r in rows] == [i["task_id"] for i in inputs]
    assert [r["model"] for r in rows] == [i["model"] for i in inputs]  # other fields carried
    assert [r["score"] for r in rows[:-1]] == [1.0] * 6 and all(r["success"] for r in rows[:-1])
    assert rows[-1]["score"] == 0.0 and rows[-1]["success"] is False
    assert {t["status"] for t in rows[-1]["tests"]} == {"error"}
    assert {r["hash_seed"] for r in rows} == {HASH_SEED}  # set order is part of the result
    assert "mean score" in proc.stdout and f"hash seed {HASH_SEED}" in proc.stdout


def test_malformed_task_line(tmp_path, bundled_answers):
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"problem_description": "p", "ground_truth": "def f(): pass", "test_cases": {"t": "f()"}}\n{oops\n')
    out = tmp_path / "out.jsonl"
    proc = run("score", "--tasks", tasks, "--answers", bundled_answers, "--out", out)
    assert_one_sentence_error(proc, "line 2: not valid JSON")
    assert not out.exists()


def test_missing_field_in_answers(tmp_path):
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"task_id": "dev-001"}) + "\n")
    out = tmp_path / "out.jsonl"
    proc = run("score", "--tasks", "bundled", "--split", "backend", "--answers", answers, "--out", out)
    assert_one_sentence_error(proc, "line 1: missing field 'answer'")
    assert not out.exists()


def test_unknown_task_id_in_answers(tmp_path):
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"task_id": "dev-001", "answer": "x"}) + "\n"
                       + json.dumps({"task_id": "no-such-task", "answer": "x"}) + "\n")
    out = tmp_path / "out.jsonl"
    proc = run("score", "--tasks", "bundled", "--split", "backend", "--answers", answers, "--out", out)
    assert_one_sentence_error(proc, "line 2: task_id 'no-such-task' is not in")
    assert not out.exists()


def test_docker_not_running(tmp_path, bundled_answers):
    out = tmp_path / "out.jsonl"
    proc = run("score", "--tasks", "bundled", "--split", "backend", "--answers", bundled_answers, "--out", out,
               env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    assert_one_sentence_error(proc, "the Docker engine is not reachable")
    assert "--sandbox process" in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("args,pattern", [
    (["score", "--tasks", "bundled"], "the following arguments are required"),
    (["score", "--tasks", "bundled", "--answers", "a", "--out", "o", "--timeout", "-1"], "expected a positive number"),
    (["score", "--tasks", "bundled", "--answers", "a", "--out", "o", "--sandbox", "vm"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
    (["score", "--tasks", "nowhere.jsonl", "--answers", "a", "--out", "o"], "task file nowhere.jsonl does not exist"),
])
def test_bad_flags_and_paths(args, pattern):
    assert_one_sentence_error(run(*args), pattern)


def test_tasks_list_and_show():
    proc = run("tasks", "list", "--tasks", "bundled", "--split", "backend")
    assert proc.returncode == 0 and "dev-001" in proc.stdout
    proc = run("tasks", "show", "dev-001")
    assert proc.returncode == 0 and json.loads(proc.stdout)["task_id"] == "dev-001"
    assert_one_sentence_error(run("tasks", "show", "nope"), "no task 'nope'")


def test_sandbox_status(docker_sandbox):
    proc = run("sandbox", "status")
    assert proc.returncode == 0, proc.stderr
    assert "reachable" in proc.stdout and "colbench-sandbox:" in proc.stdout


def test_a_lone_surrogate_in_an_answer_does_not_abort_score(tmp_path):
    task = load_tasks("bundled", "backend").tasks[0]
    odd = "x\udcffy é"
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"task_id": task.task_id, "answer": task.ground_truth + f"\n# {odd}\n",
                                   "note": odd}) + "\n"
                       + json.dumps({"task_id": task.task_id, "answer": task.ground_truth, odd: [odd]}) + "\n")
    out = tmp_path / "scored.jsonl"
    proc = run("score", "--tasks", "bundled", "--split", "backend", "--answers", answers, "--out", out,
               "--sandbox", "process")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    # Python cannot compile source holding a lone surrogate: that answer fails, and is written exactly.
    assert rows[0]["note"] == odd and rows[0]["answer"].endswith(f"# {odd}\n") and rows[0]["score"] == 0.0
    assert rows[1][odd] == [odd] and rows[1]["success"] is True  # the scoring of other lines kept
    assert "é".encode() in out.read_bytes() and b"\\udcff" in out.read_bytes()
