"""Agents: the protocol, built-in agents, and resolving an agent SPEC.

An Agent is one async call: the chat so far in, the next message out. A SPEC is
- a registered name: a built-in (`reference`, `naive`), a TOML file in `agents/`
  (`sweet-llama8b`, `gpt-4o`, ...), or an adapter from the `colbench.agents` entry-point group;
- `openai:MODEL`: any OpenAI-compatible endpoint (base URL from --agent-base-url or
  OPENAI_BASE_URL); `hf:PATH`: a local transformers model;
- `scripted:PATH`: replays recorded messages (JSONL `{"task_id", "messages": [...]}`);
- a path to a TOML file describing one of these.
Model SPECs (openai:, hf:, TOML files) are resolved by colbench.llm.specs, as humans' are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable, Protocol

from colbench.errors import ColbenchError
from colbench.llm.base import ChatClient, Message
from colbench.llm.specs import agents_dir, resolve_client
from colbench.protocol import ANSWER_MARK
from colbench.tasks import Task

ENTRY_POINT_GROUP = "colbench.agents"


@dataclass(frozen=True)
class AgentContext:
    """What an agent may know besides the chat. Only oracle built-ins read `task`."""

    task: Task
    sample: int
    seed: int
    turn: int  # 1-based number of the agent message being asked for


class Agent(Protocol):
    """One call: the chat so far in, the next message out.

    Agents that run on a chat model (LLMAgent) hold it as `client` (a ChatClient), which the
    runner checks is reachable before any work and records in run.json. An agent may also
    have `async aclose()`, called once when the run ends; it is not part of the protocol,
    since the built-in agents and most adapters hold nothing to release."""

    name: str

    async def respond(self, messages: list[Message], ctx: AgentContext) -> str: ...


AgentFactory = Callable[..., Agent]
_BUILTINS: dict[str, AgentFactory] = {}


def register_agent(name: str) -> Callable[[AgentFactory], AgentFactory]:
    """Registers a built-in agent factory under `name` (used as a decorator)."""

    def deco(factory: AgentFactory) -> AgentFactory:
        _BUILTINS[name] = factory
        return factory

    return deco


@register_agent("reference")
class ReferenceAgent:
    """Answers with the hidden reference at once: the sanity upper bound."""

    name = "reference"

    async def respond(self, messages: list[Message], ctx: AgentContext) -> str:
        return f"{ANSWER_MARK}\n{ctx.task.ground_truth}"


_SIGNATURE = re.compile(r"def\s+(\w+)\s*\(([^)]*)\)")


@register_agent("naive")
class NaiveAgent:
    """Asks nothing and answers with a stub of the requested signature: the lower bound."""

    name = "naive"

    async def respond(self, messages: list[Message], ctx: AgentContext) -> str:
        found = _SIGNATURE.findall(ctx.task.problem_description)
        name, params = found[-1] if found else ("solution", "*args")
        return f"{ANSWER_MARK}\ndef {name}({params}):\n    return None\n"


class ScriptedAgent:
    """Replays recorded messages per task, or per task and sample when a line has `sample`;
    the last one repeats if the dialogue goes on."""

    def __init__(self, path: str):
        from colbench.jsonl import parse_object, read_lines

        self.name = f"scripted:{path}"
        self.scripts: dict[str | tuple[str, int], list[str]] = {}
        _, lines = read_lines(Path(path), "agent script")
        for n, line in enumerate(lines, start=1):
            if line.strip():
                obj = parse_object(line, f"{path} line {n}")
                msgs = obj.get("messages")
                if "task_id" not in obj or not isinstance(msgs, list) or not all(isinstance(m, str) for m in msgs):
                    raise ColbenchError(f"{path} line {n}: expected {{\"task_id\", \"messages\": [strings]}}")
                sample = obj.get("sample")
                if sample is not None and not isinstance(sample, int):
                    raise ColbenchError(f"{path} line {n}: sample must be a whole number")
                self.scripts[str(obj["task_id"]) if sample is None else (str(obj["task_id"]), sample)] = msgs

    async def respond(self, messages: list[Message], ctx: AgentContext) -> str:
        script = self.scripts.get((ctx.task.task_id, ctx.sample)) or self.scripts.get(ctx.task.task_id)
        if not script:
            raise ColbenchError(f"agent script {self.name} has no messages for task {ctx.task.task_id!r}")
        return script[min(ctx.turn, len(script)) - 1]


class LLMAgent:
    """An agent that is a chat model."""

    def __init__(self, client: ChatClient, name: str | None = None):
        self.client = client
        self.name = name or client.name

    async def respond(self, messages: list[Message], ctx: AgentContext) -> str:
        return await self.client.chat(messages, seed=ctx.seed)

    async def aclose(self) -> None:
        await self.client.aclose()


def known_agents() -> list[str]:
    names = set(_BUILTINS)
    names.update(p.stem for p in agents_dir().glob("*.toml"))
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)


def resolve_agent(spec: str, *, base_url: str | None = None) -> Agent:
    """Builds the agent a SPEC names; a bad SPEC is one ColbenchError sentence."""
    if spec in _BUILTINS:
        return _BUILTINS[spec]()
    if spec.startswith("scripted:"):
        return ScriptedAgent(spec.split(":", 1)[1])
    if spec.startswith(("openai:", "hf:")) or spec.endswith(".toml") or (agents_dir() / f"{spec}.toml").is_file():
        return LLMAgent(resolve_client(spec, base_url=base_url, what="agent"))
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == spec:
            try:
                factory = ep.load()
            except Exception as exc:
                raise ColbenchError(f"agent adapter {spec!r} ({ep.value}) failed to load: {exc}") from exc
            agent = factory()
            if not callable(getattr(agent, "respond", None)):
                raise ColbenchError(f"agent adapter {spec!r} ({ep.value}) has no respond(messages, ctx) method")
            return agent
    raise ColbenchError(f"unknown agent {spec!r}; known: {', '.join(known_agents())}, "
                        "or openai:MODEL, scripted:PATH or a TOML file")

