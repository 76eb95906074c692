"""Local transformers models (hf:): real generation with a tiny random model, batched."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from helpers import tiny_causal_lm

from colbench.agents import AgentContext, resolve_agent
from colbench.llm.hf import HFChat
from colbench.tasks import load_tasks


def test_concurrent_requests_share_batched_generation(tmp_path):
    path = tiny_causal_lm(tmp_path / "tiny")
    client = HFChat(str(path), max_tokens=6, max_batch=8)

    async def many():
        return await asyncio.gather(*(client.chat([{"role": "user", "content": f"question {i}"}]) for i in range(6)))

    replies = asyncio.run(many())
    assert len(replies) == 6 and all(isinstance(r, str) for r in replies)
    assert max(client.batch_sizes) > 1  # not one generate() per request
    assert sum(client.batch_sizes) == 6


def test_greedy_generation_is_deterministic(tmp_path):
    path = tiny_causal_lm(tmp_path / "tiny")
    msgs = [{"role": "user", "content": "What should happen for empty input?"}]
    a = asyncio.run(HFChat(str(path), max_tokens=8).chat(msgs))
    b = asyncio.run(HFChat(str(path), max_tokens=8).chat(msgs))
    assert a == b


def test_hf_agent_from_toml_runs_an_evaluation(tmp_path):
    path = tiny_causal_lm(tmp_path / "tiny")
    toml = tmp_path / "tiny.toml"
    toml.write_text(f'name = "tiny"\n[model]\nkind = "hf"\npath = "{path}"\nmax_batch = 4\n'
                    '[sampling]\ntemperature = 0.0\nmax_tokens = 4\n')
    agent = resolve_agent(str(toml))
    task = load_tasks("bundled", "backend").tasks[0]
    reply = asyncio.run(agent.respond([{"role": "user", "content": task.problem_description}],
                                      AgentContext(task=task, sample=0, seed=0, turn=1)))
    assert isinstance(reply, str)
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "colbench.cli", "eval", "--protocol", "colbench", "--agent", str(toml), "--human", "offline",
                           "--split", "backend", "--limit", "2", "--concurrency", "2", "--out", str(out),
                           "--sandbox", "process"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    eps = [json.loads(l) for l in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(eps) == 2 and all(e["status"] == "ok" for e in eps)
    # A random model never says I WANT TO ANSWER: it talks for the full 10 turns.
    assert all(sum(t["role"] == "agent" for t in e["turns"]) == 10 for e in eps)


def test_missing_local_model_is_one_sentence(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "colbench.cli", "eval", "--protocol", "colbench", "--agent", f"hf:{tmp_path}", "--human",
                           "offline", "--split", "backend"], capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "no config.json" in proc.stderr


def test_a_sampled_reply_depends_on_its_conversation_and_seed_not_on_its_batch_mates(tmp_path):
    """Sampling: the reply to (conversation, seed) is the same generated alone or in a batch
    with other conversations and other seeds, wherever it stands in the batch; greedy
    requests still share batched generation."""
    path = tiny_causal_lm(tmp_path / "tiny")
    convo = [{"role": "user", "content": "What should happen for empty input?"}]
    others = [[{"role": "user", "content": f"question {i}: sort the list?"}] for i in range(5)]

    def sampling() -> HFChat:
        return HFChat(str(path), temperature=1.0, max_tokens=12, max_batch=8)

    def alone(seed: int) -> str:
        return asyncio.run(sampling().chat(convo, seed=seed))

    def in_batch(seed: int, position: int) -> str:
        client = sampling()

        async def many():
            calls = [client.chat(o, seed=100 + i) for i, o in enumerate(others)]
            calls.insert(position, client.chat(convo, seed=seed))
            return await asyncio.gather(*calls)

        return asyncio.run(many())[position]

    assert alone(7) != alone(8)  # it samples: seeds matter
    for position in (0, 2, len(others)):
        assert in_batch(7, position) == alone(7)
    assert in_batch(8, 3) == alone(8)

    greedy = HFChat(str(path), max_tokens=4, max_batch=8)

    async def greedy_many():
        return await asyncio.gather(*(greedy.chat(o, seed=100 + i) for i, o in enumerate(others)))

    asyncio.run(greedy_many())
    assert max(greedy.batch_sizes) > 1  # greedy decoding draws nothing at random: still batched
