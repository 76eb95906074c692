"""Model SPECs: the chat client an agent or a human runs on, from one string.

A SPEC is `openai:MODEL` (any OpenAI-compatible endpoint), `hf:PATH` (a local transformers
model), a path to a TOML model definition, or the name of one in `agents/`. Agents
(colbench.agents) and humans (colbench.humans.registry) both resolve their models here.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from colbench.errors import ColbenchError
from colbench.llm.base import ChatClient


def agents_dir() -> Path:
    """The directory of named model definitions (`agents/NAME.toml`): inside the installed
    package (`colbench/_agents`), else the source checkout's `agents/`."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_agents", package.parent / "agents"):
        if candidate.is_dir():
            return candidate
    return package.parent / "agents"


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
        local: ChatClient = resolve_client(f"hf:{path_value}", what=what, sampling=settings)
        local.name = str(doc.get("name", path.stem))
        return local
    raise ColbenchError(f"{what} definition {path}: unknown model kind {kind!r} (use openai or hf)")
