"""`colbench tasks download` against local stand-ins for the Hugging Face hub (HF_ENDPOINT)
and for the host of the original prompt files (COLBENCH_PROMPTS_URL): nothing is fetched
from the internet in tests."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import colbench.download as download
from colbench.tasks import OFFICIAL_CONTENT_SHA256, content_sha256, load_tasks

COLBENCH = [sys.executable, "-m", "colbench.cli"]
DATASET = "/datasets/facebook/collaborative_agent_bench/resolve/main/"


class FakeHosts:
    """One local HTTP server playing the hub (`/datasets/.../resolve/main/PATH`, HEAD and GET
    with the headers huggingface_hub reads, byte ranges, and the two API answers its file
    system reads: the dataset's info and a folder's listing), the prompt host
    (`/prompts/NAME`) and picsum (`/picsum/...`)."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files  # URL path -> bytes
        self.requests: list[tuple[str, str]] = []
        self.served: dict[str, int] = {}  # URL path -> body bytes sent
        self.failing: set[str] = set()  # URL paths answered 403
        hosts = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self, body: bool):
                hosts.requests.append((self.command, self.path))
                path = self.path.split("?")[0]
                data = hosts.files.get(path)
                if data is None or path in hosts.failing:
                    self.send_response(404 if data is None else 403)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                whole, ranged = len(data), re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
                if ranged:
                    start, stop = int(ranged[1]), int(ranged[2] or whole - 1) + 1
                    data = data[start:stop]
                    hosts.served[path] = hosts.served.get(path, 0) + len(data)
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{start + len(data) - 1}/{whole}")
                else:
                    hosts.served[path] = hosts.served.get(path, 0) + (len(data) if body else 0)
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
    monkeypatch.setitem(OFFICIAL_CONTENT_SHA256, "backend", content_sha256(sample, 1000))
    dest = tmp_path / "data"
    said: list[str] = []
    files = download.download_official(dest, splits=("backend",), cache_dir=tmp_path / "hub", say=said.append)
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
    download.download_official(dest, splits=("backend",), cache_dir=tmp_path / "hub", say=said.append)
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


# ---------------------------------------------------------------------------------------
# The frontend tasks, built from WebSight v0.2 as the original's README builds them.

WEBSIGHT = "/datasets/HuggingFaceM4/WebSight/"
SHARD_ROWS = 8000


def websight_rows(sample_dir) -> list[tuple[str, str]]:
    """24000 rows; rows 10000-10029 are the pages of the published test file's first 30 lines
    (whose URLs the rewrite leaves as they are), the others pages with photo URLs to rewrite."""
    rows = [(f"Idea {i}: a page \u00e9", f"<html><body><img src=\"https://picsum.photos/{i % 90 + 10}/200\">"
             f"<p>row {i}</p></body></html>") for i in range(3 * SHARD_ROWS)]
    for i, line in enumerate((sample_dir / "frontend_test_sample.jsonl").read_text().splitlines()):
        task = json.loads(line)
        rows[10000 + i] = (task["problem_description"], task["ground_truth"])
    return rows


def add_websight(hosts: FakeHosts, rows: list[tuple[str, str]]) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    names, listing = [], []
    for k in range(3):
        part = rows[k * SHARD_ROWS:(k + 1) * SHARD_ROWS]
        table = pa.table({"image": [os.urandom(1000) for _ in part], "text": [t for _, t in part],
                          "llm_generated_idea": [i for i, _ in part]})
        buf = io.BytesIO()
        pq.write_table(table, buf, row_group_size=1000)
        name = f"v0.2/train-{k:05d}-of-00003-{k}f.parquet"
        hosts.files[WEBSIGHT + "resolve/main/" + name] = buf.getvalue()
        names.append(WEBSIGHT + "resolve/main/" + name)
        listing.append({"type": "file", "path": name, "size": len(buf.getvalue()), "oid": f"{k:040d}"})
    listing.reverse()  # the hub's order is not the datasets library's: shards are read by name
    info = json.dumps({"id": "HuggingFaceM4/WebSight", "sha": "1" * 40}).encode()
    hosts.files["/api" + WEBSIGHT.rstrip("/")] = info
    hosts.files["/api" + WEBSIGHT + "revision/main"] = info
    hosts.files["/api" + WEBSIGHT + "tree/main/v0.2"] = json.dumps(listing).encode()
    return names


def add_photo(hosts: FakeHosts) -> bytes:
    """A 600x300 photo in four coloured quarters, as picsum's /id/48 at full size."""
    from PIL import Image

    img = Image.new("RGB", (600, 300))
    for box, colour in (((0, 0, 300, 150), "red"), ((300, 0, 600, 150), "lime"), ((0, 150, 300, 300), "blue"),
                        ((300, 150, 600, 300), "yellow")):
        img.paste(colour, box)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=95)
    hosts.files["/picsum/id/48/info"] = json.dumps({"id": "48", "width": 600, "height": 300}).encode()
    hosts.files["/picsum/id/48/600/300"] = buf.getvalue()
    return buf.getvalue()


def expected_frontend(rows, start, stop) -> bytes:
    """The lines the original's README writes: json.dumps of the two fields, picsum photo URLs
    pointing at photo 48."""
    out = []
    for idea, text in rows[start:stop]:
        text = re.sub(r"https://picsum\.photos/(\d+)/(\d+)", r"https://picsum.photos/id/48/\1/\2", text)
        out.append(json.dumps({"problem_description": idea, "ground_truth": text}) + "\n")
    return "".join(out).encode()


def test_the_frontend_tasks_are_built_from_websight_as_the_original_builds_them(hosts, sample_dir, tmp_path,
                                                                                  monkeypatch):
    rows = websight_rows(sample_dir)
    shards = add_websight(hosts, rows)
    photo = add_photo(hosts)
    monkeypatch.setenv("COLBENCH_PICSUM_URL", hosts.url + "/picsum")
    test_lines = expected_frontend(rows, 10000, 20000)
    (tmp_path / "expected.jsonl").write_bytes(test_lines)
    monkeypatch.setitem(OFFICIAL_CONTENT_SHA256, "frontend", content_sha256(tmp_path / "expected.jsonl", 500))
    dest = tmp_path / "data"

    # The third shard fails: nothing is installed, and the rows read so far are kept.
    hosts.failing.add(shards[2])
    with pytest.raises(download.ColbenchError, match="run the command again"):
        download.download_official(dest, splits=("frontend",), say=lambda s: None)
    assert not (dest / "frontend_test.jsonl").exists() and not (dest / "frontend_train.jsonl").exists()
    hosts.failing.clear()
    before = dict(hosts.served)
    files = download.download_official(dest, splits=("frontend",), say=lambda s: None)
    assert hosts.served[shards[0]] == before[shards[0]] and hosts.served[shards[1]] == before[shards[1]]  # resumed

    assert {p.relative_to(dest).as_posix() for p in files} >= {"frontend_train.jsonl", "frontend_test.jsonl",
                                                               "photos/picsum-48.jpg"}
    assert (dest / "frontend_test.jsonl").read_bytes() == test_lines
    assert (dest / "frontend_train.jsonl").read_bytes() == expected_frontend(rows, 0, 10000)
    # The published file's first 30 lines, byte for byte.
    published = (sample_dir / "frontend_test_sample.jsonl").read_bytes()
    assert (dest / "frontend_test.jsonl").read_bytes()[:len(published)] == published
    # Only the two text columns were read, not the screenshots: a fraction of the shards.
    sizes = sum(len(hosts.files[s]) for s in shards)
    assert sum(hosts.served.get(s, 0) for s in shards) < sizes / 10, (sum(hosts.served.get(s, 0) for s in shards), sizes)
    assert (dest / "photos" / "picsum-48.jpg").read_bytes() == photo
    assert not list(dest.glob(".websight*")) and not list(dest.rglob("*.partial"))
    monkeypatch.setenv("COLBENCH_DATA_DIR", str(dest))
    assert len(load_tasks("colbench", "frontend").tasks) == 500  # --tasks colbench reads its first 500

    # Again: kept, nothing fetched.
    before = len(hosts.requests)
    download.download_official(dest, splits=("frontend",), say=lambda s: None)
    assert len(hosts.requests) == before


def test_websight_that_does_not_give_the_official_frontend_set_is_not_installed(hosts, sample_dir, tmp_path):
    rows = websight_rows(sample_dir)
    rows[10001] = (rows[10001][0] + " (edited)", rows[10001][1])
    add_websight(hosts, rows)
    add_photo(hosts)
    dest = tmp_path / "data"
    proc = run("tasks", "download", "--split", "frontend", "--dest", dest,
               env={"HF_HOME": str(tmp_path / "hf"), "COLBENCH_PICSUM_URL": hosts.url + "/picsum"})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "are not the official ColBench frontend test set" in proc.stderr and "not installed" in proc.stderr
    assert not (dest / "frontend_test.jsonl").exists() and not (dest / "frontend_train.jsonl").exists()


def test_the_downloaded_photo_is_served_as_picsum_serves_it(hosts, tmp_path):
    import asyncio

    from PIL import Image

    from colbench.render import Renderer

    add_photo(hosts)
    path = tmp_path / "picsum-48.jpg"
    path.write_bytes(hosts.files["/picsum/id/48/600/300"])
    page = ("<html><body style='margin:0'><img style='display:block' src='https://picsum.photos/id/48/100/100'>"
            "<img style='display:block' src='https://picsum.photos/id/48/400/50'>"
            "<img style='display:block' src='https://picsum.photos/id/7/100/100'></body></html>")

    async def go():
        async with Renderer(pages=1, photos={48: path}) as r:
            return await r.render(page, elements=False)

    snap = asyncio.run(go())
    img = Image.open(io.BytesIO(snap.png)).convert("RGB")

    def near(xy, colour):
        return all(abs(a - b) < 40 for a, b in zip(img.getpixel(xy), colour))

    # 100x100: scaled to 200x100, the middle kept: all four quarters show.
    assert near((25, 25), (255, 0, 0)) and near((75, 25), (0, 255, 0))
    assert near((25, 75), (0, 0, 255)) and near((75, 75), (255, 255, 0))
    # 400x50: scaled to 400x200, the middle band kept: where the quarters meet.
    assert near((100, 102), (255, 0, 0)) and near((300, 102), (0, 255, 0))
    assert near((100, 147), (0, 0, 255)) and near((300, 147), (255, 255, 0))
    # Another picsum id still gets the placeholder (never the photo): no pure quarter colour.
    assert not any(near((50, 200), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)))
