"""Agents: the protocol, built-in agents, and resolving an agent SPEC.

An Agent is one async call: the chat so far in, the next message out. A SPEC is
- a registered name: a built-in (`reference`, `naive`), a TOML file in `agents/`
  (`sweet-llama8b`, `gpt-4o`, ...), or an adapter from the `colbench.agents` entry-point group;
- `openai:MODEL`: any OpenAI-compatible endpoint (base URL from --agent-base-url or
  OPENAI_BASE_URL);
- `scripted:PATH`: replays recorded messages (JSONL `{"task_id", "messages": [...]}`);
- a path to a TOML file describing one of these.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable, Protocol

from colbench.errors import ColbenchError
from colbench.llm.base import ChatClient, Message
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
        close = getattr(self.client, "aclose", None)
        if close is not None:
            await close()


def agents_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "_agents", here.parent / "agents"):
        if candidate.is_dir():
            return candidate
    return here.parent / "agents"


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


def resolve_client(spec: str, *, base_url: str | None = None, what: str = "agent",
                   sampling: dict[str, Any] | None = None) -> ChatClient:
    """A chat client from `openai:MODEL`, `hf:PATH`, a TOML file path or a name in agents/."""
    if spec.startswith("openai:"):
        from colbench.llm.openai_client import OpenAIChat
        return OpenAIChat(spec.split(":", 1)[1], base_url=base_url)
    if spec.startswith("hf:"):
        from colbench.llm.hf import HFChat
        client = HFChat(spec.split(":", 1)[1], **(sampling or {}))
        client.check_local()
        return client
    path = Path(spec) if spec.endswith(".toml") else agents_dir() / f"{spec}.toml"
    return client_from_toml(path, base_url=base_url, what=what)


def expand_env(value: Any) -> Any:
    """${VAR} and ${VAR:-default} in TOML strings, so endpoints and weights are configurable."""
    if not isinstance(value, str):
        return value
    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)


def client_from_toml(path: Path, *, base_url: str | None = None, what: str = "agent") -> ChatClient:
    if not path.is_file():
        raise ColbenchError(f"{what} definition {path} does not exist")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ColbenchError(f"{what} definition {path} is not valid TOML ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise ColbenchError(f"{what} definition {path} is not UTF-8 text") from exc
    model = doc.get("model")
    if not isinstance(model, dict) or "kind" not in model:
        raise ColbenchError(f"{what} definition {path} needs a [model] table with a kind (openai or hf)")
    kind = model["kind"]
    sampling = doc.get("sampling", {})
    if kind == "openai":
        from colbench.llm.openai_client import OpenAIChat, SamplingParams
        name = expand_env(model.get("name"))
        if not name:
            raise ColbenchError(f"{what} definition {path}: [model] needs name = the served model's name")
        try:
            params = SamplingParams(**{k: sampling[k] for k in ("temperature", "max_tokens", "top_p") if k in sampling})
        except TypeError as exc:
            raise ColbenchError(f"{what} definition {path}: bad [sampling] ({exc})") from exc
        retry = {k: model[k] for k in ("timeout", "max_retries", "backoff_s") if k in model}
        try:
            client = OpenAIChat(name, base_url=base_url or expand_env(model.get("base_url")) or None,
                                api_key=expand_env(model.get("api_key")) or None, sampling=params, **retry)
        except TypeError as exc:
            raise ColbenchError(f"{what} definition {path}: bad [model] setting ({exc})") from exc
        client.name = str(doc.get("name", path.stem))
        return client
    if kind == "hf":
        path_value = expand_env(model.get("path", ""))
        if not path_value:
            raise ColbenchError(f"{what} definition {path}: [model] needs path = a local model directory")
        settings = {k: sampling[k] for k in ("temperature", "max_tokens", "top_p") if k in sampling}
        settings.update({k: model[k] for k in ("max_batch", "device") if k in model})
        client = resolve_client(f"hf:{path_value}", what=what, sampling=settings)
        client.name = str(doc.get("name", path.stem))
        return client
    raise ColbenchError(f"{what} definition {path}: unknown model kind {kind!r} (use openai or hf)")
