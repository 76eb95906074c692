"""Model SPECs: the chat client an agent or a human runs on, from one string.

A SPEC is `openai:MODEL` (any OpenAI-compatible endpoint), `hf:PATH` (a local transformers
model), a path to a TOML model definition, or the name of one in `agents/`. Agents
(colbench.agents) and humans (colbench.humans.registry) both resolve their models here.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from colbench.errors import ColbenchError
from colbench.llm.base import ChatClient

_T = TypeVar("_T", bound="_Table")


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
        return OpenAIChat(spec.split(":", 1)[1], base_url=base_url, role=what)
    if spec.startswith("hf:"):
        from colbench.llm.hf import HFChat
        client = HFChat(spec.split(":", 1)[1], role=what, **(sampling or {}))
        client.check_local()
        return client
    path = Path(spec) if spec.endswith(".toml") else agents_dir() / f"{spec}.toml"
    return client_from_toml(path, base_url=base_url, what=what)


def expand_env(value: Any) -> Any:
    """${VAR} and ${VAR:-default} in TOML strings, so endpoints and weights are configurable."""
    if not isinstance(value, str):
        return value
    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)


class _Table(BaseModel):
    """A table of a model definition: known keys only, TOML's own types (no "1" for 1)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class OpenAIModel(_Table):
    """[model] of kind "openai": an OpenAI-compatible endpoint."""

    kind: Literal["openai"]
    name: str = ""  # the served model's name
    base_url: str | None = None
    api_key: str | None = None
    timeout: float | None = Field(default=None, gt=0)  # seconds per request
    max_retries: int | None = Field(default=None, ge=0)
    backoff_s: float | None = Field(default=None, ge=0)


class HFModel(_Table):
    """[model] of kind "hf": a local transformers model."""

    kind: Literal["hf"]
    path: str = ""
    max_batch: int | None = Field(default=None, ge=1)
    device: str | None = None


class Sampling(_Table):
    """[sampling]: what the model samples with (unset keys: the client's defaults)."""

    temperature: float | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=1)
    top_p: float | None = Field(default=None, gt=0, le=1)


class Pricing(_Table):
    """[pricing]: US dollars per million tokens, for the cost of a run."""

    prompt_per_million: float = Field(ge=0)
    completion_per_million: float = Field(ge=0)


class Definition(_Table):
    """A model definition file; [model] is checked by its kind (MODEL_KINDS)."""

    name: str | None = None
    description: str | None = None
    model: dict[str, Any] | None = None
    sampling: Sampling = Field(default_factory=Sampling)
    pricing: Pricing | None = None


MODEL_KINDS: dict[str, type[_Table]] = {"openai": OpenAIModel, "hf": HFModel}
_TABLES: dict[str, type[_Table]] = {"sampling": Sampling, "pricing": Pricing}


def _table_name(schema: type[_Table]) -> str:
    """How a message names the table `schema` checks."""
    kind = next((k for k, v in MODEL_KINDS.items() if v is schema), None)
    if kind is not None:
        return f"[model] of kind {kind!r}"
    table = next((t for t, v in _TABLES.items() if v is schema), None)
    return "the top level" if table is None else f"[{table}]"


def _keys(schema: type[_Table]) -> list[str]:
    return list(schema.model_fields)


def _closest_key(key: str, schema: type[_Table]) -> str:
    """A hint for an unknown key: the closest key of its own table, else the same or a close
    key of another table (a key put in the wrong table), else the table's keys."""
    close = difflib.get_close_matches(key, _keys(schema), n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    every: tuple[type[_Table], ...] = (Definition, *_TABLES.values(), *MODEL_KINDS.values())
    others = [other for other in every if other is not schema]
    for other in others:
        if key in _keys(other):
            return f"it is a key of {_table_name(other)}"
    for other in others:
        close = difflib.get_close_matches(key, _keys(other), n=1)
        if close:
            return f"did you mean {close[0]!r}, a key of {_table_name(other)}?"
    return f"its keys: {', '.join(_keys(schema))}"


def _invalid(exc: ValidationError, schema: type[_Table]) -> str:
    """The first problem pydantic found (an unknown key before any other: a misspelt key is
    also a missing one), as the end of one sentence after "definition PATH: "."""
    err = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    loc = [str(part) for part in err["loc"]]
    if schema is Definition and len(loc) > 1 and loc[0] in _TABLES:
        schema, loc = _TABLES[loc[0]], loc[1:]
    where = _table_name(schema)
    key = loc[0] if loc else ""
    if err["type"] == "extra_forbidden":
        return f"{where} has no key {key!r} ({_closest_key(key, schema)})"
    if err["type"] == "missing":
        return f"{where} needs {key}"
    if err["type"] in ("model_type", "dict_type") and len(loc) == 1 and schema is Definition:
        return f"{key} must be a table ([{key}])"
    message = err["msg"][:1].lower() + err["msg"][1:]
    return f"{where} {key} = {err.get('input')!r} is invalid ({message})"


def _validate(schema: type[_T], doc: Any, *, path: Path, what: str) -> _T:
    try:
        return schema.model_validate(doc)
    except ValidationError as exc:
        raise ColbenchError(f"{what} definition {path}: {_invalid(exc, schema)}") from exc


def client_from_toml(path: Path, *, base_url: str | None = None, what: str = "agent") -> ChatClient:
    """The client a TOML model definition describes (agents/README.md), checked first: an
    unknown key, a missing one or a value of the wrong type is one sentence naming the table
    and the key (and the closest known key for a typo). `what`: the role (agent, human), for
    messages and the client's `role`. A [pricing] table is kept as the client's `pricing`
    (a dict; None without one)."""
    if not path.is_file():
        raise ColbenchError(f"{what} definition {path} does not exist")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ColbenchError(f"{what} definition {path} is not valid TOML ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise ColbenchError(f"{what} definition {path} is not UTF-8 text") from exc
    definition = _validate(Definition, doc, path=path, what=what)
    model = definition.model
    if model is None or "kind" not in model:
        raise ColbenchError(f"{what} definition {path} needs a [model] table with a kind (openai or hf)")
    kind = model["kind"]
    if not isinstance(kind, str) or kind not in MODEL_KINDS:
        raise ColbenchError(f"{what} definition {path}: unknown model kind {kind!r} (use openai or hf)")
    sampling = definition.sampling.model_dump(exclude_none=True)
    pricing = None if definition.pricing is None else definition.pricing.model_dump()
    display_name = definition.name or path.stem
    client: ChatClient
    if kind == "openai":
        from colbench.llm.openai_client import OpenAIChat, SamplingParams
        spec = _validate(OpenAIModel, model, path=path, what=what)
        name = expand_env(spec.name)
        if not name:
            raise ColbenchError(f"{what} definition {path}: [model] needs name = the served model's name")
        retry = spec.model_dump(include={"timeout", "max_retries", "backoff_s"}, exclude_none=True)
        client = OpenAIChat(name, base_url=base_url or expand_env(spec.base_url) or None,
                            api_key=expand_env(spec.api_key) or None, sampling=SamplingParams(**sampling),
                            role=what, **retry)
    else:
        local = _validate(HFModel, model, path=path, what=what)
        path_value = expand_env(local.path)
        if not path_value:
            raise ColbenchError(f"{what} definition {path}: [model] needs path = a local model directory")
        settings = {**sampling, **local.model_dump(include={"max_batch", "device"}, exclude_none=True)}
        client = resolve_client(f"hf:{path_value}", what=what, sampling=settings)
    client.name = display_name
    setattr(client, "pricing", pricing)  # read where costs are counted (llm.base.cost_of)
    return client
