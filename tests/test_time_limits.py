"""Time limits a user sets: per test for answers (--timeout) and for the reference solution
(--reference-timeout), and that a run cannot be resumed under other limits."""

from __future__ import annotations

import json

from test_eval import run, write_tasks

# A reference that takes about 0.6 s per call: within the default 10 s, past a 0.3 s limit.
SLOW_REFERENCE = ("import time\ndef f(x):\n    time.sleep(0.6)\n    return x + 1\n", ["f(1)"])


def _score(tmp_path, *extra):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"slow": SLOW_REFERENCE})
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"task_id": "slow", "answer": "def f(x):\n    return x + 1\n"}) + "\n")
    out = tmp_path / f"scored{len(extra)}.jsonl"
    proc = run("score", "--tasks", tasks, "--answers", answers, "--out", out, "--sandbox", "process", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def test_the_reference_time_limit_is_the_users(tmp_path, monkeypatch):
    monkeypatch.setenv("COLBENCH_CACHE_DIR", str(tmp_path / "cache"))
    cut = _score(tmp_path, "--reference-timeout", "0.3")
    assert cut["success"] is False and cut["tests"][0]["status"] == "reference_failed"
    # The reference's timeout was not cached: the default limit computes it and the answer passes.
    assert _score(tmp_path)["success"] is True


def test_a_bad_reference_time_limit_is_one_sentence(tmp_path):
    proc = run("score", "--tasks", "bundled", "--split", "backend", "--answers", tmp_path / "a.jsonl", "--out",
               tmp_path / "o.jsonl", "--reference-timeout", "inf")
    assert proc.returncode == 2 and "--reference-timeout" in proc.stderr and "Traceback" not in proc.stderr


def test_resume_refuses_other_time_limits(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"a": ("def f(x):\n    return x + 1\n", ["f(1)"])})
    common = ["eval", "--protocol", "colbench", "--agent", "reference", "--human", "offline", "--split", "backend",
              "--tasks", tasks, "--out", tmp_path / "run", "--sandbox", "process"]
    assert run(*common).returncode == 0
    for flag in ("--timeout", "--reference-timeout"):
        proc = run(*common, "--resume", flag, "2")
        assert proc.returncode != 0 and flag.strip("-").replace("-", "_") in proc.stderr, proc.stderr
    assert run(*common, "--resume").returncode == 0
