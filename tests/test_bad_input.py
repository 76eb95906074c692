"""Malformed input to every subcommand that reads user files ends in one sentence.

Each row feeds one defect (a missing path, a directory, non-UTF-8 bytes, JSON of the wrong
shape, a field of the wrong type, an empty file, an output that cannot be written) and
expects exit 2, exactly one line on stderr holding the given words, no traceback and no
"internal error". The CLI runs in-process (colbench.cli.main), as a script would call it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from test_leaderboard import as_official, make_run, write_official

from colbench.cli import main


@dataclass
class World:
    root: Path
    official: Path
    run: Path  # a finished backend run on the official tasks: 4 tasks x 2 samples

    def file(self, name: str, content: str | bytes) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    def damaged(self, **files: str | bytes | None) -> Path:
        """A copy of the good run with some of its files replaced (None: a directory there)."""
        copy = self.root / f"run-{len(list(self.root.glob('run-*')))}"
        shutil.copytree(self.run, copy)
        for name, content in files.items():
            path = copy / name.replace("_", ".", 1)
            path.unlink()
            if content is None:
                path.mkdir()
            else:
                path.write_bytes(content.encode() if isinstance(content, str) else content)
        return copy

    def config(self, **changes) -> str:
        return json.dumps({**json.loads((self.run / "run.json").read_text()), **changes})

    def board(self, name: str, content: str | bytes | None) -> Path:
        root = self.root / name
        (root / "submissions").mkdir(parents=True)
        target = root / "submissions" / "a.json"
        if content is None:
            target.mkdir()
        else:
            target.write_bytes(content.encode() if isinstance(content, str) else content)
        return root


@pytest.fixture()
def world(tmp_path, monkeypatch) -> World:
    data = tmp_path / "data"
    monkeypatch.setenv("COLBENCH_DATA_DIR", str(data))
    monkeypatch.chdir(tmp_path)
    official = as_official(monkeypatch, write_official(data, "backend", n=4), "backend")
    ids = [json.loads(l).get("task_id", str(i)) for i, l in enumerate(official.read_text().splitlines())]
    run = make_run(tmp_path / "good-run", split="backend", tasks_file=official, agent="reference", agent_model=None,
                   scores={t: [1.0, 0.5] for t in ids})
    (tmp_path / "w").mkdir()
    return World(tmp_path / "w", official, run)


ANSWER = json.dumps({"task_id": "dev-001", "answer": "def f():\n    return 1\n"}) + "\n"
TRAJECTORY = {"task": {"problem_description": "p", "ground_truth": "def f():\n    return 1\n",
                       "test_cases": {"t": "f()"}},
              "dialogue_history": [{"role": "user", "content": "p"}, {"role": "assistant", "content": "a"}],
              "answer": "def f():\n    return 1\n", "reward": 1.0}


def score(w: World, *, answers: Path | None = None, out: Path | None = None, tasks: str = "bundled", extra=()):
    return ["score", "--tasks", tasks, "--split", "backend", "--answers", answers or w.file("a.jsonl", ANSWER),
            "--out", out or w.root / "scored.jsonl", "--sandbox", "process", *extra]


def resume(w: World, run: Path, *extra):
    return ["eval", "--protocol", "colbench", "--agent", "reference", "--human", "offline", "--split", "backend", "--tasks", w.official,
            "--samples", "2", "--out", run, "--resume", "--sandbox", "process", *extra]


def regress(w: World, candidate, baseline=None, *extra):
    return ["regress", "--baseline", baseline or w.run, "--candidate", candidate, "--metric", "score",
            "--max-drop", "0.05", *extra]


ARRAY = "[1, 2]"
NOT_UTF8 = b"\xff\xfe{}"

# (case, argv built from the world, words the one sentence must hold)
CASES: list[tuple[str, Callable[[World], list], str]] = [
    # --- run.json of the wrong shape or with wrong field types, for every reader of run dirs ---
    *[(f"{name}: run.json is a JSON array", lambda w, cmd=cmd: cmd(w, w.damaged(run_json=ARRAY)),
       "holds a JSON list, not the run's settings object") for name, cmd in (
        ("report", lambda w, d: ["report", d]),
        ("export", lambda w, d: ["export", d, "--format", "sweet_rl", "--out", w.root / "x.jsonl"]),
        ("submit", lambda w, d: ["submit", d, "--dir", w.root / "board"]),
        ("train prefs", lambda w, d: ["train", "prefs", d, "--out", w.root / "p"]),
        ("regress", lambda w, d: regress(w, d)), ("eval --resume", lambda w, d: resume(w, d)))],
    ("report: run.json is not UTF-8", lambda w: ["report", w.damaged(run_json=NOT_UTF8)], "run.json is not UTF-8"),
    ("eval --resume: run.json is not UTF-8", lambda w: resume(w, w.damaged(run_json=NOT_UTF8)), "is not UTF-8"),
    ("report: run.json is empty", lambda w: ["report", w.damaged(run_json="")], "run.json is not valid JSON"),
    *[(f"{name}: samples is a word", lambda w, cmd=cmd: cmd(w, w.damaged(run_json=w.config(samples="two"))),
       'samples must be a whole number of at least 1, not "two"') for name, cmd in (
        ("report", lambda w, d: ["report", d]),
        ("export", lambda w, d: ["export", d, "--format", "sweet_rl", "--out", w.root / "x.jsonl"]),
        ("submit", lambda w, d: ["submit", d, "--dir", w.root / "board"]),
        ("train prefs", lambda w, d: ["train", "prefs", d, "--out", w.root / "p.jsonl"]),
        ("regress", lambda w, d: regress(w, d)))],
    ("report: samples is a list", lambda w: ["report", w.damaged(run_json=w.config(samples=[2]))],
     "samples must be a whole number"),
    ("report: limit is a string", lambda w: ["report", w.damaged(run_json=w.config(limit="3"))],
     "limit must be a whole number"),
    ("export: limit is a string",
     lambda w: ["export", w.damaged(run_json=w.config(limit="3")), "--format", "sweet_rl", "--out", w.root / "x"],
     "limit must be a whole number"),
    ("submit: tasks_sha256 is a number",
     lambda w: ["submit", w.damaged(run_json=w.config(tasks_sha256=5)), "--dir", w.root / "board"],
     "tasks_sha256 must be a sha256"),
    ("regress: tasks_sha256 is a number", lambda w: regress(w, w.damaged(run_json=w.config(tasks_sha256=5))),
     "tasks_sha256 must be a sha256"),
    ("submit: agent_model is a string",
     lambda w: ["submit", w.damaged(run_json=w.config(agent_model="x")), "--dir", w.root / "board"],
     "agent_model must be an object"),
    ("export: protocol is unknown",
     lambda w: ["export", w.damaged(run_json=w.config(protocol="sweet")), "--format", "sweet_rl", "--out", w.root / "x"],
     'protocol must be "sweet_rl" or "colbench"'),
    ("train prefs: protocol is a number",
     lambda w: ["train", "prefs", w.damaged(run_json=w.config(protocol=5)), "--out", w.root / "p"],
     'protocol must be "sweet_rl" or "colbench"'),
    ("regress: split is a number", lambda w: regress(w, w.damaged(run_json=w.config(split=5))),
     'split must be "backend" or "frontend"'),
    ("export: tasks_path is a number",
     lambda w: ["export", w.damaged(run_json=w.config(tasks_path=5)), "--format", "sweet_rl", "--out", w.root / "x"],
     "tasks_path must be a path"),
    ("eval --resume: run.json is a directory", lambda w: resume(w, w.damaged(run_json=None)),
     "run.json is not a file"),
    ("report: episodes.jsonl is a directory", lambda w: ["report", w.damaged(episodes_jsonl=None)],
     "episodes.jsonl is a directory"),
    ("regress: episodes.jsonl is a directory", lambda w: regress(w, w.damaged(episodes_jsonl=None)),
     "episodes.jsonl is a directory"),
    ("submit: summary.json is a JSON array",
     lambda w: ["submit", w.damaged(summary_json=ARRAY), "--dir", w.root / "board"], "summary.json holds a JSON list"),
    ("submit: summary.json metrics are strings",
     lambda w: ["submit", w.damaged(summary_json='{"score": "high", "success": {"mean": "x"}}'), "--dir",
                w.root / "board"], "summary.json lists mean score"),
    ("report: not a run directory", lambda w: ["report", w.root.parent], "is not a run directory (no run.json)"),
    ("report: a file, not a directory", lambda w: ["report", w.file("f.txt", "x")], "is not a directory"),
    ("export: missing run", lambda w: ["export", w.root / "nope", "--format", "sweet_rl", "--out", w.root / "x"],
     "is not a run directory"),
    # --- outputs that cannot be written: refused before any work ---
    ("score: --out is a directory", lambda w: score(w, out=w.root), "is a directory; give a file name"),
    ("score: --out under a file", lambda w: score(w, out=w.file("f", "x") / "o.jsonl"), "is not a directory"),
    ("export: --out is a directory",
     lambda w: ["export", w.run, "--format", "sweet_rl", "--out", w.root.parent], "is a directory"),
    ("train prefs: --out is a directory", lambda w: ["train", "prefs", w.run, "--out", w.root.parent],
     "is a directory"),
    ("train prefs: --out under a file", lambda w: ["train", "prefs", w.run, "--out", w.file("f", "x") / "p"],
     "is not a directory"),
    ("report: --out under a file", lambda w: ["report", w.run, "--out", w.file("f", "x") / "r.html"],
     "is not a directory"),
    ("train import: --out under a file",
     lambda w: ["train", "import", w.file("t.jsonl", json.dumps(TRAJECTORY) + "\n"), "--out",
                w.file("f", "x") / "run"], "is not a directory"),
    ("train import: --out is a file",
     lambda w: ["train", "import", w.file("t.jsonl", json.dumps(TRAJECTORY) + "\n"), "--out", w.file("f", "x")],
     "is a file"),
    ("submit: --dir is a file", lambda w: ["submit", w.run, "--dir", w.file("f", "x")],
     "leaderboard directory", ),
    ("submit: --dir under a file", lambda w: ["submit", w.run, "--dir", w.file("f", "x") / "board"],
     "is not a directory"),
    ("leaderboard build: --dir is a file", lambda w: ["leaderboard", "build", "--dir", w.file("f", "x")],
     "is a file"),
    ("leaderboard build: --dir under a file",
     lambda w: ["leaderboard", "build", "--dir", w.file("f", "x") / "board"], "is not a directory"),
    ("eval: --out is a file",
     lambda w: ["eval", "--protocol", "colbench", "--agent", "reference", "--human", "offline", "--split", "backend", "--limit", "1",
                "--out", w.file("f", "x"), "--sandbox", "process"], "is a file, not a run directory"),
    # --- answers, tasks, trajectories, submissions ---
    ("score: answers missing", lambda w: score(w, answers=w.root / "nope.jsonl"), "does not exist"),
    ("score: answers is a directory", lambda w: score(w, answers=w.root.parent), "is not a file"),
    ("score: answers not UTF-8", lambda w: score(w, answers=w.file("a.jsonl", NOT_UTF8)), "is not UTF-8"),
    ("score: answers empty", lambda w: score(w, answers=w.file("a.jsonl", "")), "has no answers"),
    ("score: answer line is an array", lambda w: score(w, answers=w.file("a.jsonl", ARRAY + "\n")),
     "expected a JSON object"),
    ("score: answer is a number", lambda w: score(w, answers=w.file("a.jsonl", '{"task_id": "dev-001", "answer": 5}\n')),
     "'answer' must be a string"),
    ("score: task_id is a list",
     lambda w: score(w, answers=w.file("a.jsonl", '{"task_id": ["dev-001"], "answer": "x"}\n')),
     "task_id must be a string or an integer"),
    ("score: task file not UTF-8", lambda w: score(w, tasks=str(w.file("t.jsonl", NOT_UTF8))), "is not UTF-8"),
    ("tasks list: missing", lambda w: ["tasks", "list", "--tasks", w.root / "nope.jsonl"], "does not exist"),
    ("tasks list: a directory", lambda w: ["tasks", "list", "--tasks", w.root.parent], "is not a file"),
    ("tasks list: empty", lambda w: ["tasks", "list", "--tasks", w.file("t.jsonl", "")], "has no tasks"),
    ("tasks show: line is an array", lambda w: ["tasks", "show", "x", "--tasks", w.file("t.jsonl", ARRAY + "\n")],
     "expected a JSON object"),
    ("tasks show: problem_description is a number",
     lambda w: ["tasks", "show", "x", "--tasks",
                w.file("t.jsonl", '{"problem_description": 5, "ground_truth": "x", "test_cases": {"t": "f()"}}\n')],
     "'problem_description' must be a non-empty string"),
    ("train import: missing", lambda w: ["train", "import", w.root / "nope.jsonl", "--out", w.root / "r"],
     "does not exist"),
    ("train import: not UTF-8", lambda w: ["train", "import", w.file("t.jsonl", NOT_UTF8), "--out", w.root / "r"],
     "is not UTF-8"),
    ("train import: history entries are strings",
     lambda w: ["train", "import", w.file("t.jsonl", json.dumps({**TRAJECTORY, "dialogue_history": ["hi", "yo"]})
                                          + "\n"), "--out", w.root / "r"],
     "every dialogue_history entry must be a {role, content} object"),
    ("train import: reward is a word",
     lambda w: ["train", "import", w.file("t.jsonl", json.dumps({**TRAJECTORY, "reward": "high"}) + "\n"),
                "--out", w.root / "r"], "reward must be a number or null"),
    ("leaderboard build: submission is an array", lambda w: ["leaderboard", "build", "--dir", w.board("b", ARRAY)],
     "the document must be object"),
    ("leaderboard build: submission not UTF-8", lambda w: ["leaderboard", "build", "--dir", w.board("b", NOT_UTF8)],
     "is not valid JSON"),
    ("leaderboard build: submission is a directory", lambda w: ["leaderboard", "build", "--dir", w.board("b", None)],
     "Is a directory"),
    ("regress: baseline submission is empty", lambda w: regress(w, w.run, w.file("s.json", "")), "is not valid JSON"),
    ("regress: candidate missing", lambda w: regress(w, w.root / "nope"),
     "neither a run directory nor a submission JSON file"),
    # --- flags ---
    ("score: --timeout inf", lambda w: score(w, extra=["--timeout=inf"]), "expected at most 3600 seconds"),
    ("score: --timeout 1e9", lambda w: score(w, extra=["--timeout=1e9"]), "expected at most 3600 seconds"),
    ("score: --timeout nan", lambda w: score(w, extra=["--timeout=nan"]), "expected a positive number"),
    ("eval: --timeout inf",
     lambda w: ["eval", "--protocol", "colbench", "--agent", "reference", "--human", "offline", "--split", "backend", "--limit", "1",
                "--out", w.root / "r", "--sandbox", "process", "--timeout", "inf"], "expected at most 3600 seconds"),
    ("eval: --timeout nan",
     lambda w: ["eval", "--protocol", "colbench", "--agent", "reference", "--human", "offline", "--split", "backend", "--limit", "1",
                "--out", w.root / "r", "--sandbox", "process", "--timeout", "nan"], "expected a positive number"),
    ("train prefs: --min-gap nan", lambda w: ["train", "prefs", w.run, "--out", w.root / "p", "--min-gap", "nan"],
     "expected a finite number"),
    ("regress: --max-drop nan", lambda w: regress(w, w.run, None, "--max-drop", "nan"),
     "--max-drop must be a finite number"),
    ("regress: --confidence 1", lambda w: regress(w, w.run, None, "--confidence", "1"), "--confidence must be"),
]


@pytest.mark.parametrize("name,argv,words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_ends_in_one_sentence(world, capsys, name, argv, words):
    args = [str(a) for a in argv(world)]
    code = main(args)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (code, err)
    assert "Traceback" not in err and "internal error" not in err, err
    assert len(lines) == 1, err
    assert words in lines[0], lines[0]


def test_score_refuses_a_bad_out_before_scoring(world, capsys, monkeypatch):
    import colbench.scoring.answers as answers

    def never(*args, **kwargs):
        raise AssertionError("scoring started")

    monkeypatch.setattr(answers, "score_answers", never)
    assert main([str(a) for a in score(world, out=world.root)]) == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_an_unwritable_out_folder_is_one_sentence(world, capsys):
    locked = world.root / "locked"
    locked.mkdir(parents=True)
    locked.chmod(0o500)
    try:
        assert main([str(a) for a in score(world, out=locked / "o.jsonl")]) == 2
        assert "is not writable" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_damaged_optional_parts_of_a_run_do_not_stop_the_report(world, capsys):
    run = world.damaged(summary_json='{"win_rate": {"baseline": 5, "mean": "x"}}')
    with (run / "episodes.jsonl").open("a") as f:
        f.write(json.dumps({"task_id": "0", "sample": 0, "status": "ok", "score": "high", "turns": 5}) + "\n")
    assert main(["report", str(run)]) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "line 9" in err and "score must be a finite number" in err


def test_a_lone_surrogate_in_a_task_file_prints_as_an_escape(tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"task_id": "odd", "problem_description": "Count \udcff marks.",
                                 "ground_truth": "def f():\n    return 1\n", "test_cases": {"t": "f()"}}) + "\n")
    proc = subprocess.run([sys.executable, "-m", "colbench.cli", "tasks", "list", "--tasks", str(tasks)],
                          capture_output=True, timeout=120, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"odd\tCount \\udcff marks.\n"
