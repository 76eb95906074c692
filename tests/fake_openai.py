"""A fake OpenAI-compatible chat completions server for tests (stdlib only).

    def script(request: dict) -> str | Fault: ...

    with FakeOpenAI(script, capacity=4) as server:
        client = AsyncOpenAI(base_url=server.base_url, api_key="x", max_retries=0)
        ...
    server.requests        # parsed request bodies, in arrival order (each with "_index")
    server.max_concurrent  # most requests handled at one moment
    server.busy_seconds    # seconds of capacity slots held, summed over requests
    server.reset_stats()   # zero busy_seconds and max_concurrent (e.g. between phases)
    server.usage           # {_index: the `usage` object of the completion sent for that request}

Endpoints: POST /v1/chat/completions (n=1, stream=false only), GET /v1/models, GET /health.
The script is called once per chat request, in arrival order, with the parsed JSON body
plus "_index" (0-based count of chat requests received before this one, all models together).
It returns the assistant's text or a Fault:

    Fault.status(429, retry_after=2)   HTTP error with an OpenAI-style error body
    Fault.delay(3.0, then="hi")        sleep, then answer with `then` (text or Fault)
    Fault.drop()                       close the connection abruptly (TCP reset), no response
    Fault.garbage()                    200 whose body is not JSON (labelled application/json)
    Fault.body({"choices": []})        200 (or `code=`) with exactly this body: JSON, or str/bytes verbatim
    Fault.drip("hi", every_s=0.05)     a normal 200 answer sent one byte every `every_s` seconds
    Fault.drip("hi", forever=True)     200 headers, then JSON whitespace one byte at a time, never ending

A str reply may hold any code point: the body is JSON with ASCII escapes, so a lone surrogate
such as "\udcff" arrives as the escape "\\udcff", as from a real server that escapes output.

A script that raises, or returns something else, gets a 500 whose message says why.
`capacity` serves at most that many requests at once (the rest wait in the server, FIFO;
one whose client gave up while waiting is skipped, as vLLM aborts disconnected requests);
`latency(request) -> seconds` sleeps before answering, inside the capacity limit.
`busy_seconds` is the integral over time of the number of requests inside the limit, so
busy_seconds / (capacity * wall seconds) is the share of the capacity kept busy.
`backlog` sets the listen queue length (default 128: socketserver's own 5 makes a burst of
more new connections than that fail now and then with a connection reset where SYN
cookies are on; None keeps socketserver's).
"""

from __future__ import annotations

import itertools
import json
import select
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Union

__all__ = ["Fault", "FakeOpenAI", "Scripted", "Faults", "Reply", "Script"]

# How long stop() waits for the serving thread, and how long an idle keep-alive
# connection may sit before the server closes it.
_JOIN_TIMEOUT_S = 5.0
_IDLE_CONNECTION_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Fault:
    """Something other than a normal answer. Build with the class methods."""

    kind: str  # "status" | "delay" | "drop" | "garbage" | "body" | "drip"
    code: int = 0
    retry_after: float | None = None
    message: str | None = None
    seconds: float = 0.0
    then: "Reply | None" = None
    content_type: str = "application/json"
    payload: Any = None
    every_s: float = 0.0
    forever: bool = False

    @classmethod
    def status(cls, code: int, retry_after: float | None = None, message: str | None = None) -> "Fault":
        """Answer with HTTP `code` and an OpenAI-style error JSON (plus Retry-After if given)."""
        if not 400 <= int(code) <= 599:
            raise ValueError(f"Fault.status needs an error code (400-599), got {code}")
        return cls("status", code=int(code), retry_after=retry_after, message=message)

    @classmethod
    def delay(cls, seconds: float, then: "Reply") -> "Fault":
        """Sleep `seconds`, then answer with `then` (a reply text or another Fault)."""
        if seconds < 0:
            raise ValueError("Fault.delay needs seconds >= 0")
        if not isinstance(then, (str, Fault)):
            raise TypeError(f"Fault.delay(then=...) must be a str or a Fault, got {type(then).__name__}")
        return cls("delay", seconds=float(seconds), then=then)

    @classmethod
    def drop(cls) -> "Fault":
        """Close the connection without any response (a TCP reset)."""
        return cls("drop")

    @classmethod
    def garbage(cls, content_type: str = "application/json") -> "Fault":
        """Answer 200 with a body that is not JSON. With the default JSON content type the
        `openai` client raises json.JSONDecodeError (a ValueError, not an openai error); with
        e.g. "text/html" it returns the body as a plain str instead of a ChatCompletion
        (or raises APIResponseValidationError when the client has _strict_response_validation)."""
        return cls("garbage", content_type=content_type)

    @classmethod
    def body(cls, payload: Any, content_type: str = "application/json", code: int = 200) -> "Fault":
        """Answer HTTP `code` (default 200) with `payload` as the whole body: bytes and str
        are sent as they are, anything else as JSON. For malformed replies such as
        `{"choices": []}`, `{}`, a choice without a message, or a message whose content is null."""
        if not 100 <= int(code) <= 599:
            raise ValueError(f"Fault.body needs an HTTP status code, got {code}")
        return cls("body", code=int(code), payload=payload, content_type=content_type)

    @classmethod
    def drip(cls, then: str = "", every_s: float = 0.05, forever: bool = False) -> "Fault":
        """Answer 200 with the normal completion for `then`, sent one byte every `every_s`
        seconds (with its Content-Length): each read is quick, the whole reply slow.
        With forever=True the body is chunked and is leading JSON whitespace, one byte every
        `every_s` seconds, that never ends (the completion for `then` never comes)."""
        if every_s <= 0:
            raise ValueError("Fault.drip needs every_s > 0")
        if not isinstance(then, str):
            raise TypeError(f"Fault.drip(then=...) must be a str, got {type(then).__name__}")
        return cls("drip", then=then, every_s=float(every_s), forever=bool(forever))


Reply = Union[str, Fault]
Script = Callable[[dict], Reply]


class Scripted:
    """Serve each model its list of replies in order.

    A request for a model whose list is exhausted (or that has no list) gets a 500
    whose message says so; `errors` keeps those messages so a test can assert on them.
    """

    def __init__(self, replies_by_model: dict[str, list[Reply]]):
        self._queues = {model: deque(replies) for model, replies in replies_by_model.items()}
        self._lock = threading.Lock()
        self.errors: list[str] = []

    @property
    def models(self) -> list[str]:
        return list(self._queues)

    def remaining(self, model: str | None = None) -> int:
        """Replies not yet served, for one model or for all of them."""
        with self._lock:
            if model is not None:
                return len(self._queues.get(model, ()))
            return sum(len(q) for q in self._queues.values())

    def __call__(self, request: dict) -> Reply:
        model = request.get("model")
        with self._lock:
            queue = self._queues.get(model)
            if queue:
                return queue.popleft()
            if queue is None:
                why = f"Scripted: no replies for model {model!r} (known: {sorted(self._queues)})"
            else:
                why = f"Scripted: replies for model {model!r} exhausted"
            why += f" at request #{request.get('_index')}"
            self.errors.append(why)
        return Fault.status(500, message=why)


class Faults:
    """Answer the first len(first) requests with those faults, then delegate to `then`.

    An entry of `first` may also be a plain reply text, or None to delegate that request.
    """

    def __init__(self, first: Iterable[Reply | None], then: Script):
        self._first = list(first)
        self._then = then
        self._count = itertools.count()
        self._lock = threading.Lock()

    @property
    def models(self) -> list[str] | None:
        return getattr(self._then, "models", None)

    def __call__(self, request: dict) -> Reply:
        with self._lock:
            i = next(self._count)
        if i < len(self._first) and self._first[i] is not None:
            return self._first[i]
        return self._then(request)


class _Stopping(Exception):
    """The server is shutting down: abandon the request."""


class _FifoGate:
    """At most `capacity` holders at once; waiters get in in arrival order."""

    def __init__(self, capacity: int | None, stopping: threading.Event):
        if capacity is not None and capacity < 1:
            raise ValueError("capacity must be >= 1 (or None for no limit)")
        self.capacity = capacity
        self._stopping = stopping
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self.active = 0
        self.max_active = 0
        self._busy = 0.0  # integral of `active` over time, up to _since
        self._since = time.perf_counter()

    def _accrue(self) -> None:  # call with _cond held, before `active` changes
        now = time.perf_counter()
        self._busy += self.active * (now - self._since)
        self._since = now

    @property
    def busy_seconds(self) -> float:
        with self._cond:
            return self._busy + self.active * (time.perf_counter() - self._since)

    def reset_stats(self) -> None:
        with self._cond:
            self._busy = 0.0
            self._since = time.perf_counter()
            self.max_active = self.active

    def __enter__(self) -> None:
        with self._cond:
            ticket = object()
            self._queue.append(ticket)
            try:
                while not (self._queue[0] is ticket
                           and (self.capacity is None or self.active < self.capacity)):
                    if self._stopping.is_set():
                        raise _Stopping
                    self._cond.wait(0.1)
            finally:
                self._queue.remove(ticket)
            self._accrue()
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self._cond.notify_all()  # the next in line may fit too

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._accrue()
            self.active -= 1
            self._cond.notify_all()


def _rough_tokens(text: Any) -> int:
    if isinstance(text, list):  # content parts
        text = " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in text)
    return max(1, len(str(text or "")) // 4) if text else 0


_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 429: "rate_limit_exceeded"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real servers
    server_version = "FakeOpenAI/1.0"
    timeout = _IDLE_CONNECTION_TIMEOUT_S
    server: "_HTTPServer"

    # -- plumbing --------------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.owner._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send_json(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(code, json.dumps(payload).encode(), "application/json", headers)

    def _send(self, code: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _send_error(self, code: int, message: str, retry_after: float | None = None) -> None:
        etype = _ERROR_TYPES.get(code, "server_error" if code >= 500 else "invalid_request_error")
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        self._send_json(code, {"error": {"message": message, "type": etype, "param": None,
                                         "code": str(code)}}, headers)

    def _drop(self) -> None:
        """Reset the connection: SO_LINGER 0 makes close() send RST instead of FIN."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # The socket is only really closed once its makefile() wrappers are closed too.
        for f in (self.rfile, self.wfile):
            try:
                f.close()
            except OSError:
                pass
        self.connection.close()

    def _client_gone(self) -> bool:
        """True when the client has closed its end (readable, but nothing to read)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _drip(self, fault: Fault, request: dict) -> None:
        """Send a 200 answer one byte every `fault.every_s` seconds (see Fault.drip). Ends
        when the client has gone (its deadline) or the server stops."""
        owner = self.server.owner
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if fault.forever:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while True:
                owner._sleep(fault.every_s)
                if self._client_gone():
                    self.close_connection = True
                    return
                self.wfile.write(b"1\r\n \r\n")
        body = json.dumps(owner._completion(request, fault.then)).encode()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for i in range(len(body)):
            owner._sleep(fault.every_s)
            if self._client_gone():
                self.close_connection = True
                return
            self.wfile.write(body[i:i + 1])

    # -- endpoints -------------------------------------------------------------------
    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake-openai"}
                for m in self.server.owner.models]})
        elif path == "/health":
            self._send(200, b"", "text/plain")
        else:
            self._send_error(404, f"no route GET {self.path}")

    def do_POST(self) -> None:
        try:
            self._post()
        except _Stopping:
            self._drop()
        except (ConnectionError, BrokenPipeError, socket.timeout):
            self.close_connection = True  # the client gave up (e.g. its timeout): nothing to say

    def _post(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        if self.path.split("?", 1)[0].rstrip("/") != "/v1/chat/completions":
            return self._send_error(404, f"no route POST {self.path}")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return self._send_error(400, "request body is not valid JSON")
        if not isinstance(body, dict):
            return self._send_error(400, "request body must be a JSON object")

        problem, reply, delay_s, request = owner._admit(body)
        if problem:
            return self._send_error(400, problem)

        with owner._gate:
            if self._client_gone():  # it gave up while queued: don't spend capacity on it
                self.close_connection = True
                return
            if delay_s:
                owner._sleep(delay_s)
            self._answer(reply, request)

    def _answer(self, reply: Any, request: dict) -> None:
        owner = self.server.owner
        while isinstance(reply, Fault) and reply.kind == "delay":
            owner._sleep(reply.seconds)
            reply = reply.then
        if isinstance(reply, str):
            return self._send_json(200, owner._completion(request, reply))
        if isinstance(reply, Fault):
            if reply.kind == "status":
                message = reply.message or f"fake {reply.code} {_phrase(reply.code)}"
                return self._send_error(reply.code, message, reply.retry_after)
            if reply.kind == "drop":
                return self._drop()
            if reply.kind == "garbage":
                return self._send(200, b"<html>this is not JSON {", reply.content_type)
            if reply.kind == "body":
                payload = reply.payload
                if isinstance(payload, str):
                    payload = payload.encode("utf-8", "surrogatepass")
                elif not isinstance(payload, bytes):
                    payload = json.dumps(payload).encode()
                return self._send(reply.code, payload, reply.content_type)
            if reply.kind == "drip":
                return self._drip(reply, request)
        message = f"fake server: script returned {reply!r}; expected a str or a Fault"
        return self._send_error(500, message)


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "error"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: "FakeOpenAI"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # client disconnects and shutdown races are expected; don't spam stderr


class FakeOpenAI:
    """A fake OpenAI-compatible server on 127.0.0.1 (a free port), in a background thread."""

    def __init__(self, script: Script, *, models: Iterable[str] | None = None,
                 capacity: int | None = None,
                 latency: Callable[[dict], float] | None = None,
                 host: str = "127.0.0.1", port: int = 0, backlog: int | None = 128):
        if backlog is not None and backlog < 1:
            raise ValueError("backlog must be >= 1 (or None for socketserver's default)")
        self.script = script
        self._backlog = backlog
        self._models = list(models) if models is not None else None
        self.latency = latency
        self._stopping = threading.Event()
        self._gate = _FifoGate(capacity, self._stopping)
        self._admit_lock = threading.Lock()  # index, log and script run in arrival order
        self._conns_lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._requests: list[dict] = []
        self._usage: dict[int, dict] = {}
        self._host, self._port = host, port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> "FakeOpenAI":
        if self._httpd is not None:
            return self
        self._stopping.clear()
        if self._backlog is None:
            self._httpd = _HTTPServer((self._host, self._port), _Handler)
        else:
            httpd = _HTTPServer((self._host, self._port), _Handler, bind_and_activate=False)
            httpd.request_queue_size = self._backlog  # read by server_activate()'s listen()
            try:
                httpd.server_bind()
                httpd.server_activate()
            except BaseException:
                httpd.server_close()
                raise
            self._httpd = httpd
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-openai:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()  # wakes sleepers and queued requests; they drop their connection
        httpd.shutdown()
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:  # wake handler threads blocked reading idle keep-alive connections
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(_JOIN_TIMEOUT_S)

    close = stop

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests look at ----------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeOpenAI is not running")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def models(self) -> list[str]:
        """Explicit `models`, else the script's `.models`, plus any model requested since."""
        known = list(self._models if self._models is not None
                     else getattr(self.script, "models", None) or ["fake-model"])
        with self._admit_lock:
            seen = [r.get("model") for r in self._requests]
        for m in seen:
            if isinstance(m, str) and m not in known:
                known.append(m)
        return known

    @property
    def requests(self) -> list[dict]:
        """A snapshot of the parsed chat request bodies received, each with "_index"."""
        with self._admit_lock:
            return list(self._requests)

    @property
    def usage(self) -> dict[int, dict]:
        """The `usage` of each completion sent, by the "_index" of its request. It is
        deterministic: prompt_tokens is, per message, max(1, characters // 4) (0 for empty
        content) plus 4; completion_tokens is the same count for the reply text."""
        with self._admit_lock:
            return dict(self._usage)

    @property
    def max_concurrent(self) -> int:
        """The most requests being handled (inside the capacity limit) at one moment."""
        return self._gate.max_active

    @property
    def busy_seconds(self) -> float:
        """Seconds of capacity slots held, summed over requests (requests still being
        served count up to now): the integral over time of the requests being served."""
        return self._gate.busy_seconds

    def reset_stats(self) -> None:
        """Starts busy_seconds from 0 now and max_concurrent from the requests being served
        now. The request log (`requests`, "_index") is kept."""
        self._gate.reset_stats()

    @property
    def in_flight(self) -> int:
        return self._gate.active

    @property
    def capacity(self) -> int | None:
        return self._gate.capacity

    # -- internals used by the handler -----------------------------------------------
    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0 and self._stopping.wait(seconds):
            raise _Stopping

    def _admit(self, body: dict) -> tuple[str | None, Any, float, dict]:
        """Log the request, then ask the script and latency (in arrival order).
        Returns (problem, reply, latency_s, request); problem is set for an invalid request."""
        with self._admit_lock:
            request = dict(body, _index=len(self._requests))
            self._requests.append(request)
            problem = _validate(body)
            if problem:
                return problem, None, 0.0, request
            view = dict(request)  # the script may mutate its copy; the log stays as received
            try:
                reply = self.script(view)
            except Exception as e:  # noqa: BLE001 - surface script bugs as a 500 to the client
                reply = Fault.status(500, message=f"fake server: script raised {e!r}")
            try:
                latency_s = float(self.latency(dict(request))) if self.latency else 0.0
            except Exception as e:  # noqa: BLE001
                reply, latency_s = Fault.status(500, message=f"fake server: latency raised {e!r}"), 0.0
        return None, reply, max(0.0, latency_s), request

    def _completion(self, request: dict, content: str) -> dict:
        prompt = sum(_rough_tokens(m.get("content")) + 4 for m in request.get("messages", [])
                     if isinstance(m, dict))
        completion = _rough_tokens(content)
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        with self._admit_lock:
            self._usage[request["_index"]] = dict(usage)
        return {
            "id": f"chatcmpl-fake-{request['_index']}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model"),
            "system_fingerprint": None,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": usage,
        }


def _validate(body: dict) -> str | None:
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "'model' is required (a non-empty string)"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(
            isinstance(m, dict) and "role" in m for m in messages):
        return "'messages' must be a non-empty list of {role, content} objects"
    if body.get("n", 1) not in (1, None):
        return "the fake server supports only n=1"
    if body.get("stream"):
        return "the fake server supports only stream=false"
    return None
