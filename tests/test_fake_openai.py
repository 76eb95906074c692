"""The fake OpenAI server, driven by the real `openai` client."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import pytest

from fake_openai import FakeOpenAI, Fault, Faults, Scripted

openai = pytest.importorskip("openai")

MSGS = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}]


def chat(server: FakeOpenAI, model: str = "m", messages=MSGS, timeout: float = 2.0, **kw):
    """One chat completion through AsyncOpenAI (no retries); returns the response."""
    return asyncio.run(chat_many(server, [model], messages, timeout, **kw))[0]


async def chat_many(server, models, messages=MSGS, timeout=2.0, **kw):
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0,
                                  timeout=timeout) as client:
        return await asyncio.gather(*[
            client.chat.completions.create(model=m, messages=messages, temperature=0.0,
                                           max_tokens=64, seed=1, **kw)
            for m in models])


def test_scripted_reply_comes_back_verbatim_and_is_logged():
    script = Scripted({"a": ["first  reply\n", "second"], "b": ["from b"]})
    with FakeOpenAI(script) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        r1 = chat(server, "a")
        r2 = chat(server, "b")
        r3 = chat(server, "a", messages=[{"role": "user", "content": "again"}])
        with urllib.request.urlopen(f"{server.base_url}/models", timeout=2) as resp:
            listed = [m["id"] for m in json.load(resp)["data"]]
        requests = server.requests
    assert [r.choices[0].message.content for r in (r1, r2, r3)] == ["first  reply\n", "from b", "second"]
    assert r1.choices[0].finish_reason == "stop" and r1.choices[0].message.role == "assistant"
    assert r1.model == "a" and r1.object == "chat.completion"
    assert r1.usage.prompt_tokens > 0 and r1.usage.total_tokens == r1.usage.prompt_tokens + r1.usage.completion_tokens
    assert listed == ["a", "b"]
    assert [r["_index"] for r in requests] == [0, 1, 2]
    assert [r["model"] for r in requests] == ["a", "b", "a"]
    assert requests[0]["messages"] == MSGS and requests[2]["messages"] == [{"role": "user", "content": "again"}]
    assert requests[0]["temperature"] == 0.0 and requests[0]["max_tokens"] == 64 and requests[0]["seed"] == 1
    assert script.remaining() == 0


def test_status_faults_surface_as_openai_errors():
    script = Faults([Fault.status(429, retry_after=3), Fault.status(500)], then=lambda req: "ok")
    with FakeOpenAI(script) as server:
        with pytest.raises(openai.RateLimitError) as rate:
            chat(server)
        with pytest.raises(openai.InternalServerError):
            chat(server)
        assert chat(server).choices[0].message.content == "ok"
    assert rate.value.status_code == 429
    assert rate.value.response.headers["retry-after"] == "3"
    assert rate.value.body["type"] == "rate_limit_exceeded"


def test_drop_surfaces_as_connection_error():
    with FakeOpenAI(Faults([Fault.drop()], then=lambda req: "after")) as server:
        with pytest.raises(openai.APIConnectionError) as err:
            chat(server)
        assert not isinstance(err.value, openai.APITimeoutError)
        assert chat(server).choices[0].message.content == "after"  # the server lives on


def test_delay_past_client_timeout_surfaces_as_timeout_and_stop_does_not_wait():
    script = Faults([Fault.delay(30, then="too late"), Fault.delay(0.05, then=Fault.status(503))],
                    then=lambda req: "never")
    with FakeOpenAI(script) as server:
        with pytest.raises(openai.APITimeoutError):
            chat(server, timeout=0.4)
        with pytest.raises(openai.InternalServerError) as err:
            chat(server)
        assert err.value.status_code == 503
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 2  # the 30 s sleeper was woken, not waited for


def test_capacity_limits_concurrency_fifo():
    with FakeOpenAI(lambda req: f"reply {req['_index']}", capacity=2, latency=lambda req: 0.25) as server:
        t0 = time.monotonic()
        replies = asyncio.run(chat_many(server, ["m"] * 6))
        elapsed = time.monotonic() - t0
        assert server.max_concurrent == 2
        assert server.in_flight == 0
    assert sorted(r.choices[0].message.content for r in replies) == [f"reply {i}" for i in range(6)]
    assert elapsed >= 3 * 0.25 - 0.05  # three waves of two


def test_without_capacity_all_run_at_once():
    with FakeOpenAI(lambda req: "x", latency=lambda req: 0.25) as server:
        asyncio.run(chat_many(server, ["m"] * 4))
        assert server.max_concurrent == 4


def test_scripted_exhaustion_garbage_and_invalid_requests():
    script = Faults([Fault.garbage(), Fault.garbage("text/html")], then=Scripted({"a": ["only one"]}))
    with FakeOpenAI(script) as server:
        with pytest.raises(json.JSONDecodeError):  # the real client lets this one through
            chat(server, "a")
        # ...and returns the bare body text, not a ChatCompletion, for a non-JSON content type.
        assert chat(server, "a") == "<html>this is not JSON {"
        assert chat(server, "a").choices[0].message.content == "only one"
        with pytest.raises(openai.InternalServerError, match="exhausted"):
            chat(server, "a")
        with pytest.raises(openai.InternalServerError, match="no replies for model 'zzz'"):
            chat(server, "zzz")
        with pytest.raises(openai.BadRequestError, match="n=1"):
            chat(server, "a", n=2)
        assert len(server.requests) == 6


def test_script_exception_becomes_500():
    def script(req):
        raise AssertionError("unexpected prompt")

    with FakeOpenAI(script) as server:
        with pytest.raises(openai.InternalServerError, match="unexpected prompt"):
            chat(server)


def test_body_fault_sends_exactly_that_body():
    script = Faults([Fault.body({"choices": []}), Fault.body("<html>oops</html>", content_type="text/html"),
                     Fault.body(b"[1, 2]"), Fault.body({"error": "x"}, code=502)], then=lambda req: "ok")
    with FakeOpenAI(script) as server:
        assert chat(server).choices == []  # the real client takes it as a ChatCompletion with no choices
        assert chat(server) == "<html>oops</html>"
        with urllib.request.urlopen(urllib.request.Request(
                f"{server.base_url}/chat/completions", method="POST", headers={"Content-Type": "application/json"},
                data=json.dumps({"model": "m", "messages": MSGS}).encode()), timeout=2) as resp:
            assert resp.status == 200 and resp.read() == b"[1, 2]"
        with pytest.raises(openai.InternalServerError):
            chat(server)
        assert chat(server).choices[0].message.content == "ok"


def test_str_replies_escape_lone_surrogates_as_a_real_server_would():
    with FakeOpenAI(lambda req: "a\udcffb") as server:
        req = urllib.request.Request(f"{server.base_url}/chat/completions", method="POST",
                                     data=json.dumps({"model": "m", "messages": MSGS}).encode())
        with urllib.request.urlopen(req, timeout=2) as resp:
            raw = resp.read()
    assert b'"a\\udcffb"' in raw
    assert json.loads(raw)["choices"][0]["message"]["content"] == "a\udcffb"


def test_drip_sends_a_valid_reply_slowly_and_a_forever_drip_ends_when_the_client_leaves():
    with FakeOpenAI(Faults([Fault.drip("slow but whole", every_s=0.002),
                            Fault.drip(every_s=0.01, forever=True)], then=lambda req: "after")) as server:
        t0 = time.monotonic()
        assert chat(server, timeout=1.0).choices[0].message.content == "slow but whole"
        assert time.monotonic() - t0 > 0.3  # 200+ bytes at 2 ms each, though no read waited 1 s
        # The package's timeout is per read, so a forever drip outlives it: only a deadline
        # around the call (wait_for here) ends it.
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            asyncio.run(asyncio.wait_for(chat_many(server, ["m"], timeout=0.5), 1.5))
        assert time.monotonic() - t0 < 3
        deadline = time.monotonic() + 3
        while server.in_flight and time.monotonic() < deadline:  # the server notices and lets go
            time.sleep(0.02)
        assert server.in_flight == 0
        assert chat(server).choices[0].message.content == "after"
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 2
