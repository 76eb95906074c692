"""What agents and humans need from a language model: messages in, text out."""

from __future__ import annotations

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
