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
    # The run has an error episode on purpose ("lost"); eval may exit 1 for it, but it finishes the run.
    assert proc.returncode in (0, 1) and (out / "summary.json").is_file(), proc.stderr
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

    def go(path: Path, clock: bool = False):
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.requests = []
        page.on("request", lambda r: page.requests.append(r.url))
        if clock:  # timers run when the test says (page.clock.run_for)
            page.clock.install()
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


# --- Filters and the grouped view ------------------------------------------------------------

def visible_tasks(page, selector: str) -> list[str]:
    """The task ids of the rows (or transcripts) matching `selector` that the page shows."""
    return page.eval_on_selector_all(selector, "els => els.filter(e => e.offsetParent !== null)"
                                               ".map(e => e.dataset.task)")


def test_filters_narrow_the_table_and_the_transcripts(backend_report, open_report):
    page = open_report(backend_report)
    assert page.inner_text("#filter-count") == "4 of 4 episodes shown"
    page.select_option("#filter-status", "error")
    assert visible_tasks(page, "#episodes tbody tr") == ["lost"]
    assert visible_tasks(page, "details.episode") == ["lost"]
    assert page.inner_text("#filter-count") == "1 of 4 episodes shown"
    page.select_option("#filter-status", "")
    # Scores: good 1.0, partial 0.333, xss 0.0; lost has none and is outside every range.
    page.fill("#filter-min", "0.3")
    assert visible_tasks(page, "#episodes tbody tr") == ["good", "partial"]
    page.fill("#filter-max", "0.5")
    assert visible_tasks(page, "#episodes tbody tr") == ["partial"]
    page.fill("#filter-min", "")
    assert visible_tasks(page, "#episodes tbody tr") == ["partial", "xss"]
    page.fill("#filter-max", "")
    page.fill("#filter-task", "SS")  # a substring, any case
    assert visible_tasks(page, "#episodes tbody tr") == ["xss"]
    assert visible_tasks(page, "details.episode") == ["xss"]
    page.click("#filter-clear")
    assert visible_tasks(page, "#episodes tbody tr") == ["good", "lost", "partial", "xss"]
    assert page.input_value("#filter-task") == ""


@pytest.fixture(scope="module")
def samples_report(tmp_path_factory) -> Path:
    """Two samples per task: good solved once of two, partial twice partly, lost an error both times."""
    d = tmp_path_factory.mktemp("samples")
    tasks = write_jsonl(d / "tasks.jsonl", [
        {"task_id": t, "problem_description": f"Write {t}.", "ground_truth": ref,
         "test_cases": {f"t{i + 1}": c for i, c in enumerate(calls)}}
        for t, (ref, calls) in TASKS.items() if t in ("good", "partial", "lost")])
    agent = write_jsonl(d / "agent.jsonl", [
        {"task_id": "good", "sample": 0, "messages": SCRIPTS["good"]},
        {"task_id": "good", "sample": 1, "messages": ["I WANT TO ANSWER:\ndef f(x):\n    return x\n"]},
        {"task_id": "partial", "sample": 0, "messages": SCRIPTS["partial"]},
        {"task_id": "partial", "sample": 1, "messages": SCRIPTS["partial"]}])
    out = d / "run"
    proc = run("eval", "--protocol", "colbench", "--agent", f"scripted:{agent}", "--human", "offline", "--split",
               "backend", "--tasks", tasks, "--out", out, "--sandbox", "process", "--samples", "2")
    assert (out / "summary.json").is_file(), proc.stderr
    return out / "report.html"


def test_the_grouped_view_lists_each_tasks_samples_with_its_mean(samples_report, open_report):
    page = open_report(samples_report)
    assert page.locator("#episodes").is_visible() and not page.locator("#tasks").is_visible()
    page.check("input[name=view][value=tasks]")
    assert page.locator("#tasks").is_visible() and not page.locator("#episodes").is_visible()
    groups = page.locator("#tasks tbody.task-group")
    assert [g.get_attribute("data-task") for g in groups.all()] == ["good", "lost", "partial"]
    good = page.locator("#tasks tbody[data-task=good]")
    assert good.locator("tr[data-status]").count() == 2  # every sample of the task, together
    assert good.locator(".group-mean").inner_text() == "0.500"  # sample 0 solves it, sample 1 passes no test
    assert good.locator(".group-success").inner_text() == "0.500"
    assert page.locator("#tasks tbody[data-task=partial] .group-mean").inner_text() == "0.333"
    assert page.locator("#tasks tbody[data-task=lost] .group-mean").inner_text() == "–"  # errors are not scored
    # The filters work here too; a task none of whose samples is shown disappears.
    page.fill("#filter-min", "0.9")
    assert visible_tasks(page, "#tasks tr[data-status]") == ["good"]
    assert [g.get_attribute("data-task") for g in groups.all() if g.is_visible()] == ["good"]
    # Opening a sample from the group unfolds its transcript.
    good.locator("tr[data-status]", has_text="ok").first.locator("a", has_text="open").click()
    assert page.locator("details.episode[open] > summary").inner_text().startswith("good #0")


# --- A run in progress ------------------------------------------------------------------------

def test_a_report_written_while_eval_holds_the_run_reloads_itself_until_it_ends(backend_run, tmp_path, open_report):
    from colbench.report import REFRESH_SECONDS
    from colbench.runs import RunDir

    going = tmp_path / "going"
    shutil.copytree(backend_run, going)
    (going / "summary.json").unlink()
    with RunDir(going).lock():  # as `colbench eval` holds it for the whole run
        assert run("report", going).returncode == 0
    page = open_report(going / "report.html", clock=True)
    assert "Run in progress: 4 of 4 episodes finished" in page.inner_text("#in-progress")
    assert page.locator("#partial").count() == 0
    page.evaluate("window.__before_reload = 1")
    assert run("report", going).returncode == 0  # the run ended: the last report is final
    with page.expect_navigation():  # the page reloads itself
        page.clock.run_for(REFRESH_SECONDS * 1000 + 500)
    page.wait_for_load_state()
    assert page.evaluate("window.__before_reload") is None
    assert page.locator("#in-progress").count() == 0 and page.get_attribute("body", "data-refresh") is None
    page.evaluate("window.__before_reload = 1")
    page.clock.run_for(5 * REFRESH_SECONDS * 1000)
    assert page.evaluate("window.__before_reload") == 1  # a finished run's page stays put


def test_a_stopped_run_is_partial_not_in_progress(backend_run, tmp_path, open_report):
    # Killed mid-run: no summary.json, and no eval holds the run any more.
    stopped = tmp_path / "stopped"
    shutil.copytree(backend_run, stopped)
    (stopped / "summary.json").unlink()
    lines = (stopped / "episodes.jsonl").read_text().splitlines(keepends=True)
    (stopped / "episodes.jsonl").write_text("".join(lines[:2]))
    assert run("report", stopped).returncode == 0
    page = open_report(stopped / "report.html")
    assert page.locator("#in-progress").count() == 0 and page.get_attribute("body", "data-refresh") is None
    assert page.inner_text("#partial").startswith("Partial run: 2 of 4")


def test_eval_keeps_the_report_current_while_it_runs(backend_run, tmp_path):
    from colbench.report import live_report
    from colbench.runs import RunDir

    going = tmp_path / "going"
    shutil.copytree(backend_run, going)
    (going / "report.html").unlink()
    seen = []
    update = live_report(going, seen.append, min_interval=3600)
    with RunDir(going).lock():
        update("episode 1")
        assert 'id="in-progress"' in (going / "report.html").read_text()
        (going / "report.html").unlink()
        update("episode 2")  # written at most every min_interval seconds
        assert not (going / "report.html").exists()
    assert seen == ["episode 1", "episode 2"]  # the progress bar still gets every update


# --- Model usage ------------------------------------------------------------------------------

def with_usage(backend_run: Path, dest: Path, *, in_summary: bool) -> Path:
    """The run with per-turn and per-episode usage in its ok episodes (and totals in summary.json)."""
    shutil.copytree(backend_run, dest)
    records = [json.loads(line) for line in (dest / "episodes.jsonl").read_text().splitlines()]
    for r in records:
        if r["status"] == "ok":
            prompt = {"good": 100, "partial": 200, "xss": 300}[r["task_id"]]
            for t in r["turns"]:
                if t["role"] == "agent":
                    t["usage"] = {"calls": 1, "prompt_tokens": prompt, "completion_tokens": 20, "seconds": 0.5}
            r["usage"] = {"agent": {"calls": 2, "prompt_tokens": prompt, "completion_tokens": 20,
                                    "seconds": 0.5, "cost": 0.25},
                          "human": {"calls": 1, "prompt_tokens": 300, "completion_tokens": 40}}
    (dest / "episodes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    if in_summary:
        summary = json.loads((dest / "summary.json").read_text())
        summary["usage"] = {"agent": {"calls": 6, "prompt_tokens": 12345, "completion_tokens": 678, "seconds": 3.0,
                                      "cost": 0.75},
                            "human": {"calls": 3, "prompt_tokens": 900, "completion_tokens": 120}}
        (dest / "summary.json").write_text(json.dumps(summary))
    assert run("report", dest).returncode == 0
    return dest / "report.html"


def test_model_usage_shows_in_the_header_per_episode_and_per_turn(backend_run, backend_report, tmp_path,
                                                                  open_report):
    page = open_report(with_usage(backend_run, tmp_path / "usage", in_summary=True))
    assert page.inner_text("#summary-usage").splitlines() == [
        "agent: 6 calls, 12,345 prompt + 678 completion tokens, 3.0 s, cost 0.7500",
        "human: 3 calls, 900 prompt + 120 completion tokens"]
    assert column(page, "task") == ["good", "lost", "partial", "xss"]
    assert column(page, "tokens") == ["460", "–", "560", "660"]  # agent + human, prompt and completion
    assert column(page, "cost") == ["0.2500", "–", "0.2500", "0.2500"]
    page.locator("#episodes tr", has_text="partial").locator("a", has_text="open").click()
    episode = page.locator("details.episode[open]")
    assert episode.locator(".episode-usage").inner_text() == (
        "Model usage: agent: 2 calls, 200 prompt + 20 completion tokens, 0.5 s, cost 0.2500; "
        "human: 1 call, 300 prompt + 40 completion tokens.")
    assert episode.locator(".turn-usage").first.inner_text() == "(1 call, 200 prompt + 20 completion tokens, 0.5 s)"

    # Without totals in summary.json (a run still going), the episodes' are summed.
    page = open_report(with_usage(backend_run, tmp_path / "summed", in_summary=False))
    assert "summed over the episodes" in page.inner_text("#summary")
    assert page.inner_text("#summary-usage").splitlines()[0] == \
        "agent: 6 calls, 600 prompt + 60 completion tokens, 1.5 s, cost 0.7500"

    # A run whose models report no usage shows none.
    page = open_report(backend_report)
    assert page.locator("#summary-usage").count() == 0 and page.locator("#episodes th:text-is('tokens')").count() == 0


# --- Comparing two runs -----------------------------------------------------------------------

def compare_runs(tmp_path) -> tuple[Path, Path, list[str]]:
    """Run A on tasks 0-27, run B on tasks 2-29 (one of them only errored); B solves other tasks than A."""
    from test_leaderboard import make_run, write_official

    from colbench.tasks import load_tasks

    tasks_file = write_official(tmp_path / "data", "backend", n=30)
    ids = [t.task_id for t in load_tasks(tasks_file, "backend").tasks]
    a = make_run(tmp_path / "run-a", split="backend", tasks_file=tasks_file, agent="agent-a",
                 scores={t: [1.0 if i % 3 else 0.5] for i, t in enumerate(ids[:28])})
    b = make_run(tmp_path / "run-b", split="backend", tasks_file=tasks_file, agent="agent-b",
                 scores={t: [1.0 if i % 4 else 0.3] for i, t in enumerate(ids[2:], start=2)}, errors={(ids[5], 0)})
    return a, b, ids


def test_two_runs_are_compared_task_by_task_with_the_paired_statistics_of_regress(tmp_path, open_report):
    import re

    a, b, ids = compare_runs(tmp_path)
    proc = run("report", a, b)
    assert proc.returncode == 0, proc.stderr
    page_path = b / "compare-run-a.html"
    assert proc.stdout.strip() == f"comparison written to {page_path}"
    page = open_report(page_path)
    assert page.inner_text("#only-a") == "Only in A (2): 0, 1"
    assert page.inner_text("#only-b") == "Only in B (2): 28, 29"  # listed, not compared
    rows = {r.get_attribute("data-task"): [c.strip() for c in r.locator("td").all_inner_texts()]
            for r in page.locator("#per-task tbody tr").all()}
    assert sorted(rows, key=int) == ids[2:28]
    for i in range(2, 28):
        a_score, b_score = (1.0 if i % 3 else 0.5), (1.0 if i % 4 else 0.3)
        if i == 5:
            assert rows["5"][1:4] == ["1.000", "–", "–"]  # only errored episodes in B: not compared
            continue
        assert rows[str(i)][1:4] == [f"{a_score:.3f}", f"{b_score:.3f}", f"{b_score - a_score:+.3f}"]
    assert "run B has 1 task(s) with only errored episodes" in page.inner_text("body")

    # The paired statistics are regress's (A as the baseline, B as the candidate), read as B - A.
    for metric in ("success", "score"):
        out = run("regress", "--baseline", a, "--candidate", b, "--metric", metric, "--max-drop", "0",
                  "--subset").stdout
        drop, lo, hi = re.search(r"Drop \(baseline - candidate\): (\S+), 95% CI \[(\S+), (\S+)\]", out).groups()
        tasks = re.search(r"mean \w+ on the (\d+) shared tasks \| (\S+) \| (\S+) \|", out).groups()
        row = page.locator(f"#paired-{metric}")
        assert [row.locator(f".paired-{k}").inner_text() for k in ("tasks", "a", "b")] == list(tasks)
        assert row.locator(".paired-change").inner_text() == \
            f"{-float(drop):+.4f} [{-float(hi):+.4f}, {-float(lo):+.4f}]"
        mcnemar = re.search(r"Exact McNemar test: (\d+) task\(s\) lost, (\d+) gained; one-sided p = (\S+)", out)
        if metric == "success":
            lost, gained, p = mcnemar.groups()
            assert row.locator(".paired-mcnemar").inner_text().startswith(
                f"{lost} task(s) lost, {gained} gained; one-sided p = {p} for a drop")
        else:
            assert mcnemar is None and row.locator(".paired-mcnemar").inner_text() == "not binary"
    page.click("#per-task th:text-is('B − A')")  # sorts: the largest losses first
    first = page.locator("#per-task tbody tr").first.locator("td").nth(3).inner_text()
    assert first == "-0.700"


def test_a_bad_second_run_is_one_sentence(tmp_path):
    from test_leaderboard import make_run, write_official

    a, b, _ = compare_runs(tmp_path)
    front = make_run(tmp_path / "front", split="frontend", tasks_file=write_official(tmp_path / "fdata", "frontend", 3),
                     scores={"0": [0.5]})
    (tmp_path / "not-a-run").mkdir()
    other = tmp_path / "other-tasks"
    make_run(other, split="backend", tasks_file=write_official(tmp_path / "odata", "backend", n=4), scores={"0": [1.0]})
    for second, fragment in ((tmp_path / "nope", "run B"), (tmp_path / "not-a-run", "is not a run directory"),
                             (front, "is a backend run and run B"), (a, "the same directory"),
                             (other, "different task files")):
        proc = run("report", a, second)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert fragment in proc.stderr, proc.stderr
    assert "does not exist" in run("report", a, tmp_path / "nope").stderr
    assert not list(b.glob("compare-*.html"))
