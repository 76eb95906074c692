"""What agents and humans need from a language model: messages in, text out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


class LLMError(Exception):
    """The model could not answer (after bounded retries): an infrastructure failure.

    An episode that ends with one is recorded as status "error" with this message and is
    re-run by --resume; it is never scored as a failure of the agent.
    """


class RequestRefused(LLMError):
    """The endpoint refused the request itself (an HTTP 4xx other than 429), at once and
    without retries: sending it again would get the same answer."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class ChatClient(Protocol):
    """A chat model as agents and humans use it, and as the runner manages it."""

    name: str

    async def chat(self, messages: list[Message], *, seed: int | None = None) -> str:
        """The model's reply to `messages`. `seed`, where given, makes sampling reproducible:
        the reply depends on the messages and the seed only (as far as the backend allows)."""
        ...

    async def check_reachable(self) -> None:
        """Raises a one-sentence ColbenchError if the model cannot answer (no server at the
        endpoint, no model at the path); the runner calls it before any work."""
        ...

    async def aclose(self) -> None:
        """Releases connections, workers or other resources; called once when a run ends."""
        ...


def valid_unicode(text: str) -> str:
    """`text` as valid Unicode: every lone surrogate (e.g. "\\udcff" from a JSON escape in a
    model's reply) becomes U+FFFD, and a UTF-16 surrogate pair held as two code points becomes
    the one character it stands for. The result always encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def valid_unicode_deep(value: Any) -> Any:
    """`value` with valid_unicode applied to every str inside its dicts and lists (chat
    messages, content parts); the original is left untouched."""
    if isinstance(value, str):
        return valid_unicode(value)
    if isinstance(value, dict):
        return {valid_unicode_deep(k): valid_unicode_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [valid_unicode_deep(v) for v in value]
    return value


# --- Accounting: what model calls cost ------------------------------------------------------
#
# A caller that wants to know what a piece of work cost in model calls runs it inside
# `with metering() as meter:`; every client call made meanwhile in the same asyncio task
# (whatever code between makes it: an adapter agent, a human, retries) reports to it with
# record_usage. The meter lives in a ContextVar, so concurrent episodes (each its own task)
# never see each other's calls, and a call made with no meter current is not counted.

USAGE_KEYS = ("calls", "prompt_tokens", "completion_tokens", "seconds", "cost")


def sum_usage(usages: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """The key-by-key sum of usage dicts (calls, prompt_tokens, completion_tokens, seconds,
    cost; anything else, and anything that is not a usage dict, is ignored). A key is in the
    sum when at least one of them has it; seconds are rounded to the millisecond."""
    out: dict[str, Any] = {}
    for usage in usages:
        if not isinstance(usage, Mapping):
            continue  # no usage recorded (None, or NaN in a DataFrame column)
        for key in USAGE_KEYS:
            value = usage.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[key] = out.get(key, 0) + value
    if "seconds" in out:
        out["seconds"] = round(out["seconds"], 3)
    if "cost" in out:
        out["cost"] = round(out["cost"], 12)  # no float noise from the sum
    return out


class UsageMeter:
    """The usage of the model calls made while it is current (see `metering`)."""

    def __init__(self) -> None:
        self.usage: dict[str, Any] = {}  # the keys of record.Usage that some call reported

    def add(self, usage: Mapping[str, Any]) -> None:
        self.usage = sum_usage([self.usage, usage])

    @property
    def calls(self) -> int:
        return int(self.usage.get("calls", 0))


def total_tokens(usage: Mapping[str, Any] | None) -> int:
    """Prompt and completion tokens of a usage dict together (0 for none)."""
    return int((usage or {}).get("prompt_tokens", 0)) + int((usage or {}).get("completion_tokens", 0))


_METER: ContextVar[UsageMeter | None] = ContextVar("colbench_usage_meter", default=None)


@contextmanager
def metering() -> Iterator[UsageMeter]:
    """A fresh meter, current for the body of the `with` (in this task and the tasks it starts)."""
    meter = UsageMeter()
    token = _METER.set(meter)
    try:
        yield meter
    finally:
        _METER.reset(token)


def record_usage(prompt_tokens: int | None, completion_tokens: int | None, seconds: float, *, calls: int = 1,
                 cost: float | None = None) -> None:
    """What one client call cost, for the current meter (nothing happens without one).
    Clients call it once per chat() call, failed ones included: `calls` is the requests it
    sent (retries included), `seconds` its wall time (waits included), tokens as the model
    reported them (None: not reported), `cost` from the client's pricing (see cost_of)."""
    meter = _METER.get()
    if meter is None:
        return
    call: dict[str, Any] = {"calls": calls, "seconds": seconds}
    if prompt_tokens is not None:
        call["prompt_tokens"] = prompt_tokens
    if completion_tokens is not None:
        call["completion_tokens"] = completion_tokens
    if cost is not None:
        call["cost"] = cost
    meter.add(call)


def cost_of(pricing: Mapping[str, float] | None, prompt_tokens: int | None,
            completion_tokens: int | None) -> float | None:
    """The price of the tokens under a model definition's [pricing] (prompt_per_million and
    completion_per_million); None without pricing or tokens."""
    if pricing is None or (prompt_tokens is None and completion_tokens is None):
        return None
    return ((prompt_tokens or 0) * float(pricing.get("prompt_per_million") or 0.0)
            + (completion_tokens or 0) * float(pricing.get("completion_per_million") or 0.0)) / 1e6


def model_label(role: str | None, where: str) -> str:
    """How an error names a model: "the human model (WHERE)", or "the model (WHERE)" without a role."""
    return f"the {role + ' ' if role else ''}model ({where})"
