"""Any OpenAI-compatible chat endpoint (vLLM, SGLang, OpenAI) through the `openai` package.

Transient failures (429, 5xx, timeouts, dropped connections, malformed 200 replies) are
retried a bounded number of times with exponential backoff and jitter, honouring
Retry-After; anything else (a rejected request, a missing model, bad credentials) fails at
once. A call that still fails raises LLMError, which the runner records as an
infrastructure error (re-run by --resume), never as an empty answer of the model.

- Malformed: a 200 reply that is not a JSON object, has no choices, or whose first choice
  has no message with string content (null included). Content "" is a valid empty answer.
- Deadline: each attempt, reply body included, ends within `timeout` seconds in total (the
  package's own timeout is per read, so a reply dripped byte by byte would outlive it), and
  a timed-out attempt is retried; so chat() ends within `max_call_seconds`.
- Unicode: text sent is made valid first (a lone surrogate would make the package fail to
  encode the request, the same way on every retry) and text received is made valid before
  it is returned; lone surrogates become U+FFFD both ways (see base.valid_unicode).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from dataclasses import dataclass
from typing import Any

from colbench.errors import ColbenchError
from colbench.llm.base import (LLMError, Message, RequestRefused, cost_of, model_label, record_usage, valid_unicode,
                               valid_unicode_deep)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"


@dataclass
class SamplingParams:
    temperature: float = 0.0
    max_tokens: int = 2048
    top_p: float | None = None


class OpenAIChat:
    """Chat completions from one model on one endpoint."""

    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None,
                 sampling: SamplingParams | None = None, timeout: float = 120.0, max_retries: int = 5,
                 backoff_s: float = 1.0, max_backoff_s: float = 30.0, role: str | None = None):
        import openai

        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"  # local servers take any key
        self.name = f"openai:{model}"
        self.role = role  # "agent" or "human": every error names it (see `where`)
        self.pricing: dict[str, float] | None = None  # a definition's [pricing], for the cost of calls
        self.sampling = sampling or SamplingParams()
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        # Our own retry loop: the package's would hide attempts from our accounting.
        self._client = openai.AsyncOpenAI(base_url=self.base_url, api_key=key, timeout=timeout, max_retries=0)
        self._openai = openai

    @property
    def where(self) -> str:
        """Which model on which endpoint: NAME at BASE_URL, with the served model's name in
        brackets where the definition's name differs from it."""
        served = "" if self.name in (self.model, f"openai:{self.model}") else f" [{self.model}]"
        return f"{self.name}{served} at {self.base_url}"

    def _who(self) -> str:
        """The start of an error message: the human model (NAME at BASE_URL)."""
        return model_label(self.role, self.where)

    @property
    def max_call_seconds(self) -> float:
        """The longest one chat() call can take: every attempt ends within `timeout`, and
        every wait between attempts within `max_backoff_s` (Retry-After included)."""
        return (self.max_retries + 1) * self.timeout + self.max_retries * self.max_backoff_s

    async def chat(self, messages: list[Message], *, seed: int | None = None) -> str:
        """The reply; what the call cost (requests sent, tokens as the reply's `usage` says,
        wall time with retries and waits, price under `pricing`) goes to the current meter
        (base.record_usage), failed calls included."""
        tally = _Tally()
        start = time.perf_counter()
        try:
            return await self._attempts(messages, seed, tally)
        finally:
            record_usage(tally.prompt_tokens, tally.completion_tokens, time.perf_counter() - start, calls=tally.calls,
                         cost=cost_of(self.pricing, tally.prompt_tokens, tally.completion_tokens))

    async def _attempts(self, messages: list[Message], seed: int | None, tally: _Tally) -> str:
        o = self._openai
        kwargs = {"model": self.model, "messages": valid_unicode_deep(messages),
                  "temperature": self.sampling.temperature, "max_tokens": self.sampling.max_tokens}
        if self.sampling.top_p is not None:
            kwargs["top_p"] = self.sampling.top_p
        if seed is not None:
            kwargs["seed"] = seed
        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            tally.calls += 1
            try:
                async with asyncio.timeout(self.timeout):  # the whole attempt, body included
                    raw = await self._client.chat.completions.with_raw_response.create(**kwargs)
                    body = await raw.http_response.aread()
                text, tally.prompt_tokens, tally.completion_tokens = _read_reply(body)
                return text
            except (o.RateLimitError, o.InternalServerError, o.APITimeoutError, o.APIConnectionError) as exc:
                last = exc
            except o.APIStatusError as exc:
                if exc.status_code < 500:
                    raise RequestRefused(f"{self._who()}: the endpoint refused the request with "
                                         f"HTTP {exc.status_code} {_brief(exc)}", exc.status_code) from exc
                last = exc
            except TimeoutError as exc:  # our deadline, not the package's per-read timeout
                last = _Deadline(f"no complete reply within {self.timeout:g} s")
                last.__cause__ = exc
            except MalformedReply as exc:
                last = exc
            if attempt < self.max_retries:
                delay = self._delay(attempt, last)
                log.info("%s at %s: attempt %d of %d failed (%s); retrying in %.2f s", self.model, self.base_url,
                         attempt + 1, self.max_retries + 1, _describe(last), delay)
                await asyncio.sleep(delay)
        raise LLMError(f"{self._who()} failed {self.max_retries + 1} times; last error: {_describe(last)}")

    def _delay(self, attempt: int, exc: Exception | None) -> float:
        retry_after = None
        response = getattr(exc, "response", None)
        if response is not None:
            try:
                retry_after = float(response.headers.get("retry-after", ""))
            except (TypeError, ValueError):
                retry_after = None
        base = min(self.max_backoff_s, self.backoff_s * 2 ** attempt)
        delay = base * (0.5 + random.random() / 2)  # jitter: many episodes must not retry in step
        return max(delay, min(retry_after or 0.0, self.max_backoff_s))

    async def check_reachable(self) -> None:
        """Raises a one-sentence ColbenchError if nothing answers at the base URL."""
        o = self._openai
        try:
            async with asyncio.timeout(self.timeout):
                await self._client.models.list()
        except (o.APIConnectionError, o.APITimeoutError, TimeoutError) as exc:
            why = type(exc).__name__ if isinstance(exc, o.APIError) else f"no answer within {self.timeout:g} s"
            flag = f" (--{self.role}-base-url)" if self.role in ("agent", "human") else ""
            raise ColbenchError(f"{self._who()} is unreachable: cannot reach an OpenAI-compatible endpoint at "
                                f"{self.base_url} ({why}); start the server or pass the right base URL{flag}") from exc
        except o.APIStatusError:
            pass  # it answers; some servers do not list models

    async def aclose(self) -> None:
        await self._client.close()


@dataclass
class _Tally:
    """What one chat() call has used so far."""

    calls: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class MalformedReply(Exception):
    """An HTTP 200 reply that carries no answer (not JSON, no choices, no message text)."""


class _Deadline(Exception):
    """An attempt that did not complete within the client's timeout."""


def _read_reply(body: bytes) -> tuple[str, int | None, int | None]:
    """The first choice's message text of a chat completion body, as valid Unicode, and the
    body's prompt and completion token counts (see _usage); raises MalformedReply for a body
    with no text. We parse the body ourselves: the package returns an HTML page as a str, and
    builds a ChatCompletion from `{}` without checking it."""
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        raise MalformedReply(f"the body is not JSON: {_snippet(body)}") from None
    if not isinstance(data, dict):
        raise MalformedReply(f"the body is JSON but not an object: {_snippet(body)}")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        error = data.get("error")
        why = f"; it says: {_snippet(json.dumps(error).encode())}" if error else ""
        raise MalformedReply(f"no choices{why}")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise MalformedReply("the first choice has no message")
    content = message.get("content")
    if not isinstance(content, str):
        finish = choice.get("finish_reason")
        raise MalformedReply(f"the message content is {_snippet(json.dumps(content).encode())}, not text"
                             + (f" (finish_reason {finish})" if isinstance(finish, str) else ""))
    return (valid_unicode(content), *_usage(data.get("usage")))


def _usage(usage: Any) -> tuple[int | None, int | None]:
    """prompt_tokens and completion_tokens of a chat completion's `usage` (each None where
    the server reports none, or not as a whole number)."""
    if not isinstance(usage, dict):
        return None, None

    def count(key: str) -> int | None:
        value = usage.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

    return count("prompt_tokens"), count("completion_tokens")


def _snippet(body: bytes, limit: int = 80) -> str:
    text = " ".join(body[:limit * 4].decode("utf-8", "replace").split())
    text = valid_unicode(text)
    return repr(text[:limit] + ("..." if len(text) > limit else "")) if text else "(empty)"


def _describe(exc: Exception | None) -> str:
    if isinstance(exc, MalformedReply):
        return f"malformed reply ({exc})"
    if isinstance(exc, _Deadline):
        return str(exc)
    return f"{type(exc).__name__}: {_brief(exc)}"


def _brief(exc: Exception | None) -> str:
    text = str(exc or "").strip().splitlines()
    return text[0][:200] if text else ""
