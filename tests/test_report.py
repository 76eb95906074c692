"""`colbench report RUN_DIR`: the HTML report, opened in a real headless Chromium.

Runs are made by `colbench eval` itself (a scripted agent, the offline human, the process
sandbox; frontend with a tiny random CLIP), so the report reads real episode records.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import tiny_clip

from colbench.render import CHROMIUM_ARGS, chromium_path

COLBENCH = [sys.executable, "-m", "colbench.cli"]

TASKS = {
    "good": ("def f(x):\n    return x + 1\n", ["f(1)", "f(2)"]),
    "partial": ("def g(x):\n    return x * 2\n", ["g(1)", "g(2)", "g(3)"]),
    "xss": ("def h():\n    return 'safe'\n", ["h()"]),
    "lost": ("def k():\n    return 1\n", ["k()"]),  # the agent has no script for it: an error episode
}
SCRIPTS = {
    "good": ["I WANT TO ANSWER:\ndef f(x):\n    return x + 1\n"],
    # g(1) passes, g(2) is wrong (3 instead of 4), g(3) raises.
    "partial": ["I WANT TO ANSWER:\ndef g(x):\n    if x == 3:\n        raise ValueError('three is unlucky')\n"
                "    return x + 1\n"],
    "xss": ['Question <script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> ok?',
            "I WANT TO ANSWER:\ndef h():\n    return '</pre><script>window.__pwned = 3</script>'\n"],
}


def run(*args, timeout=300):
    return subprocess.run(COLBENCH + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def backend_run(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("backend")
    tasks = write_jsonl(d / "tasks.jsonl", [
        {"task_id": t, "problem_description": f"Write the function for {t}.", "ground_truth": ref,
         "test_cases": {f"t{i + 1}": c for i, c in enumerate(calls)}} for t, (ref, calls) in TASKS.items()])
    agent = write_jsonl(d / "agent.jsonl", [{"task_id": t, "messages": m} for t, m in SCRIPTS.items()])
    out = d / "run"
    proc = run("eval", "--protocol", "colbench", "--agent", f"scripted:{agent}", "--human", "offline", "--split", "backend",
               "--tasks", tasks, "--out", out, "--sandbox", "process")
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def backend_report(backend_run) -> Path:
    proc = run("report", backend_run)
    assert proc.returncode == 0, proc.stderr
    report = backend_run / "report.html"
    assert proc.stdout.strip() == f"report written to {report}"
    return report


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def open_report(browser):
    """Opens a report from disk; every request the page makes is recorded."""
    pages = []

    def go(path: Path):
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.requests = []
        page.on("request", lambda r: page.requests.append(r.url))
        page.goto(path.resolve().as_uri())
        pages.append(page)
        return page

    yield go
    for p in pages:
        p.close()


def column(page, header: str) -> list[str]:
    idx = page.eval_on_selector_all("#episodes thead th", "(ths, h) => ths.findIndex(t => t.textContent.trim() === h)",
                                    header)
    assert idx >= 0, f"no column {header!r}"
    return page.eval_on_selector_all("#episodes tbody tr", "(rows, i) => rows.map(r => r.children[i].textContent.trim())",
                                     idx)


def test_summary_shows_the_metrics_with_their_confidence_intervals(backend_report, open_report):
    summary = json.loads((backend_report.parent / "summary.json").read_text())
    page = open_report(backend_report)
    score, success = summary["score"], summary["success"]
    assert page.inner_text("#summary-score") == f"{score['mean']:.3f} [{score['ci95'][0]:.3f}, {score['ci95'][1]:.3f}]"
    assert page.inner_text("#summary-success") == \
        f"{success['mean']:.3f} [{success['ci95'][0]:.3f}, {success['ci95'][1]:.3f}]"
    assert "4 of 4 (3 ok, 1 errors)" in page.inner_text("#summary")
    assert page.locator("#partial").count() == 0  # a finished run is not called partial


def test_clicking_a_column_header_sorts_the_table(backend_report, open_report):
    page = open_report(backend_report)
    assert column(page, "task") == ["good", "lost", "partial", "xss"]
    page.click("#episodes th:text-is('score')")
    # Numbers by value; the error episode has no score and stays last both ways.
    assert column(page, "score") == ["0.000", "0.333", "1.000", "–"]
    assert column(page, "task") == ["xss", "partial", "good", "lost"]
    assert page.get_attribute("#episodes th:text-is('score')", "aria-sort") == "ascending"
    page.click("#episodes th:text-is('score')")
    assert column(page, "score") == ["1.000", "0.333", "0.000", "–"]
    assert page.get_attribute("#episodes th:text-is('score')", "aria-sort") == "descending"
    page.click("#episodes th:text-is('agent turns')")
    assert column(page, "agent turns")[0] == "0"
    page.click("#episodes th:text-is('task')")
    assert column(page, "task") == ["good", "lost", "partial", "xss"]


def test_a_transcript_opens_with_its_failing_tests(backend_report, open_report):
    page = open_report(backend_report)
    episode = page.locator("details.episode", has=page.locator("summary", has_text="partial #0"))
    assert not episode.locator(".transcript").is_visible()
    page.locator("#episodes tr", has_text="partial").locator("a", has_text="open").click()
    assert episode.evaluate("d => d.open")
    assert episode.locator(".transcript").is_visible()
    assert "raise ValueError('three is unlucky')" in episode.locator(".transcript").inner_text()
    rows = episode.locator("table.failing tbody tr")
    assert rows.count() == 2  # the passing g(1) is not listed
    wrong = [c.strip() for c in rows.nth(0).locator("td").all_inner_texts()]
    assert wrong[:5] == ["t2", "g(2)", "wrong", "4", "3"]  # name, call, status, expected, actual
    raised = [c.strip() for c in rows.nth(1).locator("td").all_inner_texts()]
    assert raised[1:3] == ["g(3)", "error"] and "ValueError: three is unlucky" in raised[5]


def test_an_error_episode_shows_its_cause_and_no_score(backend_report, open_report):
    page = open_report(backend_report)
    row = page.locator("#episodes tr", has_text="lost")
    assert [c.strip() for c in row.locator("td").all_inner_texts()][2:4] == ["error", "–"]
    row.locator("a", has_text="lost").click()
    episode = page.locator("details.episode[open]")
    assert "has no messages for task 'lost'" in episode.locator(".errorbox").inner_text()


def test_untrusted_transcript_text_is_shown_not_run(backend_report, open_report):
    page = open_report(backend_report)
    page.locator("#episodes tr", has_text="xss").locator("a", has_text="open").click()
    page.wait_for_timeout(200)  # an injected onerror handler would have fired by now
    assert page.evaluate("window.__pwned") is None
    episode = page.locator("details.episode[open]")
    assert '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">' in \
        episode.locator(".transcript").inner_text()
    assert "'</pre><script>window.__pwned = 3</script>'" in episode.locator("table.failing").inner_text()
    assert page.evaluate("document.scripts.length") == 1  # the report's own


def test_a_partial_run_is_reported_with_its_missing_episodes(backend_run, tmp_path, open_report):
    # A run killed after two episodes: no summary.json yet and a torn last line.
    partial = tmp_path / "partial"
    shutil.copytree(backend_run, partial)
    (partial / "summary.json").unlink()
    (partial / "report.html").unlink(missing_ok=True)
    lines = (partial / "episodes.jsonl").read_text().splitlines(keepends=True)
    kept = [l for l in lines if json.loads(l)["task_id"] in ("good", "partial")]
    (partial / "episodes.jsonl").write_text("".join(kept) + lines[0][:30])
    assert run("report", partial).returncode == 0
    page = open_report(partial / "report.html")
    assert page.inner_text("#partial") == "Partial run: 2 of 4 episodes finished, 2 missing."
    page.click("#missing summary")
    assert "xss #0, lost #0" in page.inner_text("#missing")
    assert column(page, "task") == ["good", "partial"]
    assert page.inner_text("#summary-score") == "0.667 [0.333, 1.000]"


def test_frontend_screenshots_load_from_disk_side_by_side(tmp_path, open_report):
    clip = tiny_clip(tmp_path / "clip")
    out = tmp_path / "run"
    proc = run("eval", "--protocol", "colbench", "--agent", "reference", "--human", "offline", "--split", "frontend", "--limit", "1",
               "--clip-model", clip, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert run("report", out).returncode == 0
    # The report travels with its run directory: links are relative to it.
    moved = tmp_path / "moved"
    out.rename(moved)
    page = open_report(moved / "report.html")
    page.locator("#episodes a", has_text="open").first.click()
    figures = page.locator("details.episode[open] .pages figure")
    assert figures.all_inner_texts() == ["agent's final page", "reference page"]
    for img in figures.locator("img").element_handles():
        img.scroll_into_view_if_needed()
        page.wait_for_function("i => i.complete", arg=img, timeout=10_000)
        assert img.evaluate("i => i.naturalWidth") == 1280  # the viewport width screenshots have
        assert not img.get_attribute("src").startswith(("data:", "/", "http"))
    assert all(u.startswith("file://") for u in page.requests)  # nothing from the network


def test_bad_run_dir_is_one_sentence_and_exit_2(tmp_path):
    for bad in (tmp_path / "nope", tmp_path):
        proc = run("report", bad)
        assert proc.returncode == 2
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "does not exist" in run("report", tmp_path / "nope").stderr
    assert "not a run directory" in run("report", tmp_path).stderr


def test_several_samples_show_best_of_k_and_pass_at_k(tmp_path, open_report):
    tasks = write_jsonl(tmp_path / "tasks.jsonl", [
        {"task_id": t, "problem_description": f"Write {t}.", "ground_truth": ref,
         "test_cases": {f"t{i + 1}": c for i, c in enumerate(calls)}}
        for t, (ref, calls) in TASKS.items() if t in ("good", "partial")])
    wrong = ["I WANT TO ANSWER:\ndef f(x):\n    return x\n"]
    agent = write_jsonl(tmp_path / "agent.jsonl", [
        {"task_id": "good", "sample": 0, "messages": SCRIPTS["good"]},
        {"task_id": "good", "sample": 1, "messages": wrong},
        {"task_id": "partial", "messages": SCRIPTS["partial"]}])
    out = tmp_path / "run"
    proc = run("eval", "--protocol", "colbench", "--agent", f"scripted:{agent}", "--human", "offline", "--split", "backend",
               "--tasks", tasks, "--out", out, "--sandbox", "process", "--samples", "2")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["best_of_k_success"]["mean"] == 0.5 and summary["pass@2"]["mean"] == 0.5
    assert summary["pass@1"]["mean"] == 0.25
    assert "best-of-2 success 0.500" in proc.stdout and "pass@2 0.500" in proc.stdout
    page = open_report(out / "report.html")
    assert page.inner_text("#summary-best-success").startswith("0.500 [")
    assert [t.startswith("0.") for t in page.locator(".summary-pass").all_inner_texts()] == [True, True]
    assert "resample tasks" in page.inner_text("#summary")
