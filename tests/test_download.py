"""`colbench tasks download` against local stand-ins for the Hugging Face hub (HF_ENDPOINT)
and for the host of the original prompt files (COLBENCH_PROMPTS_URL): nothing is fetched
from the internet in tests."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import colbench.download as download
from colbench.tasks import content_sha256, load_tasks

COLBENCH = [sys.executable, "-m", "colbench.cli"]
DATASET = "/datasets/facebook/collaborative_agent_bench/resolve/main/"


class FakeHosts:
    """One local HTTP server playing the hub (`/datasets/.../resolve/main/PATH`, HEAD and GET
    with the headers huggingface_hub reads) and the prompt host (`/prompts/NAME`)."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files  # URL path -> bytes
        self.requests: list[tuple[str, str]] = []
        hosts = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self, body: bool):
                hosts.requests.append((self.command, self.path))
                data = hosts.files.get(self.path.split("?")[0])
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header("X-Repo-Commit", "0" * 40)
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def do_HEAD(self):
                self._serve(False)

            def do_GET(self):
                self._serve(True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hosts(sample_dir, monkeypatch, tmp_path):
    files = {f"/prompts/{p.name}": p.read_bytes() for p in (sample_dir / "prompts").iterdir()}
    backend = (sample_dir / "backend_test_sample.jsonl").read_bytes()
    files[DATASET + "backend_tasks/test.jsonl"] = backend
    files[DATASET + "backend_tasks/train.jsonl"] = b"".join(backend.splitlines(keepends=True)[50:])
    h = FakeHosts(files)
    monkeypatch.setenv("HF_ENDPOINT", h.url)
    monkeypatch.setenv("COLBENCH_PROMPTS_URL", h.url + "/prompts")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    yield h
    h.close()


def test_the_official_files_are_fetched_verified_and_kept(hosts, sample_dir, tmp_path, monkeypatch):
    sample = sample_dir / "backend_test_sample.jsonl"
    # The stand-in test file is the 100-line sample: it is "official" here by its content hash.
    monkeypatch.setitem(download.OFFICIAL_CONTENT_SHA256, "backend", content_sha256(sample, 1000))
    dest = tmp_path / "data"
    said: list[str] = []
    files = download.download_official(dest, cache_dir=tmp_path / "hub", say=said.append)
    assert sorted(p.relative_to(dest).as_posix() for p in files) == sorted(
        ["backend_test.jsonl", "backend_train.jsonl"] + [f"prompts/{p.name}" for p in (sample_dir / "prompts").iterdir()])
    for p in (sample_dir / "prompts").iterdir():
        assert (dest / "prompts" / p.name).read_bytes() == p.read_bytes()
    assert (dest / "backend_test.jsonl").read_bytes() == sample.read_bytes()
    monkeypatch.setenv("COLBENCH_DATA_DIR", str(dest))
    assert len(load_tasks("colbench", "backend").tasks) == 100  # --tasks colbench reads it
    assert not list(dest.rglob("*.partial"))

    # Again: everything in place and verified is kept, with no request at all.
    before = len(hosts.requests)
    download.download_official(dest, cache_dir=tmp_path / "hub", say=said.append)
    assert len(hosts.requests) == before and sum(s.startswith("kept") for s in said) == 6


def test_the_content_hash_ignores_formatting_and_later_lines_but_not_content(tmp_path, sample_dir):
    sample = sample_dir / "backend_test_sample.jsonl"
    lines = [json.loads(line) for line in sample.read_text().splitlines()]
    reformatted = tmp_path / "other.jsonl"
    reformatted.write_text("".join(json.dumps({"task_id": f"x{i}", **dict(reversed(list(obj.items())))}, indent=None)
                                   + "\n\n" for i, obj in enumerate(lines)))
    assert content_sha256(reformatted, 50) == content_sha256(sample, 50)
    assert content_sha256(reformatted, 50) != content_sha256(sample, 51)
    lines[3]["ground_truth"] += " "
    changed = tmp_path / "changed.jsonl"
    changed.write_text("".join(json.dumps(obj) + "\n" for obj in lines))
    assert content_sha256(changed, 50) != content_sha256(sample, 50)


def run(*args, env):
    return subprocess.run(COLBENCH + [str(a) for a in args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_a_test_file_that_is_not_the_official_set_is_not_installed(hosts, tmp_path):
    dest = tmp_path / "data"
    proc = run("tasks", "download", "--dest", dest, env={"HF_HOME": str(tmp_path / "hf")})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "is not the official ColBench backend test set" in proc.stderr and "not installed" in proc.stderr
    assert not (dest / "backend_test.jsonl").exists()
    assert len(list((dest / "prompts").iterdir())) == 4  # the prompt files came first, verified


def test_an_altered_prompt_file_or_an_unreachable_host_is_one_sentence(hosts, tmp_path):
    hosts.files["/prompts/llm_agent_code_prompt.txt"] += b" edited"
    proc = run("tasks", "download", "--dest", tmp_path / "a", env={"HF_HOME": str(tmp_path / "hf")})
    assert proc.returncode == 2 and "is not the original llm_agent_code_prompt.txt" in proc.stderr
    assert not (tmp_path / "a" / "prompts" / "llm_agent_code_prompt.txt").exists()
    proc = run("tasks", "download", "--dest", tmp_path / "b",
               env={"HF_HOME": str(tmp_path / "hf"), "COLBENCH_PROMPTS_URL": "http://127.0.0.1:9/prompts"})
    assert proc.returncode == 2 and "cannot fetch the original prompt file" in proc.stderr
    assert "Traceback" not in proc.stderr
