"""Leaderboard: `colbench submit` takes only complete, untouched runs on the official test set;
`colbench leaderboard build` re-checks every submission and writes the board and its page."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from colbench.cli import main
from colbench.leaderboard import SUBMISSION_SCHEMA, SubmissionError, submission_metrics, validate_submission
from colbench.runs import EpisodeWriter, RunDir
from colbench.stats import summarize
from colbench.tasks import OFFICIAL_CONTENT_SHA256, OFFICIAL_LIMITS, content_sha256, load_tasks

REPO = Path(__file__).resolve().parent.parent
TESTS_PER_TASK = 10


# --- Builders (also used by test_regress.py) ---------------------------------------------

def write_official(data_dir: Path, split: str = "backend", n: int = 12) -> Path:
    """A small stand-in for the official test file, where COLBENCH_DATA_DIR points."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"{split}_test.jsonl"
    with path.open("w") as f:
        for i in range(n):
            if split == "backend":
                line = {"problem_description": f"Write f{i}(x).", "ground_truth": f"def f{i}(x):\n    return x + {i}\n",
                        "test_cases": {f"test{k}": f"f{i}({k})" for k in range(TESTS_PER_TASK)}}
            else:
                line = {"problem_description": f"A page {i}.", "ground_truth": f"<html><body><h1>Page {i}</h1></body></html>"}
            f.write(json.dumps(line) + "\n")
    return path


def make_run(path: Path, *, split: str, tasks_file: Path, scores: dict[str, list[float]], agent: str = "my-agent",
             human: str = "llama-3.1-70b-instruct", errors: set[tuple[str, int]] = frozenset(), summary: bool = True,
             protocol: str | None = "sweet_rl",
             tasks_sha256: str | None = None, agent_model: dict | None | str = "default") -> Path:
    """A run directory as `colbench eval` writes it, with the given per-sample scores (backend
    scores are multiples of 1/10: that many of the task's 10 tests pass)."""
    taskset = load_tasks(tasks_file, split)
    samples = max(len(v) for v in scores.values())
    run = RunDir(path)
    run.start({"agent": agent, "human": human, "split": split, "tasks": "colbench", "out": str(path), "limit": None,
               "samples": samples, "concurrency": 8, "seed": 0, "sandbox": "process",
               **({"protocol": protocol, "compat": "sweet_rl" if protocol == "sweet_rl" else None} if protocol else {}),
               "timeout": 1.0, "clip_model": None, "allow_network": False, "tasks_path": str(taskset.path),
               "tasks_sha256": tasks_sha256 or taskset.sha256, "harness_version": "0.1.0", "agent_name": agent,
               "human_name": human,
               "agent_model": {"name": agent, "model": f"org/{agent}", "base_url": "http://x", "temperature": 0.0,
                               "max_tokens": 2048, "top_p": None} if agent_model == "default" else agent_model,
               "human_model": None, "started": "2025-01-01T00:00:00+00:00"})
    writer = EpisodeWriter(run.episodes_path)
    for task_id, per_sample in scores.items():
        for sample, score in enumerate(per_sample):
            record = {"task_id": task_id, "sample": sample, "status": "ok", "error": None,
                      "turns": [{"role": "agent", "content": "I WANT TO ANSWER: ..."}], "answer": "..."}
            if (task_id, sample) in errors:
                record.update(status="error", error="agent endpoint unreachable (HTTP 503)", score=None, success=None)
            elif split == "backend":
                passed = round(score * TESTS_PER_TASK)
                record.update(score=passed / TESTS_PER_TASK, success=passed == TESTS_PER_TASK, passed=passed,
                              total=TESTS_PER_TASK,
                              tests=[{"name": f"test{k}", "status": "pass" if k < passed else "wrong"}
                                     for k in range(TESTS_PER_TASK)])
            else:
                record.update(score=score, success=None)
            writer.append(record)
    writer.close()
    if summary:
        (path / "summary.json").write_text(json.dumps(summarize(run.frame())))
    return path


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_sentence(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def as_official(monkeypatch, path: Path, split: str) -> Path:
    """The stand-in is the official set here: its task count and content hash are."""
    n = sum(1 for line in path.read_text().splitlines() if line.strip())
    monkeypatch.setitem(OFFICIAL_LIMITS, split, n)
    monkeypatch.setitem(OFFICIAL_CONTENT_SHA256, split, content_sha256(path, n))
    return path


@pytest.fixture()
def official(tmp_path, monkeypatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("COLBENCH_DATA_DIR", str(data))
    as_official(monkeypatch, write_official(data, "frontend", n=6), "frontend")
    return as_official(monkeypatch, write_official(data, "backend", n=12), "backend")


def backend_scores(official: Path, value=lambda i: (i % 11) / 10) -> dict[str, list[float]]:
    return {t.task_id: [value(i)] for i, t in enumerate(load_tasks(official, "backend").tasks)}


@pytest.fixture()
def board(tmp_path) -> Path:
    root = tmp_path / "leaderboard"
    root.mkdir()
    # The paper's rows with their numbers blanked: these tests are about ranking and rendering, not the
    # transcribed values (test_the_committed_board_is_what_build_makes covers the real file).
    doc = json.loads((REPO / "leaderboard" / "reported.json").read_text())
    for row in doc["rows"]:
        for field in ("backend_pass_rate", "backend_success_rate", "frontend_win_rate", "frontend_cosine"):
            row[field] = None
    (root / "reported.json").write_text(json.dumps(doc))
    return root


# --- submit --------------------------------------------------------------------------------

def test_a_complete_official_run_is_submitted_with_scores_and_recomputed_metrics(tmp_path, official, board, capsys):
    scores = backend_scores(official)
    run = make_run(tmp_path / "run", split="backend", tasks_file=official, scores=scores, agent="sweet-llama8b")
    code, out, err = cli(capsys, "submit", run, "--dir", board)
    assert code == 0, err
    sub = json.loads((board / "submissions" / "sweet-llama8b-backend.json").read_text())
    ids = [t.task_id for t in load_tasks(official, "backend").tasks]
    assert list(sub["per_task"]) == ids
    assert [sub["per_task"][t]["score"] for t in ids] == [s[0] for s in scores.values()]
    assert sub["metrics"]["score"]["mean"] == pytest.approx(sum(s[0] for s in scores.values()) / len(ids))
    assert sub["metrics"]["success"]["mean"] == pytest.approx(1 / 12)  # only task 10 has all tests passing
    lo, hi = sub["metrics"]["score"]["ci95"]
    assert lo < sub["metrics"]["score"]["mean"] < hi
    assert sub["tasks"] == {"source": "colbench", "sha256": load_tasks("colbench", "backend").sha256,
                            "content_sha256": content_sha256(official, 12), "count": 12}
    assert sub["agent"]["model"] == "org/sweet-llama8b" and sub["agent"]["sampling"]["temperature"] == 0.0
    assert "base_url" not in json.dumps(sub["agent"])  # private endpoints stay private
    assert sub["human"]["spec"] == "llama-3.1-70b-instruct" and sub["harness"]["version"] == "0.1.0"
    assert sub["harness"]["protocol"] == "sweet_rl"
    assert "sweet-llama8b-backend" in out

    # The same name again is refused rather than silently replaced.
    code, _, err = cli(capsys, "submit", run, "--dir", board)
    assert_one_sentence(code, err, "already exists", "--force")


def test_an_entry_point_adapter_is_recorded_with_its_package_and_version(tmp_path, official, board, capsys):
    from importlib.metadata import entry_points

    if not any(ep.name == "ask-once-example" for ep in entry_points(group="colbench.agents")):
        pytest.skip("the example adapter (agents/example_adapter) is not installed")
    run = make_run(tmp_path / "run", split="backend", tasks_file=official, scores=backend_scores(official),
                   agent="ask-once-example", agent_model=None)
    assert cli(capsys, "submit", run, "--dir", board)[0] == 0
    sub = json.loads((board / "submissions" / "ask-once-example-backend.json").read_text())
    assert sub["agent"]["adapter"] == {"kind": "entry_point", "package": "colbench-example-agent", "version": "0.1.0"}
    assert sub["human"]["adapter"] == {"kind": "builtin"}


def test_a_partial_task_set_is_refused(tmp_path, official, board, capsys):
    scores = backend_scores(official)
    for task_id in list(scores)[-3:]:
        del scores[task_id]
    run = make_run(tmp_path / "run", split="backend", tasks_file=official, scores=scores)
    code, _, err = cli(capsys, "submit", run, "--dir", board)
    assert_one_sentence(code, err, "9 of 12 tasks", "full official test set")
    assert not (board / "submissions").exists()


@pytest.mark.parametrize("protocol", ["colbench", None])
def test_a_run_under_our_own_protocol_is_not_ranked_beside_the_paper(tmp_path, official, board, capsys, protocol):
    run = make_run(tmp_path / "run", split="backend", tasks_file=official, scores=backend_scores(official),
                   protocol=protocol)  # None: a run.json from before protocols, which were colbench's
    code, _, err = cli(capsys, "submit", run, "--dir", board)
    assert_one_sentence(code, err, "under the colbench protocol", "--protocol sweet_rl")
    assert not (board / "submissions").exists()


def test_a_run_with_the_offline_human_is_not_ranked(tmp_path, official, board, capsys):
    run = make_run(tmp_path / "run", split="backend", tasks_file=official, scores=backend_scores(official),
                   human="offline")
    code, _, err = cli(capsys, "submit", run, "--dir", board)
    assert_one_sentence(code, err, "offline human", "LLM human")
    assert not (board / "submissions").exists()


@pytest.mark.parametrize("edit", ["protocol", "human"])
def test_a_submission_edited_to_another_protocol_or_human_is_refused_at_build(tmp_path, official, board, capsys,
                                                                              edit):
    path = submitted(tmp_path, official, board, capsys, "my-agent", lambda i: 0.5)
    sub = json.loads(path.read_text())
    if edit == "protocol":
        sub["harness"]["protocol"] = "colbench"
    else:
        sub["human"]["spec"] = "offline"
    path.write_text(json.dumps(sub))
    code, _, err = cli(capsys, "leaderboard", "build", "--dir", board)
    assert code == 2 and ("protocol" in err if edit == "protocol" else "offline human" in err), err
    assert not (board / "README.md").exists()


def test_a_run_on_a_task_file_changed_after_the_run_is_refused(tmp_path, official, board, capsys):
    run = make_run(tmp_path / "run", split="backend", tasks_file=official, scores=backend_scores(official))
    lines = official.read_text().splitlines()
    lines[3] = lines[3].replace("x + 3", "x + 4")  # one reference changed after the run
    official.write_text("\n".join(lines) + "\n")
    code, _, err = cli(capsys, "submit", run, "--dir", board)
    assert_one_sentence(code, err, "has changed since", "--tasks colbench")


def test_a_run_on_a_task_file_that_is_not_the_official_set_is_refused(tmp_path, official, board, capsys):
    lines = official.read_text().splitlines()
    lines[3] = lines[3].replace("x + 3", "x + 4")  # one reference differs
    other = tmp_path / "mine" / "backend_test.jsonl"
    other.parent.mkdir()
    other.write_text("\n".join(lines) + "\n")
    run = make_run(tmp_path / "run", split="backend", tasks_file=other, scores=backend_scores(other))
    code, _, err = cli(capsys, "submit", run, "--dir", board)
    assert_one_sentence(code, err, "not the official ColBench backend test set", "hash differently",
                        "--tasks colbench")


def test_a_run_with_errored_episodes_is_refused(tmp_path, official, board, capsys):
    scores = backend_scores(official)
    run = make_run(tmp_path / "run", split="backend", tasks_file=official, scores=scores,
                   errors={(list(scores)[4], 0)})
    code, _, err = cli(capsys, "submit", run, "--dir", board)
    assert_one_sentence(code, err, "1 episode(s) that ended in an error", "HTTP 503", "--resume")


def test_edited_episode_scores_are_refused(tmp_path, official, board, capsys):
    run = make_run(tmp_path / "run", split="backend", tasks_file=official, scores=backend_scores(official))
    records = [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines()]
    records[2]["score"], records[2]["success"] = 1.0, True  # its tests still say 2 of 10 passed
    (run / "episodes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    code, _, err = cli(capsys, "submit", run, "--dir", board)
    assert_one_sentence(code, err, "2 of 10 tests passed", "edited")

    # Edited consistently, tests and all: summary.json (written when the run ended) disagrees.
    records[2]["tests"] = [{"name": f"test{k}", "status": "pass"} for k in range(TESTS_PER_TASK)]
    records[2]["passed"] = TESTS_PER_TASK
    (run / "episodes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    code, _, err = cli(capsys, "submit", run, "--dir", board)
    assert_one_sentence(code, err, "summary.json lists mean score")


def test_a_run_that_never_finished_is_refused(tmp_path, official, board, capsys):
    run = make_run(tmp_path / "run", split="backend", tasks_file=official, scores=backend_scores(official),
                   summary=False)
    code, _, err = cli(capsys, "submit", run, "--dir", board)
    assert_one_sentence(code, err, "no readable summary.json")


def test_the_official_set_is_known_by_content_under_any_name_and_formatting(tmp_path, monkeypatch, board, capsys):
    official = as_official(monkeypatch, write_official(tmp_path / "published", "backend", n=12), "backend")
    # A copy elsewhere, reformatted, with task ids and more tasks after the official ones.
    copy = tmp_path / "elsewhere" / "my_copy.jsonl"
    copy.parent.mkdir()
    tasks = [json.loads(line) for line in official.read_text().splitlines()]
    extra = {**tasks[0], "problem_description": "Not an official task."}
    copy.write_text("".join(json.dumps({"task_id": f"b{i}", **dict(reversed(list(t.items())))}, indent=1)
                            .replace("\n", "") + "\n" for i, t in enumerate(tasks + [extra])))
    ids = [t.task_id for t in load_tasks(copy, "backend").tasks]
    run = make_run(tmp_path / "run", split="backend", tasks_file=copy, scores={t: [0.5] for t in ids})
    monkeypatch.setenv("COLBENCH_DATA_DIR", str(tmp_path / "empty"))  # no local official copy needed
    code, out, err = cli(capsys, "submit", run, "--dir", board)
    assert code == 0, err
    sub = json.loads((board / "submissions" / "my-agent-backend.json").read_text())
    assert sub["tasks"]["count"] == 12 and sorted(sub["per_task"]) == sorted(ids[:12])  # the extra task left out
    assert sub["tasks"]["content_sha256"] == OFFICIAL_CONTENT_SHA256["backend"]
    code, _, err = cli(capsys, "leaderboard", "build", "--dir", board)
    assert code == 0, err


# --- leaderboard build -------------------------------------------------------------------

def submitted(tmp_path, official, board, capsys, agent: str, value, split: str = "backend") -> Path:
    tasks = official if split == "backend" else official.parent / "frontend_test.jsonl"
    ids = [t.task_id for t in load_tasks(tasks, split).tasks]
    run = make_run(tmp_path / f"run-{agent}-{split}", split=split, tasks_file=tasks, agent=agent,
                   scores={t: [value(i)] for i, t in enumerate(ids)})
    code, _, err = cli(capsys, "submit", run, "--dir", board)
    assert code == 0, err
    return board / "submissions" / f"{agent}-{split}.json"


def board_rows(readme: str, section: str) -> list[str]:
    part = readme.split(f"## {section}")[1].split("\n## ")[0]
    return [line for line in part.splitlines() if line.startswith("| ") and not line.startswith("| #")]


def test_the_board_ranks_entries_and_a_reproduced_entry_replaces_the_papers_row(tmp_path, official, board, capsys):
    submitted(tmp_path, official, board, capsys, "sweet-llama8b", lambda i: 1.0 if i < 6 else 0.5)
    submitted(tmp_path, official, board, capsys, "llama-3.1-8b-instruct", lambda i: 1.0 if i < 3 else 0.2)
    code, out, err = cli(capsys, "leaderboard", "build", "--dir", board)
    assert code == 0, err
    readme = (board / "README.md").read_text()
    rows = board_rows(readme, "Backend programming")
    assert rows[0].startswith("| 1 | sweet-llama8b |") and "| 50.0 [" in rows[0]  # success 6 of 12
    assert rows[1].startswith("| 2 | llama-3.1-8b-instruct |") and "| 25.0 [" in rows[1]
    reported = [r for r in rows if "reported, not reproduced here" in r]
    # The paper's rows for the two reproduced agents are gone from the backend table only.
    assert [r.split(" | ")[1] for r in reported] == ["GPT-4o", "o1-mini", "Llama-3.1-70B-Instruct",
                                                 "Llama-3.1-8B + Rejection Fine-Tuning", "Llama-3.1-8B + Multi-Turn DPO"]
    assert all("| – | – |" in r for r in reported)  # numbers not transcribed yet render as a dash
    assert any("Llama-3.1-8B + SWEET-RL" in r for r in board_rows(readme, "Frontend design"))
    html = (board / "site" / "index.html").read_text()
    assert "sweet-llama8b" in html and "<svg" in html and "reported, not reproduced here" in html
    assert json.loads((board / "submission.schema.json").read_text()) == SUBMISSION_SCHEMA


def test_frontend_win_rate_is_against_the_gpt4o_entry(tmp_path, official, board, capsys):
    submitted(tmp_path, official, board, capsys, "gpt-4o", lambda i: 0.80, split="frontend")
    # Better on 3 of 6 pages, tied on 1, worse on 2: (3 + 0.5) / 6.
    better = [0.9, 0.9, 0.9, 0.8, 0.7, 0.7]
    submitted(tmp_path, official, board, capsys, "sweet-llama8b", lambda i: better[i], split="frontend")
    code, _, err = cli(capsys, "leaderboard", "build", "--dir", board)
    assert code == 0, err
    rows = board_rows((board / "README.md").read_text(), "Frontend design")
    sweet = next(r for r in rows if "| sweet-llama8b |" in r)
    gpt = next(r for r in rows if "| gpt-4o |" in r)
    assert "| 58.3 [" in sweet and "| 50.0 [50.0, 50.0] |" in gpt
    assert not any("GPT-4o" in r and "reported" in r for r in rows)


@pytest.mark.parametrize("edit", ["per-task score", "metric", "CI"])
def test_a_submission_whose_numbers_were_edited_is_refused(tmp_path, official, board, capsys, edit):
    path = submitted(tmp_path, official, board, capsys, "my-agent", lambda i: (i % 11) / 10)
    sub = json.loads(path.read_text())
    if edit == "per-task score":
        sub["per_task"]["0"]["score"] = 0.9
    elif edit == "metric":
        sub["metrics"]["success"]["mean"] = 0.9
    else:
        sub["metrics"]["score"]["ci95"][0] -= 0.01
    path.write_text(json.dumps(sub))
    code, _, err = cli(capsys, "leaderboard", "build", "--dir", board)
    assert_one_sentence(code, err, f"submission {path}", "metrics do not match its per-task scores")
    assert not (board / "README.md").exists()


def test_a_consistent_but_partial_submission_is_refused(tmp_path, official, board, capsys):
    path = submitted(tmp_path, official, board, capsys, "my-agent", lambda i: (i % 11) / 10)
    sub = json.loads(path.read_text())
    for task_id in ("9", "10", "11"):  # drop hard tasks, then make every number agree again
        del sub["per_task"][task_id]
    sub["tasks"]["count"] = sub["run"]["episodes"] = 9
    sub["metrics"] = submission_metrics(sub["per_task"], "backend", 1)
    path.write_text(json.dumps(sub))
    code, _, err = cli(capsys, "leaderboard", "build", "--dir", board)
    assert_one_sentence(code, err, "was not run on the official backend test set", "9 tasks", "12 tasks")


def test_a_submission_breaking_the_schema_is_refused(tmp_path, official, board, capsys):
    path = submitted(tmp_path, official, board, capsys, "my-agent", lambda i: 0.5)
    sub = json.loads(path.read_text())
    sub["per_task"]["3"]["score"] = "0.5"
    path.write_text(json.dumps(sub))
    code, _, err = cli(capsys, "leaderboard", "build", "--dir", board)
    assert_one_sentence(code, err, "per_task.3.score must be number")


def test_agent_names_cannot_inject_markup(tmp_path, official, board, capsys):
    # Submission names are restricted to [A-Za-z0-9._-]; the display name comes from run.json.
    run = make_run(tmp_path / "run", split="backend", tasks_file=official, scores=backend_scores(official),
                   agent="<img src=q onerror=alert(1)>|x")
    code, _, err = cli(capsys, "submit", run, "--dir", board, "--name", "evil")
    assert code == 0, err
    assert cli(capsys, "leaderboard", "build", "--dir", board)[0] == 0
    html = (board / "site" / "index.html").read_text()
    assert "<img" not in html and "&lt;img src=q onerror=alert(1)&gt;" in html
    assert "\\|x" in (board / "README.md").read_text()  # a | cannot break the Markdown table


def test_the_committed_board_is_what_build_makes(tmp_path, monkeypatch, capsys):
    """leaderboard/README.md and site/ follow reported.json and the submissions: rebuild after editing them."""
    monkeypatch.setenv("COLBENCH_DATA_DIR", str(tmp_path / "no-official-copy"))
    copy = tmp_path / "leaderboard"
    shutil.copytree(REPO / "leaderboard", copy)
    code, _, err = cli(capsys, "leaderboard", "build", "--dir", copy)
    assert code == 0, err
    for name in ("README.md", "site/index.html", "submission.schema.json"):
        assert (copy / name).read_text() == (REPO / "leaderboard" / name).read_text(), \
            f"leaderboard/{name} is stale: run `colbench leaderboard build`"


# --- The page in a real browser --------------------------------------------------------------

def test_the_page_sorts_by_a_clicked_column_and_switches_split_tabs(tmp_path, official, board, capsys):
    from playwright.sync_api import sync_playwright

    from colbench.render import CHROMIUM_ARGS, chromium_path

    # (tasks of 12 fully solved, score of the others): success rates b > c > a, pass rates a > c > b.
    entries = {"agent-a": (3, 0.9), "agent-b": (9, 0.0), "agent-c": (6, 0.6)}
    for agent, (k, rest) in entries.items():
        submitted(tmp_path, official, board, capsys, agent, lambda i, k=k, rest=rest: 1.0 if i < k else rest)
    submitted(tmp_path, official, board, capsys, "gpt-4o", lambda i: 0.8, split="frontend")
    assert cli(capsys, "leaderboard", "build", "--dir", board)[0] == 0
    site = board / "site" / "index.html"

    def agents(page, split: str) -> list[str]:
        return [a for a in page.locator(f"#table-{split} tbody tr td:nth-child(2)").all_inner_texts()]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.on("request", lambda req: problems.append(req.url) if not req.url.startswith("file:") else None)
            page.goto(site.as_uri())
            assert agents(page, "backend")[:3] == ["agent-b", "agent-c", "agent-a"]  # best success first
            assert page.locator("#panel-backend").is_visible() and not page.locator("#panel-frontend").is_visible()

            page.locator("#table-backend th", has_text="Tests passed").click()
            assert agents(page, "backend")[:3] == ["agent-a", "agent-c", "agent-b"]  # best pass rate first
            page.locator("#table-backend th", has_text="Tests passed").click()
            order = agents(page, "backend")
            assert order[:3] == ["agent-b", "agent-c", "agent-a"]
            assert all(name in order[3:] for name in ("GPT-4o", "o1-mini"))  # reported rows (no numbers) stay last
            page.locator("#table-backend th", has_text="Agent").click()
            assert agents(page, "backend")[:3] == ["agent-a", "agent-b", "agent-c"]

            page.get_by_role("tab", name="Frontend design").click()
            assert page.locator("#panel-frontend").is_visible() and not page.locator("#panel-backend").is_visible()
            assert agents(page, "frontend")[0] == "gpt-4o"
            assert page.get_by_role("tab", name="Frontend design").get_attribute("aria-selected") == "true"
            page.get_by_role("tab", name="Backend programming").click()
            assert page.locator("#panel-backend").is_visible()
            assert problems == []  # self-contained: no script errors, no request beyond the file itself
        finally:
            browser.close()


def test_several_samples_give_best_of_k_and_pass_at_k_with_the_summarys_intervals(tmp_path, official, board, capsys):
    ids = [t.task_id for t in load_tasks(official, "backend").tasks]
    # Task i: sample s fully passes when s < i % 4 (so 0 to 3 of 3 samples succeed), else 5 of 10 tests.
    scores = {t: [1.0 if s < i % 4 else 0.5 for s in range(3)] for i, t in enumerate(ids)}
    run = make_run(tmp_path / "run-k", split="backend", tasks_file=official, agent="k-agent", scores=scores)
    code, _, err = cli(capsys, "submit", run, "--dir", board)
    assert code == 0, err
    sub = json.loads((board / "submissions" / "k-agent-backend.json").read_text())
    summary = json.loads((run / "summary.json").read_text())
    metrics = sub["metrics"]
    assert set(metrics) == {"score", "success", "best_of_k_score", "best_of_k_success", "pass@1", "pass@2", "pass@3"}
    for key, m in metrics.items():  # one interval per number, wherever it is shown
        assert m["mean"] == pytest.approx(summary[key]["mean"]) and m["ci95"] == pytest.approx(summary[key]["ci95"])
    solved = [i % 4 for i in range(len(ids))]  # successes per task, of 3
    assert metrics["best_of_k_success"]["mean"] == pytest.approx(sum(c > 0 for c in solved) / len(ids))
    assert metrics["pass@3"]["mean"] == metrics["best_of_k_success"]["mean"]
    assert metrics["pass@1"]["mean"] == pytest.approx(metrics["success"]["mean"])
    # pass@2 = 1 - C(3 - c, 2) / C(3, 2): 0, 2/3, 1, 1 for c = 0..3.
    assert metrics["pass@2"]["mean"] == pytest.approx(sum([0, 2 / 3, 1, 1][c] for c in solved) / len(ids))
    assert metrics["best_of_k_score"]["mean"] == pytest.approx(sum(1.0 if c else 0.5 for c in solved) / len(ids))
    assert all(e["best_score"] == (1.0 if c else 0.5) for e, c in zip(sub["per_task"].values(), solved))

    code, _, err = cli(capsys, "leaderboard", "build", "--dir", board)
    assert code == 0, err
    readme = (board / "README.md").read_text()
    assert "Best-of-k success = pass@k" in readme
    row = next(r for r in board_rows(readme, "Backend programming") if "k-agent" in r)
    assert f"| {100 * metrics['best_of_k_success']['mean']:.1f} [" in row and "| 12 x 3 |" in row

    edited = dict(sub, per_task={**sub["per_task"], ids[1]: {**sub["per_task"][ids[1]], "best_score": 0.5}})
    with pytest.raises(SubmissionError, match="best score"):
        validate_submission(edited)


# --- The schema, checked with jsonschema ---------------------------------------------------------

def _hand_written_validate(value, schema, where=""):
    """The subset validator the leaderboard used before jsonschema, kept here as the reference
    the new validation must agree with (it knows no $ref, so it is given documents without usage)."""
    import math
    import re

    types = {"object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
             "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
             "null": lambda v: v is None, "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
             "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
    at = where or "the document"
    if "const" in schema and value != schema["const"]:
        raise SubmissionError(f"{at} must be {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        raise SubmissionError(f"{at} must be one of {', '.join(map(str, schema['enum']))}")
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(types[t](value) for t in allowed):
            raise SubmissionError(f"{at} must be {' or '.join(allowed)}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            raise SubmissionError(f"{at} must not be empty")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise SubmissionError(f"{at} ({value[:40]!r}) does not match {schema['pattern']}")
    if types["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            raise SubmissionError(f"{at} must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise SubmissionError(f"{at} must be at most {schema['maximum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            raise SubmissionError(f"{at} has {len(value)} items")
        for i, item in enumerate(value):
            _hand_written_validate(item, schema.get("items", {}), f"{at}[{i}]")
    if isinstance(value, dict):
        if len(value) < schema.get("minProperties", 0):
            raise SubmissionError(f"{at} must not be empty")
        for key in schema.get("required", []):
            if key not in value:
                raise SubmissionError(f"{at} lacks the field {key!r}" if where else f"the field {key!r} is missing")
        props, extra = schema.get("properties", {}), schema.get("additionalProperties", True)
        for key, item in value.items():
            sub = f"{where}.{key}" if where else key
            if key in props:
                _hand_written_validate(item, props[key], sub)
            elif extra is False:
                raise SubmissionError(f"{at} has an unknown field {key!r}")
            elif isinstance(extra, dict):
                _hand_written_validate(item, extra, sub)


def _fields(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _fields(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _fields(v, prefix + (i,))


def _mutations(sub, *, standard_only=False):
    """The submission with one field replaced by a value of another kind, removed, emptied, or
    given an unknown member: every field in turn. `standard_only`: without the values colbench
    reads more strictly than the standard (NaN, Infinity, 2.0 for an integer)."""
    import copy
    import math

    values = ["0.5", float("nan"), float("inf"), None, True, [], {}, -5, 2.0, 1.5, "", "x" * 50, 3, [1], {"a": 1}]
    for path in _fields(sub):
        def at(doc):
            for k in path[:-1]:
                doc = doc[k]
            return doc
        for v in values:
            if standard_only and isinstance(v, float) and (not math.isfinite(v) or v.is_integer()):
                continue
            doc = copy.deepcopy(sub)
            if path:
                at(doc)[path[-1]] = copy.deepcopy(v)
                yield doc
        if path and isinstance(path[-1], str):
            doc = copy.deepcopy(sub)
            del at(doc)[path[-1]]
            yield doc
        node = sub
        for k in path:
            node = node[k]
        if isinstance(node, dict):
            for change in ({"zz_unknown": 1}, None):
                doc = copy.deepcopy(sub)
                target = at(doc)[path[-1]] if path else doc
                target.clear() if change is None else target.update(change)
                yield doc


def _outcome(check, doc):
    try:
        check(doc, SUBMISSION_SCHEMA)
    except SubmissionError as exc:
        return str(exc)
    return None


def test_jsonschema_rejects_what_the_hand_written_validator_rejected_in_the_same_words(tmp_path, official, board,
                                                                                        capsys):
    from colbench.leaderboard import validate_schema

    sub = json.loads(submitted(tmp_path, official, board, capsys, "my-agent", lambda i: 0.5).read_text())
    sub["per_task"] = dict(list(sub["per_task"].items())[:3])  # the schema does not count tasks; fewer is faster
    assert "usage" not in sub and _outcome(validate_schema, sub) is None
    checked = rejected = 0
    for doc in _mutations(sub):
        old, new = _outcome(_hand_written_validate, doc), _outcome(validate_schema, doc)
        assert new == old, (doc, old, new)
        checked, rejected = checked + 1, rejected + (old is not None)
    assert checked > 500 and rejected > 400


def test_third_party_validators_read_the_published_schema_as_colbench_does(tmp_path, official, board, capsys):
    """A plain Draft 2020-12 validator with the published file agrees with colbench on every
    mutation, except the two stricter readings: finite numbers, integers without a fraction."""
    from jsonschema import Draft202012Validator

    from colbench.leaderboard import validate_schema

    sub = json.loads(submitted(tmp_path, official, board, capsys, "my-agent", lambda i: 0.5).read_text())
    sub["per_task"] = dict(list(sub["per_task"].items())[:3])
    sub["usage"] = {"agent": {"calls": 3, "prompt_tokens": 10, "completion_tokens": 5, "seconds": 1.5, "cost": 0.1},
                    "human": {"calls": 1}}
    assert cli(capsys, "leaderboard", "build", "--dir", board)[0] == 0
    published = json.loads((board / "submission.schema.json").read_text())
    Draft202012Validator.check_schema(published)
    theirs = Draft202012Validator(published)
    # (The submission's own floats sit in number fields, where 0.0 is a number for both readings.)
    checked = rejected = 0
    for doc in _mutations(sub, standard_only=True):
        ours = _outcome(validate_schema, doc)
        assert theirs.is_valid(doc) == (ours is None), (doc, ours)
        checked, rejected = checked + 1, rejected + (ours is not None)
    assert checked > 500 and rejected > 400
    assert _outcome(validate_schema, {**sub, "run": {**sub["run"], "samples": 1.0}}) == "run.samples must be integer"
    assert _outcome(validate_schema, {**sub, "per_task": {"0": {"score": float("nan"), "samples": 1}}}) == \
        "per_task.0.score must be number"


def test_the_schema_is_checked_by_a_full_draft_2020_12_validator():
    from colbench.leaderboard import validate_schema

    # Keywords the hand-written subset never knew are enforced: the schema can grow without new code.
    for value, schema, message in (
            ([1, 1], {"type": "array", "uniqueItems": True}, "the document does not follow the schema"),
            ({"n": 0}, {"type": "object", "properties": {"n": {"exclusiveMinimum": 0}}}, "n does not follow"),
            ({"a": -1}, {"$defs": {"count": {"type": "integer", "minimum": 0}},
                         "properties": {"a": {"$ref": "#/$defs/count"}}}, "a must be at least 0")):
        with pytest.raises(SubmissionError, match=message):
            validate_schema(value, schema)
    # The submission's optional usage is such a part ($ref to $defs/usage).
    assert SUBMISSION_SCHEMA["properties"]["usage"]["properties"]["agent"] == {"$ref": "#/$defs/usage"}


# --- Model usage on the board ------------------------------------------------------------------

def test_a_runs_usage_is_submitted_and_shown_on_the_board(tmp_path, official, board, capsys):
    ids = [t.task_id for t in load_tasks(official, "backend").tasks]
    with_usage = make_run(tmp_path / "run-u", split="backend", tasks_file=official, agent="counted",
                          scores={t: [0.5] for t in ids})
    summary = json.loads((with_usage / "summary.json").read_text())
    summary["usage"] = {"agent": {"calls": 120, "prompt_tokens": 1_200_000, "completion_tokens": 34_000,
                                  "seconds": 900.5, "cost": 12.5, "cache_hits": 7},  # an unknown key is left out
                        "human": {"calls": 110, "prompt_tokens": 800_000, "completion_tokens": -3}}  # a bad value too
    (with_usage / "summary.json").write_text(json.dumps(summary))
    assert cli(capsys, "submit", with_usage, "--dir", board)[0] == 0
    submitted(tmp_path, official, board, capsys, "uncounted", lambda i: 0.4)
    sub = json.loads((board / "submissions" / "counted-backend.json").read_text())
    assert sub["usage"] == {"agent": {"calls": 120, "prompt_tokens": 1_200_000, "completion_tokens": 34_000,
                                      "seconds": 900.5, "cost": 12.5},
                            "human": {"calls": 110, "prompt_tokens": 800_000}}
    assert "usage" not in json.loads((board / "submissions" / "uncounted-backend.json").read_text())
    code, _, err = cli(capsys, "leaderboard", "build", "--dir", board)
    assert code == 0, err
    readme = (board / "README.md").read_text()
    assert "| Tokens, cost |" in readme
    rows = board_rows(readme, "Backend programming")
    assert "| 1.23M tokens, cost 12.50 |" in next(r for r in rows if "| counted |" in r)
    assert "| 12 x 1 | – |" in next(r for r in rows if "| uncounted |" in r)
    html = (board / "site" / "index.html").read_text()
    assert 'data-value="1234000.0">1.23M tokens, cost 12.50</td>' in html

    sub["usage"]["agent"]["calls"] = -1  # an edited submission is refused like any bad field
    (board / "submissions" / "counted-backend.json").write_text(json.dumps(sub))
    code, _, err = cli(capsys, "leaderboard", "build", "--dir", board)
    assert_one_sentence(code, err, "usage.agent.calls must be at least 0")


# --- The page at 1280 px -----------------------------------------------------------------------

def test_every_column_is_visible_at_1280_px(tmp_path, official, capsys):
    """Long agent and model names, CIs, usage and the paper's rows (with their numbers): every
    header, Source included, lies inside a 1280 x 800 window, and nothing scrolls sideways."""
    from playwright.sync_api import sync_playwright

    from colbench.render import CHROMIUM_ARGS, chromium_path

    root = tmp_path / "leaderboard"
    root.mkdir()
    shutil.copy(REPO / "leaderboard" / "reported.json", root)
    for split, tasks in (("backend", official), ("frontend", official.parent / "frontend_test.jsonl")):
        ids = [t.task_id for t in load_tasks(tasks, split).tasks]
        for j, agent in enumerate(["Llama-3.1-8B-Instruct + SWEET-RL (ours, v2)", "gpt-4o", "Qwen2.5-72B-Instruct"]):
            run = make_run(tmp_path / f"run-{split}-{j}", split=split, tasks_file=tasks, agent=agent,
                           scores={t: [((i * (j + 3)) % 11) / 10, 1.0] for i, t in enumerate(ids)},
                           agent_model={"name": agent, "model": "meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo"})
            summary = json.loads((run / "summary.json").read_text())
            summary["usage"] = {"agent": {"prompt_tokens": 123_456_789, "completion_tokens": 2_345_678, "cost": 1234.5}}
            (run / "summary.json").write_text(json.dumps(summary))
            assert cli(capsys, "submit", run, "--dir", root, "--name", f"{split}-{j}")[0] == 0
    assert cli(capsys, "leaderboard", "build", "--dir", root)[0] == 0

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto((root / "site" / "index.html").as_uri())
            for split, tab in (("backend", "Backend programming"), ("frontend", "Frontend design")):
                page.get_by_role("tab", name=tab).click()
                headers = page.locator(f"#table-{split} thead th")
                assert headers.last.inner_text().startswith("Source")
                for th in headers.all():
                    box = th.bounding_box()
                    assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= 1280, \
                        f"{split}: column {th.inner_text()!r} is outside the window ({box})"
                scroller = page.locator(f"#panel-{split} .scroll")
                assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth"), f"{split}: the table scrolls"
        finally:
            browser.close()
