"""Offline, deterministic rendering (Playwright + Chromium) and CLIP frontend scoring."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import socket
import subprocess
import sys
import threading
import time

import pytest
from helpers import tiny_clip
from PIL import Image

from colbench.render import MAX_HEIGHT, Renderer
from colbench.scoring.clip import ClipScorer
from colbench.tasks import load_tasks


def render_all(pages: list[str], **kwargs):
    async def go():
        async with Renderer(**kwargs) as r:
            return await asyncio.gather(*(r.render(p) for p in pages)), r.restarts

    return asyncio.run(go())


@pytest.fixture(scope="module")
def sample_pages(sample_dir):
    return [t.ground_truth for t in load_tasks(sample_dir / "frontend_test_sample.jsonl", "frontend").tasks]


def pixel(png: bytes, x: float, y: float) -> tuple[int, int, int]:
    return Image.open(io.BytesIO(png)).convert("RGB").getpixel((int(x), int(y)))


def css_rgb(value: str) -> tuple[int, int, int]:
    nums = value[value.index("(") + 1:value.index(")")].split(",")
    return tuple(int(float(n)) for n in nums[:3])


def test_rendering_twice_gives_identical_pixels(sample_pages):
    first, _ = render_all(sample_pages[:8])
    second, _ = render_all(sample_pages[:8])
    assert [hashlib.sha256(s.png).hexdigest() for s in first] == [hashlib.sha256(s.png).hexdigest() for s in second]
    assert all(s.error is None for s in first)


def test_tailwind_is_really_applied_and_nothing_leaves_the_browser(sample_pages):
    snaps, _ = render_all(sample_pages)
    checked = 0
    for snap in snaps:
        assert snap.error is None and snap.blocked == []  # Tailwind and picsum served locally, nothing else asked
        coloured = [e for e in snap.elements if e.tag in ("header", "nav", "footer") and css_rgb(e.bg) != (0, 0, 0)
                    and not e.bg.startswith("rgba(0, 0, 0, 0")]
        for e in coloured[:1]:
            # The bg-* colour Tailwind gives the element is in the screenshot at its box.
            assert pixel(snap.png, e.x + 2, e.y + 2) == css_rgb(e.bg)
            checked += 1
    assert checked >= 10


def test_blocked_requests_are_listed_and_never_arrive():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    arrived, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                arrived.append(listener.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    page = (f'<html><body><img src="http://127.0.0.1:{port}/x.png"><link rel="stylesheet" '
            f'href="http://127.0.0.1:{port}/s.css"><p>hi</p></body></html>')
    try:
        [snap], _ = render_all([page])
    finally:
        stop.set()
        t.join()
        listener.close()
    assert arrived == []
    assert sorted(snap.blocked) == sorted([f"http://127.0.0.1:{port}/x.png", f"http://127.0.0.1:{port}/s.css"])


HOSTILE = {
    "infinite_script_loop": "<html><body><h1>loop</h1><script>while (true) {}</script></body></html>",
    "alert_and_confirm": "<html><body><script>alert('hi'); confirm('sure?'); prompt('x')</script><p>ok</p></body></html>",
    "window_open": "<html><body><script>for (let i = 0; i < 100; i++) window.open('https://example.com')</script>"
                   "<p>ok</p></body></html>",
    "very_tall_page": "<html><body><div style='height: 100000px; background: #3366cc'>tall</div></body></html>",
    "huge_dom": "<html><body>" + "<div><span>x</span></div>" * 60000 + "</body></html>",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_pages_end_in_time_and_the_renderer_keeps_working(name):
    start = time.monotonic()

    async def go():
        async with Renderer(timeout_s=20) as r:
            bad = await r.render(HOSTILE[name])
            good = await r.render("<html><body style='margin:0'><div style='background:#3366cc;height:50px'>"
                                  "fine</div></body></html>")
            return bad, good

    bad, good = asyncio.run(go())
    assert time.monotonic() - start < 60
    assert bad.height <= MAX_HEIGHT
    assert good.error is None and pixel(good.png, 600, 25) == (0x33, 0x66, 0xCC)
    if name == "very_tall_page":
        assert bad.page_height >= 100000 and bad.height == MAX_HEIGHT


def test_a_render_cancelled_midway_leaves_its_page_to_no_later_render():
    good_page = "<html><body style='margin:0'><div style='background:#3366cc;height:50px'>fine</div></body></html>"

    async def go():
        async with Renderer(pages=1, timeout_s=60) as r:
            render = asyncio.ensure_future(r.render("<html><body>" + "<div><span>x</span></div>" * 200000
                                                    + "</body></html>"))  # seconds of work for the browser
            await asyncio.sleep(0.5)
            assert not render.done()
            slot = r._slots[0]
            stuck = slot.context
            render.cancel()  # as an episode's time limit does, midway
            with pytest.raises(asyncio.CancelledError):
                await render
            after = slot.context
            good = await asyncio.wait_for(r.render(good_page), 30)  # not after the 60 s stuck-page limit
            return stuck, after, good

    stuck, after, good = asyncio.run(go())
    assert stuck is not None and after is None  # the busy page's context went with the cancelled render
    assert good.error is None and pixel(good.png, 600, 25) == (0x33, 0x66, 0xCC)


def test_a_crashed_browser_is_restarted():
    async def go():
        async with Renderer() as r:
            await r._browser.close()  # the browser goes away under us
            snap = await r.render("<html><body><p>after</p></body></html>")
            return snap, r.restarts

    snap, restarts = asyncio.run(go())
    assert snap.error is None and restarts == 1


def test_clip_similarity_of_a_page_with_itself_is_one(sample_pages, tmp_path):
    snaps, _ = render_all(sample_pages[:4])
    clip = ClipScorer(str(tiny_clip(tmp_path / "clip")))
    sims = clip.similarity([(s.png, s.png) for s in snaps] + [(snaps[0].png, snaps[1].png)])
    assert sims[:4] == pytest.approx([1.0] * 4, abs=1e-5)
    assert sims[4] < 1.0 - 1e-6


def test_frontend_score_cli(sample_dir, tmp_path):
    tasks = load_tasks(sample_dir / "frontend_test_sample.jsonl", "frontend").tasks
    answers = tmp_path / "answers.jsonl"
    with answers.open("w") as f:
        for t in tasks[:3]:
            f.write(json.dumps({"task_id": t.task_id, "answer": f"Here you go!\n{t.ground_truth}\nBye."}) + "\n")
        f.write(json.dumps({"task_id": tasks[0].task_id, "answer": "I could not do it."}) + "\n")
    out = tmp_path / "scored.jsonl"
    clip_dir = tiny_clip(tmp_path / "clip")
    proc = subprocess.run([sys.executable, "-m", "colbench.cli", "score", "--tasks",
                           str(sample_dir / "frontend_test_sample.jsonl"), "--answers", str(answers), "--out", str(out),
                           "--clip-model", str(clip_dir)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    assert [r["score"] for r in rows[:3]] == pytest.approx([1.0, 1.0, 1.0], abs=1e-5)
    assert rows[3]["score"] == 0.0 and rows[3]["status_detail"] == "no_page"


def test_a_missing_clip_model_is_one_sentence(sample_dir, tmp_path):
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"task_id": "0", "answer": "<html></html>"}) + "\n")
    proc = subprocess.run([sys.executable, "-m", "colbench.cli", "score", "--tasks",
                           str(sample_dir / "frontend_test_sample.jsonl"), "--answers", str(answers),
                           "--out", str(tmp_path / "o.jsonl"), "--clip-model", str(tmp_path / "no-clip")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "CLIP model" in lines[0] and "no-clip" in lines[0]


def test_every_bundled_page_renders_offline_with_tailwind_applied():
    pages = [t.ground_truth for t in load_tasks("bundled", "frontend").tasks]
    snaps, restarts = render_all(pages)
    assert restarts == 0
    checked = 0
    for snap in snaps:
        assert snap.error is None and snap.blocked == []
        solid = [e for e in snap.elements if e.depth <= 2 and e.w >= 600 and e.h >= 40
                 and e.bg.startswith("rgb(")]  # sections whose bg-* class gave a solid colour
        if solid:
            x, y = solid[0].x + 1, solid[0].y + 1
            # The colour painted there is that of the innermost element covering the point.
            covering = [e for e in snap.elements if e.x <= x < e.x + e.w and e.y <= y < e.y + e.h]
            top = max(covering, key=lambda e: e.depth)
            if top.tag != "img" and top.bg.startswith("rgb("):
                assert pixel(snap.png, x, y) == css_rgb(top.bg)
                checked += 1
    assert checked >= 15


def test_many_pages_at_once_render_exactly_as_each_alone():
    """Under load, a page that shared a renderer process with others could be shot from a
    stale compositor frame (content wrapped around below the old viewport height): each
    page slot has its own browser context now."""
    pages = [t.ground_truth for t in load_tasks("bundled", "frontend").tasks]

    async def go():
        async with Renderer(pages=1) as r:
            alone = [hashlib.sha256((await r.render(p, elements=False)).png).hexdigest() for p in pages]
        async with Renderer(pages=8) as r:
            together = await asyncio.gather(*(r.render(p, elements=False) for p in pages * 3))
        return alone, [hashlib.sha256(s.png).hexdigest() for s in together]

    alone, together = asyncio.run(go())
    assert together == alone * 3


# Tailwind links as agents write them: which are styled online (a 2.x stylesheet exists at
# that URL, and the newest 2.x is 2.2.19), which are not (v3 and later have no such file).
TAILWIND_LINKS = {
    "https://cdn.jsdelivr.net/npm/tailwindcss@2.2.19/dist/tailwind.min.css": True,
    "https://unpkg.com/tailwindcss@2.2.19/dist/tailwind.css": True,
    "https://unpkg.com/tailwindcss@^2/dist/tailwind.min.css": True,
    "https://cdn.jsdelivr.net/npm/tailwindcss@2/dist/tailwind.min.css": True,
    "https://unpkg.com/tailwindcss@2.x/dist/tailwind.min.css": True,
    "https://cdn.jsdelivr.net/npm/tailwindcss@2.2/dist/tailwind.min.css": True,
    "https://unpkg.com/tailwindcss@2.1.2/dist/tailwind.min.css": True,  # an older 2.x: served 2.2.19
    "https://cdnjs.cloudflare.com/ajax/libs/tailwindcss/2.2.19/tailwind.min.css": True,
    "http://unpkg.com/tailwindcss@2.2.19/dist/tailwind.min.css?v=1": True,
    "https://unpkg.com/tailwindcss@3.4.1/dist/tailwind.min.css": False,
    "https://unpkg.com/tailwindcss/dist/tailwind.min.css": False,  # latest: no such file
    "https://cdn.jsdelivr.net/npm/tailwindcss@latest/dist/tailwind.min.css": False,
    "https://unpkg.com/tailwindcss@2.2.19/dist/tailwind.min.css.map": False,
}


def test_tailwind_linked_by_the_usual_cdn_urls_is_styled_offline_as_online():
    pages = [f'<html><head><link href="{url}" rel="stylesheet"></head><body style="margin:0">'
             '<div class="bg-red-500" style="width:50px;height:50px"></div></body></html>' for url in TAILWIND_LINKS]
    snaps, _ = render_all(pages)
    red = (239, 68, 68)  # Tailwind 2's red-500
    styled = {url: pixel(s.png, 10, 10) == red for url, s in zip(TAILWIND_LINKS, snaps)}
    assert styled == TAILWIND_LINKS
    for (url, online), s in zip(TAILWIND_LINKS.items(), snaps):
        assert (s.blocked == []) == online, (url, s.blocked)  # a refused stylesheet is listed
