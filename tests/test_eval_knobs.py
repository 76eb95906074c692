"""Everyday knobs of `colbench eval` (top-p, task ids, episode time limit, retries), checked
model definitions, and where each role is served (errors name the role and its URL; one
--base-url serves both roles). Models are real OpenAI-protocol clients talking HTTP to the
fake server of tests/fake_openai.py; answers are scored in the process sandbox."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from fake_openai import FakeOpenAI, Fault
from test_eval import PLUS_ONE, assert_one_sentence_error, episodes, run, write_agent_toml, write_tasks

ANSWER = "I WANT TO ANSWER: def f(x):\n    return x + 1\n"


def task_of(req: dict) -> str:
    return req["messages"][1]["content"].split(":")[0].removeprefix("Task ")


def ask_then_answer(req: dict) -> str:
    """The agent asks once, then answers; the human always says the same."""
    if req["model"] == "human":
        return "Add one."
    return "What should f do?" if len(req["messages"]) == 2 else ANSWER


def dead_url() -> str:
    """A base URL where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def eval_args(tasks: Path, out: Path, *more) -> list:
    return ["eval", "--protocol", "colbench", "--split", "backend", "--tasks", tasks, "--out", out,
            "--sandbox", "process", *more]


def stderr_lines(proc) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


def test_top_p_of_each_role_reaches_its_requests(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"a": PLUS_ONE})
    with FakeOpenAI(ask_then_answer) as server:
        proc = run(*eval_args(tasks, tmp_path / "run", "--agent", "openai:agent", "--human", "openai:human",
                              "--agent-base-url", server.base_url, "--human-base-url", server.base_url,
                              "--agent-top-p", "0.3", "--human-top-p", "0.7"))
        sent = server.requests
    assert proc.returncode == 0, proc.stderr
    by_model = {m: [r.get("top_p") for r in sent if r["model"] == m] for m in ("agent", "human")}
    assert by_model == {"agent": [0.3, 0.3], "human": [0.7]}
    config = json.loads((tmp_path / "run" / "run.json").read_text())
    assert config["agent_model"]["top_p"] == 0.3 and config["human_model"]["top_p"] == 0.7


def test_task_ids_run_only_those_tasks_and_an_unknown_id_is_one_sentence(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"a": PLUS_ONE, "b": PLUS_ONE, "c": PLUS_ONE, "d": PLUS_ONE})
    out = tmp_path / "run"
    common = eval_args(tasks, out, "--agent", "reference", "--human", "offline")
    proc = run(*common, "--task-ids", "d,b")
    assert proc.returncode == 0, proc.stderr
    assert [e["task_id"] for e in sorted(episodes(out), key=lambda e: e["task_id"])] == ["b", "d"]
    assert json.loads((out / "run.json").read_text())["task_ids"] == ["b", "d"]  # the file's order
    # The same tasks named another way resume the run; other tasks are another run.
    assert run(*common, "--task-ids", "b", "--task-ids", "d", "--resume").returncode == 0
    assert_one_sentence_error(run(*common, "--task-ids", "a,b", "--resume"), "cannot resume")
    assert_one_sentence_error(run(*eval_args(tasks, tmp_path / "other", "--agent", "reference", "--human", "offline",
                                             "--task-ids", "a,bb")),
                              f"task id 'bb' is not in {tasks}")
    assert not (tmp_path / "other").exists()


def test_an_episode_past_the_time_limit_is_an_error_naming_it_while_others_finish(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"fast": PLUS_ONE, "slow": PLUS_ONE})

    def script(req):
        if task_of(req) != "slow":
            return ANSWER
        asked = any(m["role"] == "assistant" for m in req["messages"])  # its second message is slow
        return Fault.delay(30.0, then=ANSWER) if asked else "Which input do you mean?"

    with FakeOpenAI(script) as server:
        out = tmp_path / "run"
        start = time.monotonic()
        proc = run(*eval_args(tasks, out, "--agent", "openai:agent", "--human", "offline",
                              "--agent-base-url", server.base_url, "--episode-timeout", "2"))
        elapsed = time.monotonic() - start
    assert "Traceback" not in proc.stderr, proc.stderr
    eps = {e["task_id"]: e for e in episodes(out)}
    assert eps["fast"]["status"] == "ok" and eps["fast"]["success"]
    assert eps["slow"]["status"] == "error" and eps["slow"]["score"] is None
    assert "--episode-timeout" in eps["slow"]["error"] and "2 s" in eps["slow"]["error"]
    # What the dialogue held when it was stopped is kept: the question, its answer, their cost.
    assert [t["role"] for t in eps["slow"]["turns"]] == ["agent", "human"]
    assert eps["slow"]["turns"][0]["usage"]["calls"] == 1 and eps["slow"]["usage"]["agent"]["calls"] >= 1
    assert elapsed < 25  # not the 30 s the slow reply takes
    assert json.loads((out / "summary.json").read_text())["errors"] == 1


@pytest.mark.parametrize("retries", [0, 2])
def test_max_retries_sets_how_often_a_failing_endpoint_is_asked(tmp_path, retries):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"a": PLUS_ONE})
    with FakeOpenAI(lambda req: Fault.status(503)) as server:
        url = server.base_url
        agent = write_agent_toml(tmp_path / "agent.toml", url, "agent", max_retries=5, backoff_s=0.01)
        out = tmp_path / "run"
        proc = run(*eval_args(tasks, out, "--agent", agent, "--human", "offline", "--max-retries", retries))
        asked = len(server.requests)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert asked == retries + 1  # not the definition's 5 retries
    [ep] = episodes(out)
    assert ep["status"] == "error" and f"failed {retries + 1} times" in ep["error"]
    assert ep["error"].startswith(f"the agent model (agent at {url}) failed")


def test_a_typo_in_a_model_definition_names_the_table_and_the_closest_key(tmp_path):
    agent = tmp_path / "agent.toml"
    agent.write_text('[model]\nkind = "openai"\nname = "m"\n[sampling]\ntemprature = 0.5\n')
    proc = run("eval", "--protocol", "colbench", "--agent", agent, "--human", "offline", "--split", "backend",
               "--out", tmp_path / "run")
    assert_one_sentence_error(proc, "[sampling] has no key 'temprature' (did you mean 'temperature'?)")
    agent.write_text('[model]\nkind = "openai"\nname = "m"\nmax_token = 64\n')
    proc = run("eval", "--protocol", "colbench", "--agent", agent, "--human", "offline", "--split", "backend",
               "--out", tmp_path / "run")
    assert_one_sentence_error(proc, "[model] of kind 'openai' has no key 'max_token' "
                                    "(did you mean 'max_tokens', a key of [sampling]?)")


def test_model_definitions_are_checked_and_the_shipped_ones_and_pricing_load(tmp_path, monkeypatch):
    from colbench.errors import ColbenchError
    from colbench.llm.hf import HFChat
    from colbench.llm.specs import agents_dir, client_from_toml

    monkeypatch.setattr(HFChat, "check_local", lambda self: None)  # no weights at test time
    shipped = sorted(agents_dir().glob("*.toml"))
    assert shipped
    for path in shipped:
        assert client_from_toml(path).name == path.stem
    priced = tmp_path / "priced.toml"
    priced.write_text('[model]\nkind = "openai"\nname = "m"\n[pricing]\nprompt_per_million = 2.5\n'
                      'completion_per_million = 10\n')
    assert getattr(client_from_toml(priced), "pricing") == {"prompt_per_million": 2.5, "completion_per_million": 10.0}
    for bad, words in [('[model]\nkind = "openai"\nname = "m"\ntimeout = "soon"\n', "[model] of kind 'openai' timeout"),
                       ('[model]\nkind = "openai"\nname = "m"\n[pricing]\nprompt_per_million = 1\n',
                        "[pricing] needs completion_per_million"),
                       ('[model]\nkind = "hf"\npath = "x"\nmax_bach = 2\n', "did you mean 'max_batch'?")]:
        priced.write_text(bad)
        with pytest.raises(ColbenchError) as err:
            client_from_toml(priced, what="human")
        assert words in str(err.value) and str(err.value).startswith(f"human definition {priced}: ")


def test_the_default_human_unreachable_is_named_with_its_url(tmp_path, monkeypatch):
    """The two-servers problem: the agent's server answers, the default human's does not."""
    url = dead_url()
    monkeypatch.setenv("COLBENCH_LLAMA70B_URL", url)
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"a": PLUS_ONE})
    with FakeOpenAI(ask_then_answer) as server:
        proc = run(*eval_args(tasks, tmp_path / "run", "--agent", "openai:agent", "--agent-base-url", server.base_url))
        assert not server.requests
    assert_one_sentence_error(proc, f"the human model (llama-3.1-70b-instruct [meta-llama/Llama-3.1-70B-Instruct] "
                                    f"at {url}) is unreachable")
    assert "--human-base-url" in proc.stderr


def test_one_base_url_serves_both_roles_and_each_role_is_printed(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {"a": PLUS_ONE})
    with FakeOpenAI(ask_then_answer) as server:
        url = server.base_url
        proc = run(*eval_args(tasks, tmp_path / "run", "--agent", "openai:agent", "--human", "openai:human",
                              "--base-url", url))
        models = [r["model"] for r in server.requests]
        # A role's own URL wins over --base-url.
        dead = dead_url()
        overridden = run(*eval_args(tasks, tmp_path / "run2", "--agent", "openai:agent", "--human", "openai:human",
                                    "--base-url", url, "--human-base-url", dead))
    assert proc.returncode == 0, proc.stderr
    assert sorted(models) == ["agent", "agent", "human"]
    assert [e["status"] for e in episodes(tmp_path / "run")] == ["ok"]
    assert f"colbench: agent: openai:agent at {url}; human: openai:human at {url}" in stderr_lines(proc)
    assert_one_sentence_error(overridden, f"the human model (openai:human at {dead}) is unreachable")
