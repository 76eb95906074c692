"""Accounting: the tokens, seconds and cost of every model call, per turn, per episode and per run.

The agent and the human are real OpenAI-protocol clients talking HTTP to tests/fake_openai.py,
which reports a deterministic `usage` with each completion and logs what it reported
(`server.usage`); a local transformers model (hf:) counts tokens with its own tokenizer.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Fault
from helpers import tiny_causal_lm

from colbench.agents import resolve_agent
from colbench.humans.registry import resolve_human
from colbench.runner import EvalConfig, run_eval
from colbench.tasks import load_tasks

PLUS_ONE = ("def f(x):\n    return x + 1\n", ["f(1)", "f(2)"])
ANSWER = "I WANT TO ANSWER: def f(x):\n    return x + 1\n"
KEYS = ("calls", "prompt_tokens", "completion_tokens")


def write_tasks(path: Path, ids: list[str]) -> Path:
    ref, calls = PLUS_ONE
    path.write_text("".join(json.dumps({"task_id": i, "problem_description": f"Task {i}: write f.", "ground_truth": ref,
                                        "test_cases": {f"t{n}": c for n, c in enumerate(calls)}}) + "\n" for i in ids))
    return path


def task_of(request: dict) -> str:
    return request["messages"][1]["content"].split(":")[0].removeprefix("Task ")


def evaluate_in_process(tmp_path: Path, tasks: Path, server: FakeOpenAI, *, human: str = "openai:human",
                        pricing: dict[str, dict] | None = None, concurrency: int = 1,
                        **agent_settings) -> tuple[dict, list[dict]]:
    """Runs an eval in this process (so that the clients can be given a pricing); returns the
    summary and the episode records."""
    cfg = EvalConfig(agent="openai:agent", human=human, split="backend", tasks=str(tasks), out=str(tmp_path / "run"),
                     sandbox="process", protocol="colbench", concurrency=concurrency)

    async def main() -> dict:
        agent = resolve_agent(cfg.agent, base_url=server.base_url)
        player = resolve_human(cfg.human, "backend", base_url=server.base_url)
        for who, role in ((agent, "agent"), (player, "human")):
            client = getattr(who, "client", None)
            if client is not None and pricing and role in pricing:
                client.pricing = pricing[role]
        for key, value in agent_settings.items():
            setattr(agent.client, key, value)
        try:
            return await run_eval(cfg, load_tasks(cfg.tasks, cfg.split), agent, player)
        finally:
            await agent.client.aclose()
            await player.aclose()

    summary = asyncio.run(main())
    records = [json.loads(line) for line in (tmp_path / "run" / "episodes.jsonl").read_text().splitlines()]
    return summary, records


def test_usage_per_turn_episode_and_run_is_what_the_server_reported_and_costs_what_the_pricing_says(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", ["a", "b"])
    agent_replies = {"a": ["Which input?", ANSWER], "b": ["What about zero?", "And negatives, " * 8, ANSWER]}

    def script(req: dict) -> str:
        if req["model"] == "human":
            return "It adds one. " * (1 + req["_index"] % 3)  # replies of several lengths
        turn = sum(m["role"] == "assistant" for m in req["messages"])
        return agent_replies[task_of(req)][turn]

    pricing = {"agent": {"prompt_per_million": 3.0, "completion_per_million": 15.0},
               "human": {"prompt_per_million": 0.5, "completion_per_million": 1.5}}
    with FakeOpenAI(script, latency=lambda req: 0.05) as server:
        # One episode at a time: the turns, in the order written, are the requests in the order received.
        summary, records = evaluate_in_process(tmp_path, tasks, server, pricing=pricing)
        reported = server.usage
        roles = [r["model"] for r in server.requests]
    assert [r["status"] for r in records] == ["ok", "ok"]

    turns = [t for r in records for t in r["turns"]]
    assert [t["role"] for t in turns] == roles  # one request per turn, no retries
    assert len(turns) == 8
    for i, turn in enumerate(turns):
        usage = turn["usage"]
        assert usage["calls"] == 1
        assert usage["prompt_tokens"] == reported[i]["prompt_tokens"]
        assert usage["completion_tokens"] == reported[i]["completion_tokens"]
        assert 0.05 <= usage["seconds"] < 5  # the call's wall time, the server's latency included
        price = pricing[turn["role"]]
        assert usage["cost"] == pytest.approx((usage["prompt_tokens"] * price["prompt_per_million"]
                                               + usage["completion_tokens"] * price["completion_per_million"]) / 1e6)

    for record in records:  # an episode's totals are the sum of its turns, per role
        assert set(record["usage"]) == {"agent", "human"}
        for role, total in record["usage"].items():
            mine = [t["usage"] for t in record["turns"] if t["role"] == role]
            assert {k: total[k] for k in KEYS} == {k: sum(u[k] for u in mine) for k in KEYS}
            assert total["seconds"] == pytest.approx(sum(u["seconds"] for u in mine), abs=1e-3)
            assert total["cost"] == pytest.approx(sum(u["cost"] for u in mine))

    written = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert written["usage"] == summary["usage"]
    for role in ("agent", "human"):  # the run's totals are the sum of its episodes
        total = summary["usage"][role]
        episodes = [r["usage"][role] for r in records]
        assert {k: total[k] for k in KEYS} == {k: sum(u[k] for u in episodes) for k in KEYS}
        assert total["seconds"] == pytest.approx(sum(u["seconds"] for u in episodes), abs=1e-3)
        assert total["cost"] == pytest.approx(sum(u["cost"] for u in episodes))
    assert summary["usage"]["agent"]["calls"] == 5 and summary["usage"]["human"]["calls"] == 3
    assert summary["usage"]["agent"]["prompt_tokens"] == sum(reported[i]["prompt_tokens"]
                                                             for i, role in enumerate(roles) if role == "agent")


def test_a_retried_request_counts_every_call_and_a_failed_one_is_counted_too(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", ["flaky", "down"])
    seen = {"flaky": 0}

    def script(req: dict):
        if task_of(req) == "down":
            return Fault.status(503)
        seen["flaky"] += 1
        return [Fault.status(429), Fault.status(500)][seen["flaky"] - 1] if seen["flaky"] <= 2 else ANSWER

    with FakeOpenAI(script) as server:
        summary, records = evaluate_in_process(tmp_path, tasks, server, human="offline", max_retries=3, backoff_s=0.01,
                                               pricing={"agent": {"prompt_per_million": 1.0,
                                                                  "completion_per_million": 2.0}})
        reported = server.usage
    flaky, down = records
    assert flaky["status"] == "ok"
    [turn] = flaky["turns"]
    [answered] = reported.values()  # only the third request of "flaky" was answered
    assert turn["usage"]["calls"] == 3  # two failed attempts and the one that answered
    assert turn["usage"]["prompt_tokens"] == answered["prompt_tokens"]
    assert turn["usage"]["completion_tokens"] == answered["completion_tokens"]
    assert turn["usage"]["cost"] == pytest.approx((answered["prompt_tokens"] + 2 * answered["completion_tokens"]) / 1e6)
    assert flaky["usage"] == {"agent": turn["usage"]}  # the offline human made no model call

    assert down["status"] == "error" and down["turns"] == []
    assert down["usage"]["agent"]["calls"] == 4  # 1 try + 3 retries, no tokens reported
    assert "prompt_tokens" not in down["usage"]["agent"] and "cost" not in down["usage"]["agent"]
    assert summary["usage"] == {"agent": {"calls": 7, "prompt_tokens": answered["prompt_tokens"],
                                          "completion_tokens": answered["completion_tokens"],
                                          "seconds": pytest.approx(flaky["usage"]["agent"]["seconds"]
                                                                   + down["usage"]["agent"]["seconds"], abs=1e-3),
                                          "cost": pytest.approx(turn["usage"]["cost"])}}


def test_max_episode_tokens_ends_an_over_budget_episode_as_an_error_naming_the_limit(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", ["long", "short"])

    def script(req: dict) -> str:
        return ANSWER if task_of(req) == "short" else "Could you say more about the input? " * 4

    limit = 400
    with FakeOpenAI(script, latency=lambda req: 0.05) as server:
        out = tmp_path / "run"
        common = [sys.executable, "-m", "colbench.cli", "eval", "--protocol", "colbench", "--agent", "openai:agent",
                  "--human", "offline", "--split", "backend", "--tasks", str(tasks), "--out", str(out),
                  "--sandbox", "process", "--agent-base-url", server.base_url, "--concurrency", "2"]
        proc = subprocess.run(common + ["--max-episode-tokens", str(limit)], capture_output=True, text=True,
                              timeout=300)
        requests, reported = server.requests, server.usage
        assert "Traceback" not in proc.stderr, proc.stderr
        records = {r["task_id"]: r for r in map(json.loads, (out / "episodes.jsonl").read_text().splitlines())}

        # Two episodes at once: each turn still has exactly the usage of its own request.
        for task_id, record in records.items():
            for n, turn in enumerate(t for t in record["turns"] if t["role"] == "agent"):
                [index] = [r["_index"] for r in requests if task_of(r) == task_id
                           and sum(m["role"] == "assistant" for m in r["messages"]) == n]
                assert turn["usage"]["prompt_tokens"] == reported[index]["prompt_tokens"]
                assert turn["usage"]["completion_tokens"] == reported[index]["completion_tokens"]

        long, short = records["long"], records["short"]
        assert short["status"] == "ok" and short["success"]
        assert long["status"] == "error" and long["score"] is None
        assert f"limit of {limit} (--max-episode-tokens)" in long["error"]
        used = [t["usage"]["prompt_tokens"] + t["usage"]["completion_tokens"] for t in long["turns"]
                if t["role"] == "agent"]
        assert len(used) >= 2 and sum(used) > limit >= sum(used[:-1])  # ended after the call that went over
        assert str(sum(used)) in long["error"]
        assert long["usage"]["agent"]["prompt_tokens"] + long["usage"]["agent"]["completion_tokens"] == sum(used)

        # The result table says what the run used.
        summary = json.loads((out / "summary.json").read_text())
        agent = summary["usage"]["agent"]
        tokens = agent["prompt_tokens"] + agent["completion_tokens"]
        assert f"model usage: agent {agent['calls']} calls, {tokens:,} tokens" in proc.stdout, proc.stdout
        assert "human" not in summary["usage"]  # the offline human made no model call

        # --resume runs the over-budget episode again (here without a limit: it talks for 10 turns).
        again = subprocess.run(common + ["--resume"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    lines = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert [(r["task_id"], r["status"]) for r in lines][-1] == ("long", "ok")
    assert sum(t["role"] == "agent" for t in lines[-1]["turns"]) == 10


def test_a_local_model_counts_tokens_with_its_tokenizer(tmp_path):
    import torch

    from colbench.llm.base import metering
    from colbench.llm.hf import HFChat, render_prompt

    path = tiny_causal_lm(tmp_path / "tiny", eos_bias=2.0)  # some replies end (at the end of sequence) early
    max_tokens = 12
    client = HFChat(str(path), max_tokens=max_tokens, max_batch=8)
    prices = {"prompt_per_million": 2.0, "completion_per_million": 4.0}
    client.pricing = prices
    conversations = [[{"role": "user", "content": text}] for text in
                     ("hi", "Please round to two decimals and sort the list.", "What should happen for empty input?",
                      "def f(x)", "hello world question answer code")]

    async def one(conversation):
        with metering() as meter:  # each request in its own task, as each episode is
            text = await client.chat(conversation)
        return text, meter.usage

    async def together():
        return await asyncio.gather(*(asyncio.create_task(one(c)) for c in conversations))

    replies = asyncio.run(together())
    assert client.batch_sizes == [5]  # generated together: left-padded to the longest prompt

    model, tokenizer = client._model, client._tokenizer
    for conversation, (text, usage) in zip(conversations, replies):
        prompt, special = render_prompt(tokenizer, conversation)
        ids = tokenizer(prompt, add_special_tokens=special, return_tensors="pt")
        with torch.no_grad():  # the same request generated alone: no padding, it stops at its end of sequence
            alone = model.generate(**ids, max_new_tokens=max_tokens, do_sample=False,
                                   pad_token_id=tokenizer.pad_token_id)
        generated = alone.shape[1] - ids["input_ids"].shape[1]
        assert tokenizer.decode(alone[0, ids["input_ids"].shape[1]:], skip_special_tokens=True) == text
        assert usage["calls"] == 1 and usage["seconds"] > 0
        assert usage["prompt_tokens"] == ids["input_ids"].shape[1]
        assert usage["completion_tokens"] == generated
        assert usage["cost"] == pytest.approx((2.0 * usage["prompt_tokens"] + 4.0 * generated) / 1e6)
    completions = [u["completion_tokens"] for _, u in replies]
    prompts = [u["prompt_tokens"] for _, u in replies]
    assert min(completions) < max(completions) and len(set(prompts)) > 1  # padding on both sides was not counted
