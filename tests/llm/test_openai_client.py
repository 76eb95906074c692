"""OpenAIChat against a real local HTTP server (tests/fake_openai.py) that misbehaves.

Every malformed or slow reply must end in a retry and, when retries are spent, an LLMError
(an infrastructure error that --resume re-runs), never in an empty answer blamed on the agent.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fake_openai import FakeOpenAI, Fault, Faults

from colbench.errors import ColbenchError
from colbench.llm.base import LLMError
from colbench.llm.openai_client import OpenAIChat

openai = pytest.importorskip("openai")

MSGS = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]
GUARD_S = 40.0  # the test's own limit, so a hang fails as a hang and not a pytest timeout


def client_for(server: FakeOpenAI | str, **kw) -> OpenAIChat:
    base_url = server if isinstance(server, str) else server.base_url
    settings = {"timeout": 2.0, "max_retries": 2, "backoff_s": 0.01, "max_backoff_s": 0.05, **kw}
    return OpenAIChat("m", base_url=base_url, api_key="test", **settings)


def chat(client: OpenAIChat, messages=MSGS) -> str:
    async def go():
        try:
            return await asyncio.wait_for(client.chat(messages), GUARD_S)
        finally:
            await client.aclose()

    return asyncio.run(go())


def completion(message) -> dict:
    return {"id": "chatcmpl-x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}


def always(reply):
    return lambda req: reply


# -- 9: malformed 200 replies -----------------------------------------------------------

MALFORMED = {
    "empty-choices": {"choices": []},
    "empty-object": {},
    "error-object": {"error": {"message": "model overloaded", "type": "server_error"}},
    "null-choices": {"choices": None},
    "choice-without-message": {"choices": [{"index": 0, "finish_reason": "stop"}]},
    "null-message": completion(None),
    "message-without-content": completion({"role": "assistant"}),
    "null-content": completion({"role": "assistant", "content": None}),
    "content-not-text": completion({"role": "assistant", "content": 42}),
}


@pytest.mark.parametrize("payload", MALFORMED.values(), ids=MALFORMED.keys())
def test_an_empty_choices_reply_is_an_infrastructure_error_not_a_wrong_answer(payload):
    with FakeOpenAI(always(Fault.body(payload))) as server:
        with pytest.raises(LLMError) as err:
            chat(client_for(server, max_retries=2))
        assert len(server.requests) == 3  # retried like a transient failure, bounded
        base_url = server.base_url
    message = str(err.value)
    assert base_url in message and "\n" not in message
    assert "malformed" in message
    if "error" in payload:
        assert "model overloaded" in message  # a 200 that carries an error says what it says


NOT_JSON = {
    "garbage-labelled-json": Fault.garbage(),
    "html-error-page": Fault.body("<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"),
    "empty-body": Fault.body(b""),
    "json-list": Fault.body([{"choices": []}]),
    "deeply-nested": Fault.body("[" * 100_000 + "]" * 100_000),
    "json-string": Fault.body('"hello"'),
    "plain-text": Fault.body("hello", content_type="text/plain"),
}


@pytest.mark.parametrize("reply", NOT_JSON.values(), ids=NOT_JSON.keys())
def test_a_non_json_200_reply_is_an_infrastructure_error_not_an_empty_answer(reply):
    with FakeOpenAI(always(reply)) as server:
        with pytest.raises(LLMError) as err:
            chat(client_for(server, max_retries=1))
        assert len(server.requests) == 2
        base_url = server.base_url
    assert base_url in str(err.value) and "malformed" in str(err.value)


def test_a_malformed_reply_is_retried_like_a_transient_failure():
    script = Faults([Fault.body({"choices": []}), Fault.body("<html>", content_type="text/html"),
                     Fault.body(completion({"role": "assistant", "content": None}))], then=always("fine"))
    with FakeOpenAI(script) as server:
        assert chat(client_for(server, max_retries=3)) == "fine"
        assert len(server.requests) == 4


def test_a_genuine_empty_string_content_stays_a_valid_empty_message():
    with FakeOpenAI(always("")) as server:
        assert chat(client_for(server)) == ""
        assert len(server.requests) == 1  # a model may say nothing: that is its answer, not a fault


def write_agent_toml(path: Path, base_url: str) -> Path:
    path.write_text(f'name = "m"\n[model]\nkind = "openai"\nname = "m"\nbase_url = "{base_url}"\n'
                    "timeout = 2.0\nmax_retries = 1\nbackoff_s = 0.01\n")
    return path


def test_an_empty_choices_episode_is_status_error_and_resume_redoes_it(tmp_path):
    broken = {"on": True}

    def script(req):
        return Fault.body({"choices": []}) if broken["on"] else "I WANT TO ANSWER: def f(x):\n    return x\n"

    with FakeOpenAI(script) as server:
        agent = write_agent_toml(tmp_path / "agent.toml", server.base_url)
        out = tmp_path / "run"
        args = [sys.executable, "-m", "colbench.cli", "eval", "--protocol", "colbench", "--agent", str(agent), "--human", "offline",
                "--split", "backend", "--sandbox", "process", "--limit", "1", "--out", str(out)]
        first = subprocess.run(args, capture_output=True, text=True, timeout=300)
        assert first.returncode == 1, first.stderr  # the episode stays in error: eval fails, --resume redoes it
        [episode] = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
        assert episode["status"] == "error" and episode["score"] is None
        assert "malformed" in episode["error"] and server.base_url in episode["error"]
        assert len(server.requests) == 2

        broken["on"] = False
        second = subprocess.run(args + ["--resume"], capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
    statuses = [json.loads(line)["status"] for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert statuses[-1] == "ok"  # --resume re-ran the infrastructure error


# -- 11: a whole-call deadline ------------------------------------------------------------

def test_an_endless_drip_is_cut_by_the_whole_call_deadline():
    with FakeOpenAI(always(Fault.drip(every_s=0.05, forever=True))) as server:
        client = client_for(server, timeout=1.0, max_retries=1)
        t0 = time.monotonic()
        with pytest.raises(LLMError) as err:
            chat(client)
        elapsed = time.monotonic() - t0
        assert len(server.requests) == 2  # a timed-out attempt is retried
        base_url = server.base_url
    assert elapsed < 10
    assert elapsed < client.max_call_seconds + 1
    assert "1 s" in str(err.value) and base_url in str(err.value)


def test_a_finite_reply_dripped_slower_than_the_deadline_times_out_and_is_retried():
    slow = Fault.drip("slow", every_s=0.05)  # ~250 bytes: ~12 s, each read well inside 1 s
    with FakeOpenAI(Faults([slow], then=always("quick"))) as server:
        t0 = time.monotonic()
        assert chat(client_for(server, timeout=1.0, max_retries=1)) == "quick"
        assert time.monotonic() - t0 < 5
        assert len(server.requests) == 2

    with FakeOpenAI(always(slow)) as server:
        t0 = time.monotonic()
        with pytest.raises(LLMError):
            chat(client_for(server, timeout=1.0, max_retries=2))
        assert time.monotonic() - t0 < 10
        assert len(server.requests) == 3


def test_the_whole_call_bound_counts_attempts_and_backoff():
    client = OpenAIChat("m", base_url="http://127.0.0.1:9/v1", timeout=5.0, max_retries=3, max_backoff_s=2.0)
    assert client.max_call_seconds == 4 * 5.0 + 3 * 2.0
    asyncio.run(client.aclose())


def test_retry_after_is_still_honoured():
    with FakeOpenAI(Faults([Fault.status(429, retry_after=1)], then=always("ok"))) as server:
        t0 = time.monotonic()
        assert chat(client_for(server, backoff_s=0.01, max_backoff_s=5.0)) == "ok"
    assert time.monotonic() - t0 >= 0.95


# -- 5: lone surrogates at the client boundary -------------------------------------------------

def test_the_openai_package_itself_cannot_send_a_lone_surrogate():
    """What the package does on its own: UnicodeEncodeError (a ValueError) before any byte is
    sent, every time; so retrying it is useless, and the text must be made valid first."""
    async def go(server):
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="x", max_retries=0) as raw:
            await raw.chat.completions.create(model="m", messages=[{"role": "user", "content": "x\udcff"}])

    with FakeOpenAI(always("ok")) as server:
        with pytest.raises(UnicodeEncodeError):
            asyncio.run(go(server))
        assert server.requests == []


def test_a_lone_surrogate_in_a_request_is_sent_as_a_replacement_character_not_retried():
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "x\udcffy \U0001F600"},
                {"role": "assistant", "content": "pair \ud83d\ude00 split"},  # a UTF-16 pair as two code points
                {"role": "user", "content": [{"type": "text", "text": "part \udcff"}]}]
    with FakeOpenAI(always("ok")) as server:
        t0 = time.monotonic()
        assert chat(client_for(server, backoff_s=1.0), messages) == "ok"
        assert time.monotonic() - t0 < 1  # at once: no backoff spent on retries
        [request] = server.requests
    sent = request["messages"]
    assert sent[1]["content"] == "x\ufffdy \U0001F600"
    assert sent[2]["content"] == "pair \U0001F600 split"
    assert sent[3]["content"] == [{"type": "text", "text": "part \ufffd"}]
    assert messages[1]["content"] == "x\udcffy \U0001F600"  # the caller's messages are left alone


def test_a_lone_surrogate_in_a_reply_comes_back_as_a_replacement_character():
    with FakeOpenAI(always("a\udcffb \U0001F600")) as server:  # sent as the JSON escape \udcff
        reply = chat(client_for(server))
    assert reply == "a\ufffdb \U0001F600"
    reply.encode("utf-8")  # writable anywhere


# -- unreachable endpoints stay one sentence -------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_reachable(client: OpenAIChat) -> None:
    async def go():
        try:
            await asyncio.wait_for(client.check_reachable(), GUARD_S)
        finally:
            await client.aclose()

    asyncio.run(go())


def test_a_refused_endpoint_is_one_sentence_naming_the_base_url():
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ColbenchError) as err:
        check_reachable(client_for(base_url, max_retries=1))
    assert base_url in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(LLMError) as err:
        chat(client_for(base_url, max_retries=1))
    assert base_url in str(err.value) and "\n" not in str(err.value)


def test_a_dripping_endpoint_check_is_cut_by_the_deadline_and_is_one_sentence():
    """check_reachable (GET /models) gets the same whole-call deadline as chat()."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
            while not stop.wait(0.05):  # 1000 bytes of JSON whitespace at 20 a second: 50 s
                try:
                    conn.sendall(b" ")
                except OSError:
                    return

    threading.Thread(target=serve, daemon=True).start()
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    try:
        t0 = time.monotonic()
        with pytest.raises(ColbenchError) as err:
            check_reachable(client_for(base_url, timeout=1.0))
        assert time.monotonic() - t0 < 5
    finally:
        stop.set()
        listener.close()
    assert base_url in str(err.value) and "within 1 s" in str(err.value) and "\n" not in str(err.value)
