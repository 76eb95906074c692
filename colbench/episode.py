"""One agent-vs-human dialogue (async), per the ColBench protocol.

Backend: the agent speaks first; each agent message is read by the protocol (OUTPUT:, I WANT TO
ANSWER:); the human replies to every message that does not end the episode, cut to the
split's limit. The episode ends with the answer, or after the 10th agent message, whose
content is then taken as the answer. A model that fails after its bounded retries ends the
episode with status "error" (an infrastructure failure, never scored).

Frontend: the first page (<html>...</html>, else <body>...</body>) in an agent message is
rendered and shown to the human next to the reference page; the answer is the most recent
rendered page; human replies are cut to 1000 characters; screenshots are saved as run
artifacts when a directory is given.

Seeds: the agent gets the episode seed (AgentContext.seed) and the human human_seed(seed),
so that two models on one endpoint never sample with the same seed; both are stable across
resumes, as the episode seed is.

Accounting: each agent and human call runs under its own usage meter (colbench.llm.base),
so whatever the agent's or the human's code calls, its model's requests are counted: each
turn keeps the usage of the call that wrote it, and Episode.usage the totals per role (those
of calls that failed included). With `max_agent_tokens`, an episode whose agent has used
more prompt and completion tokens than that ends with status "error" after that agent call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from colbench.agents import Agent, AgentContext
from colbench.humans.base import CodeHuman, DesignHuman, Human, Turn
from colbench.llm.base import LLMError, UsageMeter, metering, sum_usage, total_tokens
from colbench.protocol import (MAX_AGENT_TURNS, AgentMove, DialogueRules, agent_messages, cut_human_reply,
                               read_agent_message)
from colbench.runs.record import Usage
from colbench.tasks import Task


HUMAN_SEED_OFFSET = 0x9E3779B9  # fixed, not a multiple of 2**32 (this one: 2**32 / the golden ratio)


def human_seed(episode_seed: int) -> int:
    """The seed the human's model samples with in an episode: the episode seed plus a fixed
    offset, modulo 2**32. It never equals the episode seed (the agent's), it is as stable as
    the episode seed, and two episodes with different seeds in 0..2**32-1 (the runner's)
    give the human different seeds."""
    return (episode_seed + HUMAN_SEED_OFFSET) % 2**32


@dataclass
class Episode:
    task_id: str
    sample: int
    seed: int
    status: str = "ok"  # ok | error
    error: str | None = None
    turns: list[Turn] = field(default_factory=list)
    answer: str | None = None
    answered: bool = False  # the agent said I WANT TO ANSWER: (rather than running out of turns)
    dialogue_seconds: float = 0.0
    artifacts: list[str] = field(default_factory=list)  # frontend: screenshots written
    # per role ("agent", "human") that made model calls: their totals (record.Usage keys)
    usage: dict[str, dict[str, Any]] = field(default_factory=dict)


class TokenLimitExceeded(LLMError):
    """The agent used more tokens in an episode than --max-episode-tokens allows: the episode
    ends as an error (not scored; --resume runs it again, with a larger limit if need be)."""


@contextmanager
def _metered(ep: Episode, role: str) -> Iterator[UsageMeter]:
    """A fresh usage meter for one call of `role` (agent or human); what the call used is
    added to the episode's totals for the role, also when the call fails."""
    with metering() as meter:
        try:
            yield meter
        finally:
            if meter.calls:
                ep.usage[role] = sum_usage([ep.usage.get(role), meter.usage])


async def _agent_move(task: Task, agent: Agent, ep: Episode, turn: int,
                      rules: DialogueRules) -> tuple[Turn, AgentMove]:
    raw = await agent.respond(agent_messages(task.split, task.problem_description, ep.turns, rules.agent_system),
                              AgentContext(task=task, sample=ep.sample, seed=ep.seed, turn=turn))
    if not isinstance(raw, str):
        raise TypeError(f"agent {agent.name} returned {type(raw).__name__}, not text")
    move = read_agent_message(raw)
    record: Turn = {"role": "agent", "content": move.content}
    if move.content != raw:
        record["raw"] = raw
    return record, move


async def run_episode(task: Task, agent: Agent, human: Human, *, sample: int = 0, seed: int = 0,
                      renderer: Any = None, reference_page: Any = None, artifacts: Path | None = None,
                      rules: DialogueRules | None = None, max_agent_tokens: int | None = None,
                      time_limit: float | None = None) -> Episode:
    """Plays one dialogue under `rules` (default: the colbench protocol). Frontend episodes
    need the `renderer` and the `reference_page` (the human sees both pages); `artifacts` is
    where their screenshots are saved. The human samples with human_seed(seed). An agent
    that has used more than `max_agent_tokens` tokens ends the episode as an error, and so
    does a dialogue that runs past `time_limit` seconds; either way the turns so far, and
    what they cost, are kept in the record."""
    rules = rules or DialogueRules()
    ep = Episode(task.task_id, sample, seed)
    start = time.perf_counter()
    frontend = task.split == "frontend"
    page = None  # frontend: the most recent rendered page
    limit = asyncio.timeout(None)
    try:
        async with asyncio.timeout(time_limit) as limit:
            if frontend and artifacts is not None:
                artifacts.mkdir(parents=True, exist_ok=True)
                (artifacts / "reference.png").write_bytes(reference_page.png)
                ep.artifacts.append(str(artifacts / "reference.png"))
            for turn in range(1, MAX_AGENT_TURNS + 1):
                with _metered(ep, "agent") as meter:
                    record, move = await _agent_move(task, agent, ep, turn, rules)
                if meter.calls:
                    record["usage"] = cast(Usage, dict(meter.usage))
                used = total_tokens(ep.usage.get("agent"))
                if max_agent_tokens is not None and used > max_agent_tokens:
                    ep.turns.append(record)
                    raise TokenLimitExceeded(f"the agent used {used} tokens in this episode, more than the limit of "
                                             f"{max_agent_tokens} (--max-episode-tokens)")
                html = rules.page(move.content) if frontend else None
                current = None  # frontend: the page of this message
                if html is not None:
                    page = current = await renderer.render(html)
                    ep.answer = html  # the answer is the most recent rendered page
                    if rules.original and page.error:
                        ep.answer = None  # the original's answer is this render's screenshot: none
                    if artifacts is not None:
                        shot = artifacts / f"turn-{turn:02d}.png"
                        shot.write_bytes(page.png)
                        record["screenshot"] = str(shot)
                        ep.artifacts.append(str(shot))
                ep.turns.append(record)
                if move.final or turn == MAX_AGENT_TURNS:
                    ep.answered = move.final
                    if not frontend:
                        ep.answer = rules.answer(move)
                    break
                with _metered(ep, "human") as meter:
                    if frontend:
                        # The original shows the human the page of the current message only.
                        reply = await cast(DesignHuman, human).respond(task, ep.turns, current if rules.original else page,
                                                                       reference_page, seed=human_seed(seed))
                    else:
                        reply = await cast(CodeHuman, human).respond(task, ep.turns, seed=human_seed(seed))
                said: Turn = {"role": "human", "content": cut_human_reply(str(reply), task.split)}
                if meter.calls:
                    said["usage"] = cast(Usage, dict(meter.usage))
                ep.turns.append(said)
    except TimeoutError as exc:
        if limit.expired():  # the episode's own limit, not a timeout inside an adapter
            ep.status, ep.error = "error", (f"the dialogue ran past the episode time limit ({time_limit:g} s, "
                                            "--episode-timeout) and was stopped")
        else:
            ep.status, ep.error = "error", f"TimeoutError: {exc}"
    except LLMError as exc:
        ep.status, ep.error = "error", str(exc)
    except Exception as exc:  # an adapter's bug ends its episode, not the run
        ep.status, ep.error = "error", f"{type(exc).__name__}: {exc}"
    ep.dialogue_seconds = time.perf_counter() - start
    return ep
