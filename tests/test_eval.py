"""`colbench eval` end to end against a local OpenAI-compatible server (tests/fake_openai.py).

The agent and the simulated human are real OpenAI-protocol clients talking HTTP to the fake
server; answers are scored in a real sandbox (the process backend, for speed; one test
uses Docker).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fake_openai import FakeOpenAI, Fault

COLBENCH = [sys.executable, "-m", "colbench.cli"]
HUMAN_REPLY = "y" * 600


def run(*args, timeout=300, **kw):
    return subprocess.run(COLBENCH + [str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kw)


def write_tasks(path: Path, tasks: dict[str, tuple[str, list[str]]]) -> Path:
    with path.open("w") as f:
        for task_id, (ref, calls) in tasks.items():
            f.write(json.dumps({"task_id": task_id, "problem_description": f"Task {task_id}: write f.",
                                "ground_truth": ref, "test_cases": {f"t{i}": c for i, c in enumerate(calls)}}) + "\n")
    return path


def write_agent_toml(path: Path, base_url: str, model: str, **model_settings) -> Path:
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in model_settings.items())
    path.write_text(f'name = "{model}"\n[model]\nkind = "openai"\nname = "{model}"\nbase_url = "{base_url}"\n{extra}')
    return path


def by_task(replies: dict[str, list]):
    """A script serving each task's agent replies in dialogue order, and HUMAN_REPLY to the human."""

    def script(req: dict):
        if req["model"] == "human":
            return HUMAN_REPLY
        request = req["messages"][1]["content"]
        task_id = request.split(":")[0].removeprefix("Task ")
        turn = sum(m["role"] == "assistant" for m in req["messages"])
        return replies[task_id][min(turn, len(replies[task_id]) - 1)]

    return script


def episodes(out: Path) -> list[dict]:
    return [json.loads(l) for l in (out / "episodes.jsonl").read_text().splitlines() if l.strip()]


IDENTITY = ("def f(x):\n    return x\n", ["f(1)", "f(2)"])
PLUS_ONE = ("def f(x):\n    return x + 1\n", ["f(1)", "f(2)"])
DOUBLE = ("def f(x):\n    return 2 * x\n", ["f(1)", "f(3)"])


def test_protocol_edge_cases_over_http(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"twice": IDENTITY, "first": PLUS_ONE, "never": IDENTITY,
                                                   "prose": DOUBLE})
    replies = {
        "twice": ["thinking OUTPUT: Which input? OUTPUT: ignored", "I WANT TO ANSWER: def f(x):\n    return x\n"],
        "first": ["I WANT TO ANSWER:\ndef f(x):\n    return x + 1\n"],
        "never": [f"Question {i}?" for i in range(1, 12)],
        "prose": ["Sure. I WANT TO ANSWER: Here it is:\n```python\ndef f(x):\n    return 2 * x\n```\nEnjoy!"],
    }
    with FakeOpenAI(by_task(replies)) as server:
        out = tmp_path / "run"
        proc = run("eval", "--protocol", "colbench", "--agent", "openai:agent", "--human", "openai:human", "--split", "backend",
                   "--tasks", tasks, "--out", out, "--sandbox", "process",
                   "--agent-base-url", server.base_url, "--human-base-url", server.base_url)
        sent = [r for r in server.requests if r["model"] == "agent"]
    assert proc.returncode == 0, proc.stderr
    eps = {e["task_id"]: e for e in episodes(out)}
    assert set(eps) == {"twice", "first", "never", "prose"} and all(e["status"] == "ok" for e in eps.values())

    twice = eps["twice"]["turns"]
    usage = {k: twice[0].pop(k) for k in ("usage",) if k in twice[0]}  # what the message cost (accounting)
    assert twice[0] == {"role": "agent", "content": " Which input? ", "raw": replies["twice"][0]}
    assert usage and usage["usage"]["calls"] == 1
    twice[1].pop("usage", None)
    assert twice[1] == {"role": "human", "content": HUMAN_REPLY[:400]}  # 600 characters cut to 400
    assert eps["twice"]["success"]

    assert [t["role"] for t in eps["first"]["turns"]] == ["agent"]  # answered on turn 1: no human turn
    assert eps["first"]["success"] and eps["first"]["answered"]

    never = eps["never"]["turns"]
    assert [t["role"] for t in never] == ["agent", "human"] * 9 + ["agent"]  # the 10th message ends it
    assert [t["content"] for t in never if t["role"] == "agent"] == replies["never"][:10]
    assert not eps["never"]["answered"] and eps["never"]["score"] == 0.0

    assert eps["prose"]["answer"] == "def f(x):\n    return 2 * x"  # fenced code inside prose
    assert eps["prose"]["success"]

    # What the agent was sent: the system prompt, the request, then the dialogue as recorded.
    later = [r for r in sent if "Task twice" in r["messages"][1]["content"] and len(r["messages"]) == 4]
    assert later[0]["messages"][2] == {"role": "assistant", "content": " Which input? "}
    assert later[0]["messages"][3] == {"role": "user", "content": HUMAN_REPLY[:400]}

    summary = json.loads((out / "summary.json").read_text())
    assert summary["episodes"] == 4 and summary["errors"] == 0
    assert summary["success"]["mean"] == 0.75 and len(summary["success"]["ci95"]) == 2
    assert "0.750 [" in (out / "report.html").read_text()  # every run carries its report
    config = json.loads((out / "run.json").read_text())
    assert config["agent"] == "openai:agent" and len(config["tasks_sha256"]) == 64
    assert config["hash_seed"] == 0  # every answer and reference hashed with it


def test_transient_failures_are_retried_and_persistent_ones_recorded_as_errors(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"flaky": PLUS_ONE, "broken": PLUS_ONE, "slow": PLUS_ONE})
    answer = "I WANT TO ANSWER: def f(x):\n    return x + 1\n"
    flaky_faults = [Fault.status(429, retry_after=0.1), Fault.status(500), Fault.drop(), Fault.garbage()]
    counts = {"flaky": 0, "broken": 0, "slow": 0}

    def script(req):
        task_id = req["messages"][1]["content"].split(":")[0].removeprefix("Task ")
        counts[task_id] += 1
        if task_id == "broken":
            return Fault.status(503)
        if task_id == "slow" and counts[task_id] == 1:
            return Fault.delay(5.0, then=answer)  # longer than the client's timeout
        if task_id == "flaky" and counts[task_id] <= len(flaky_faults):
            return flaky_faults[counts[task_id] - 1]
        return answer

    with FakeOpenAI(script) as server:
        agent = write_agent_toml(tmp_path / "agent.toml", server.base_url, "agent", timeout=1.0,
                                 max_retries=4, backoff_s=0.05)
        out = tmp_path / "run"
        start = time.monotonic()
        proc = run("eval", "--protocol", "colbench", "--agent", agent, "--human", "offline", "--split", "backend", "--tasks", tasks,
                   "--out", out, "--sandbox", "process")
        elapsed = time.monotonic() - start
    assert proc.returncode == 1, proc.stderr  # an episode stays in error: eval says so and fails
    assert "1 of 3 episodes ended in an error" in proc.stderr
    eps = {e["task_id"]: e for e in episodes(out)}
    assert eps["flaky"]["status"] == "ok" and eps["flaky"]["success"]
    assert eps["slow"]["status"] == "ok" and eps["slow"]["success"]
    assert eps["broken"]["status"] == "error" and "503" in eps["broken"]["error"]
    assert eps["broken"]["score"] is None  # never scored as a model failure
    assert counts["broken"] == 5  # 1 try + 4 retries: bounded
    assert elapsed < 60
    summary = json.loads((out / "summary.json").read_text())
    assert summary["errors"] == 1 and summary["ok"] == 2


def test_sigkill_mid_run_then_resume_keeps_each_finished_episode_once(tmp_path):
    ids = [f"k{i:02d}" for i in range(12)]
    tasks = write_tasks(tmp_path / "tasks.jsonl", {i: PLUS_ONE for i in ids})
    answer = "I WANT TO ANSWER: def f(x):\n    return x + 1\n"
    with FakeOpenAI(lambda req: answer, latency=lambda req: 0.4) as server:
        out = tmp_path / "run"
        args = ["eval", "--protocol", "colbench", "--agent", "openai:agent", "--human", "offline", "--split", "backend", "--tasks", tasks,
                "--out", out, "--sandbox", "process", "--concurrency", "2", "--agent-base-url", server.base_url]
        proc = subprocess.Popen(COLBENCH + [str(a) for a in args], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            path = out / "episodes.jsonl"
            if path.exists() and len(path.read_text().splitlines()) >= 4:
                break
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        before = {e["task_id"] for e in episodes(out)}
        assert 4 <= len(before) < len(ids)
        n_requests = len(server.requests)
        resumed = run("eval", "--protocol", "colbench", "--agent", "openai:agent", "--human", "offline", "--split", "backend", "--tasks",
                      tasks, "--out", out, "--sandbox", "process", "--concurrency", "2",
                      "--agent-base-url", server.base_url, "--resume")
        asked_after = {r["messages"][1]["content"].split(":")[0].removeprefix("Task ")
                       for r in server.requests[n_requests:]}
    assert resumed.returncode == 0, resumed.stderr
    final = episodes(out)
    keys = [e["task_id"] for e in final]
    assert sorted(keys) == sorted(ids)  # every episode exactly once
    assert not (asked_after & before)  # finished episodes were not run again
    assert all(e["success"] for e in final)


def test_resume_reruns_episodes_that_ended_in_an_infrastructure_error(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"a": PLUS_ONE, "b": PLUS_ONE})
    answer = "I WANT TO ANSWER: def f(x):\n    return x + 1\n"
    down = {"b": True}

    def script(req):
        task_id = req["messages"][1]["content"].split(":")[0].removeprefix("Task ")
        return Fault.status(500) if down.get(task_id) else answer

    with FakeOpenAI(script) as server:
        agent = write_agent_toml(tmp_path / "agent.toml", server.base_url, "agent", max_retries=1, backoff_s=0.01)
        out = tmp_path / "run"
        common = ["eval", "--protocol", "colbench", "--agent", agent, "--human", "offline", "--split", "backend", "--tasks", tasks,
                  "--out", out, "--sandbox", "process"]
        assert run(*common).returncode == 1  # "b" stays in error
        assert {e["task_id"]: e["status"] for e in episodes(out)} == {"a": "ok", "b": "error"}
        down["b"] = False
        assert run(*common, "--resume").returncode == 0
    lines = episodes(out)
    assert [(e["task_id"], e["status"]) for e in lines] == [("a", "ok"), ("b", "error"), ("b", "ok")]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["episodes"] == 2 and summary["errors"] == 0 and summary["success"]["mean"] == 1.0


def test_samples_and_seeds(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"a": PLUS_ONE, "b": PLUS_ONE})
    with FakeOpenAI(lambda req: "I WANT TO ANSWER: def f(x):\n    return x + 1\n") as server:
        out = tmp_path / "run"
        proc = run("eval", "--protocol", "colbench", "--agent", "openai:agent", "--human", "offline", "--split", "backend", "--tasks", tasks,
                   "--out", out, "--sandbox", "process", "--samples", "3", "--seed", "7",
                   "--agent-base-url", server.base_url)
        seeds_sent = [r.get("seed") for r in server.requests]
    assert proc.returncode == 0, proc.stderr
    eps = episodes(out)
    assert sorted((e["task_id"], e["sample"]) for e in eps) == [(t, s) for t in "ab" for s in range(3)]
    assert len({e["seed"] for e in eps}) == 6  # one seed per (task, sample), derived from the run seed
    assert sorted(seeds_sent) == sorted(e["seed"] for e in eps)


def test_reference_agent_in_the_docker_sandbox(tmp_path, docker_sandbox):
    out = tmp_path / "run"
    proc = run("eval", "--protocol", "colbench", "--agent", "reference", "--human", "offline", "--split", "backend", "--limit", "5",
               "--out", out)
    assert proc.returncode == 0, proc.stderr
    eps = episodes(out)
    assert len(eps) == 5 and all(e["success"] for e in eps)
    assert "1.000" in proc.stdout


def test_entry_point_adapter_runs(tmp_path):
    out = tmp_path / "run"
    proc = run("eval", "--protocol", "colbench", "--agent", "ask-once-example", "--human", "offline", "--split", "backend", "--limit", "3",
               "--out", out, "--sandbox", "process")
    assert proc.returncode == 0, proc.stderr
    eps = episodes(out)
    assert all([t["role"] for t in e["turns"]] == ["agent", "human", "agent"] for e in eps)
    assert all(e["status"] == "ok" and e["score"] == 0.0 for e in eps)


def assert_one_sentence_error(proc, pattern: str):
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
    assert len(lines) == 1 and pattern in lines[0], proc.stderr


def test_bad_input_is_one_sentence(tmp_path):
    assert_one_sentence_error(run("eval", "--protocol", "colbench", "--agent", "no-such-agent", "--split", "backend", "--human", "offline"),
                              "unknown agent 'no-such-agent'")
    assert_one_sentence_error(
        run("eval", "--protocol", "colbench", "--agent", "openai:m", "--split", "backend", "--human", "offline", "--out", tmp_path / "r1",
            "--agent-base-url", "http://127.0.0.1:9/v1"),
        "cannot reach an OpenAI-compatible endpoint at http://127.0.0.1:9/v1")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[model\nkind = "openai"\n')
    assert_one_sentence_error(run("eval", "--protocol", "colbench", "--agent", bad, "--split", "backend", "--human", "offline"),
                              "is not valid TOML")
    assert_one_sentence_error(run("eval", "--protocol", "colbench", "--agent", "reference", "--split", "backend", "--human", "offline",
                                  "--resume"), "--resume needs --out")


def test_an_existing_run_is_not_overwritten_and_resume_checks_the_config(tmp_path):
    out = tmp_path / "run"
    common = ["eval", "--protocol", "colbench", "--human", "offline", "--split", "backend", "--limit", "2", "--out", out, "--sandbox", "process"]
    assert run(*common, "--agent", "reference").returncode == 0
    assert_one_sentence_error(run(*common, "--agent", "reference"), "already holds a run")
    assert_one_sentence_error(run(*common, "--agent", "naive", "--resume"), "cannot resume")
    assert len(episodes(out)) == 2


def test_export_sweet_rl_format(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"a": PLUS_ONE, "b": DOUBLE})
    replies = {"a": ["Which number? OUTPUT: Add what?", "I WANT TO ANSWER: def f(x):\n    return x + 1\n"],
               "b": ["I WANT TO ANSWER: def f(x):\n    return x\n"]}
    with FakeOpenAI(by_task(replies)) as server:
        out = tmp_path / "run"
        assert run("eval", "--protocol", "colbench", "--agent", "openai:agent", "--human", "openai:human", "--split", "backend", "--tasks",
                   tasks, "--out", out, "--sandbox", "process", "--samples", "2",
                   "--agent-base-url", server.base_url, "--human-base-url", server.base_url).returncode == 0
    exported = tmp_path / "traj.jsonl"
    proc = run("export", out, "--format", "sweet_rl", "--out", exported)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(l) for l in exported.read_text().splitlines()]
    # Sample-major order, as the original's tasks * best_of_n.
    assert [l["task"]["task_id"] for l in lines] == ["a", "b", "a", "b"]
    a = lines[0]
    assert a["reward"] == 1.0 and lines[1]["reward"] == 0.0
    roles = [m["role"] for m in a["dialogue_history"]]
    assert roles == ["user", "assistant", "user", "assistant"]
    first = a["dialogue_history"][1]
    assert first["content"] == " Add what?" and first["output"] == replies["a"][0]
    assert "Task a: write f." in first["input"]
    assert a["task"]["test_cases"] and a["answer"].startswith("def f(x)")


def test_scripted_agent_and_the_llm_humans_prompt(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"a": PLUS_ONE})
    script = tmp_path / "script.jsonl"
    script.write_text(json.dumps({"task_id": "a", "messages": ["What do you add?",
                                                               "I WANT TO ANSWER: def f(x):\n    return x + 1"]}) + "\n")
    with FakeOpenAI(lambda req: "One, always.") as server:
        out = tmp_path / "run"
        proc = run("eval", "--protocol", "colbench", "--agent", f"scripted:{script}", "--human", "openai:human", "--split", "backend",
                   "--tasks", tasks, "--out", out, "--sandbox", "process", "--human-base-url", server.base_url)
        human_requests = list(server.requests)
    assert proc.returncode == 0, proc.stderr
    [ep] = episodes(out)
    assert [t["content"] for t in ep["turns"]] == ["What do you add?", "One, always.",
                                                   "I WANT TO ANSWER: def f(x):\n    return x + 1"]
    assert ep["success"]
    [req] = human_requests
    system, user = req["messages"]
    assert PLUS_ONE[0].strip() in system["content"]  # the human sees the hidden information
    assert "never write or paste code" in system["content"]
    assert "What do you add?" in user["content"]  # and the dialogue so far


def test_a_lone_surrogate_in_a_model_reply_does_not_abort_eval_or_resume(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"a": PLUS_ONE, "b": DOUBLE})
    odd = "Shall I add \udcff one? é"
    script = tmp_path / "script.jsonl"
    script.write_text(json.dumps({"task_id": "a", "messages": [odd, "I WANT TO ANSWER: def f(x):\n    return x + 1"]})
                      + "\n" + json.dumps({"task_id": "b", "messages": [f"I WANT TO ANSWER: # {odd}\ndef f(x):\n"
                                                                        "    return 2 * x"]}) + "\n")
    out = tmp_path / "run"
    common = ["eval", "--protocol", "colbench", "--agent", f"scripted:{script}", "--human", "offline", "--split", "backend", "--tasks", tasks,
              "--out", out, "--sandbox", "process"]
    proc = run(*common)
    assert proc.returncode == 0, proc.stderr
    eps = {e["task_id"]: e for e in episodes(out)}
    assert eps["a"]["turns"][0]["content"] == odd and eps["a"]["success"]
    assert odd in eps["b"]["answer"] and eps["b"]["score"] == 0.0  # Python cannot compile a lone surrogate
    assert "\\udcff" in (out / "report.html").read_text(encoding="utf-8")
    resumed = run(*common, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert len(episodes(out)) == 2
    exported = tmp_path / "traj.jsonl"
    assert run("export", out, "--format", "sweet_rl", "--out", exported).returncode == 0
    assert json.loads(exported.read_text(encoding="utf-8").splitlines()[0])["dialogue_history"][1]["content"] == odd


def test_a_task_id_with_a_lone_surrogate_gets_a_seed_like_any_other():
    from colbench.runner import episode_seed

    assert episode_seed(0, "a\udcffb", 1) != episode_seed(0, "a\udcfeb", 1)
    assert episode_seed(3, "task-1", 0) == episode_seed(3, "task-1", 0)
