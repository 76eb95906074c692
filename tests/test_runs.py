"""The run directory: regression tests named after the faults they guard against.

A run directory is the one record of hours of model calls, so a damaged line, text no codec
likes, or two `colbench eval` processes at once must never lose or duplicate an episode.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Fault
from test_eval import PLUS_ONE, write_agent_toml, write_tasks
from test_leaderboard import as_official, backend_scores, cli, make_run, write_official

from colbench.jsonl import write_json_atomic, write_jsonl_atomic, write_text_atomic
from colbench.runs import EpisodeWriter, RunDir

COLBENCH = [sys.executable, "-m", "colbench.cli"]
LONE = "a\udcffb é ü 中"  # a lone surrogate beside ordinary non-ASCII text


def run(*args, timeout=300, **kw):
    return subprocess.run(COLBENCH + [str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kw)


def episode(task_id, sample=0, score=1.0, **extra) -> dict:
    return {"task_id": task_id, "sample": sample, "status": "ok", "error": None,
            "turns": [{"role": "agent", "content": "I WANT TO ANSWER: x"}], "answer": "x",
            "score": score, "success": score == 1.0, **extra}


def write_lines(path: Path, lines: list[str | dict], end: str = "\n") -> None:
    path.write_text("\n".join(l if isinstance(l, str) else json.dumps(l) for l in lines) + end)


def new_run(tmp_path: Path, lines: list[str | dict], end: str = "\n") -> RunDir:
    run_dir = RunDir(tmp_path / "run")
    run_dir.start({"split": "backend", "samples": 1})
    write_lines(run_dir.episodes_path, lines, end)
    return run_dir


# --- 13: a bad line hides nothing and deletes nothing ---------------------------------------

def test_a_bad_line_in_the_middle_hides_no_later_episode(tmp_path, caplog):
    rd = new_run(tmp_path, [episode("a"), '{"task_id": "b", "sam', episode("c"), episode("d")])
    with caplog.at_level(logging.WARNING, logger="colbench"):
        latest = rd.latest()
    assert sorted(latest) == [("a", 0), ("c", 0), ("d", 0)]
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert str(rd.episodes_path) in warned and "line 2" in warned


@pytest.mark.parametrize("bad", [
    "[1, 2, 3]", '"just a string"', "null", '{"sample": 0}', '{"task_id": "x"}', '{"task_id": true, "sample": 0}',
    '{"task_id": "x", "sample": "zero"}', '{"task_id": "x", "sample": 0.5}', '{"task_id": null, "sample": 0}',
    json.dumps(episode("x", score="high")), json.dumps(episode("x", turns=5)), json.dumps(episode("x", turns=[5])),
    json.dumps(episode("x", success="yes")), json.dumps(episode("x", status=1)),
    json.dumps(episode("x", tests={"t": 1})), json.dumps(episode("x", timings=[1])),
])
def test_a_json_line_that_is_not_an_episode_is_skipped_and_reported(tmp_path, caplog, bad):
    rd = new_run(tmp_path, [episode("a"), bad, episode("c")])
    with caplog.at_level(logging.WARNING, logger="colbench"):
        latest = rd.latest()
        frame = rd.frame()
    assert sorted(latest) == [("a", 0), ("c", 0)] and len(frame) == 2
    assert any("line 2" in r.getMessage() and str(rd.episodes_path) in r.getMessage() for r in caplog.records)


def test_a_torn_last_line_is_the_only_thing_repair_removes(tmp_path):
    good = [episode("a"), "{not json", episode("c")]
    rd = new_run(tmp_path, good + ['{"task_id": "d", "sample": 0, "sta'], end="")
    before = rd.episodes_path.read_bytes()
    assert sorted(rd.load_episodes(repair=True), key=lambda r: r["task_id"]) == [episode("a"), episode("c")]
    after = rd.episodes_path.read_bytes()
    assert after == before[: before.rindex(b"\n") + 1]  # only the torn tail went; the bad middle line stays
    assert b"{not json" in after


def test_a_complete_last_record_without_its_newline_is_kept(tmp_path):
    rd = new_run(tmp_path, [episode("a"), episode("b")], end="")
    assert len(rd.load_episodes(repair=True)) == 2
    assert rd.episodes_path.read_bytes().endswith(b"}\n")  # the newline is added, nothing removed
    EpisodeWriter(rd.episodes_path).append(episode("c"))
    assert [r["task_id"] for r in rd.load_episodes()] == ["a", "b", "c"]


def test_a_torn_write_followed_by_more_appends_keeps_the_later_episode(tmp_path):
    # A kill mid-write, then an append without repair: the next record is glued to the torn one.
    rd = new_run(tmp_path, [episode("a"), '{"task_id": "b", "sa' + json.dumps(episode("c")), episode("d")])
    assert sorted(rd.latest()) == [("a", 0), ("c", 0), ("d", 0)]


def test_resume_after_a_bad_line_deletes_no_finished_episode_and_reruns_none(tmp_path):
    out = tmp_path / "run"
    common = ["eval", "--protocol", "colbench", "--agent", "reference", "--human", "offline", "--split", "backend", "--limit", "4",
              "--out", out, "--sandbox", "process"]
    assert run(*common).returncode == 0
    path = out / "episodes.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    assert len(lines) == 4
    damaged = lines[0] + "{oops\n" + "".join(lines[1:])
    path.write_text(damaged)
    proc = run(*common, "--resume")
    assert proc.returncode == 0, proc.stderr
    assert path.read_text() == damaged  # nothing re-run, nothing deleted
    assert f"{path}" in proc.stderr and "line 2" in proc.stderr  # the bad line is reported
    summary = json.loads((out / "summary.json").read_text())
    assert summary["episodes"] == 4 and summary["success"]["mean"] == 1.0


def test_every_reader_of_a_run_sees_the_episodes_after_a_bad_line(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("COLBENCH_DATA_DIR", str(data))
    official = as_official(monkeypatch, write_official(data, "backend", n=12), "backend")
    scores = {t: [1.0, 0.5] for t in backend_scores(official)}
    # Our own protocol, so that export needs no original prompt file; made sweet_rl for submit.
    run_path = make_run(tmp_path / "run", split="backend", tasks_file=official, scores=scores, protocol=None)
    eps = run_path / "episodes.jsonl"
    lines = eps.read_text().splitlines(keepends=True)
    eps.write_text(lines[0] + "{torn\n" + "".join(lines[1:]))

    code, out, err = cli(capsys, "report", run_path)
    assert code == 0, err
    assert str(eps) in err and "line 2" in err  # said, not silent
    assert (run_path / "report.html").read_text().count('id="ep-') == 24
    code, out, err = cli(capsys, "export", run_path, "--format", "sweet_rl", "--out", tmp_path / "x.jsonl")
    assert code == 0 and "wrote 24 trajectories" in out, err
    code, out, err = cli(capsys, "train", "prefs", run_path, "--out", tmp_path / "p.jsonl")
    assert code == 0 and "wrote 12 preference pairs" in out, err
    code, out, err = cli(capsys, "regress", "--baseline", run_path, "--candidate", run_path, "--metric", "score",
                         "--max-drop", "0")
    assert code == 0 and "Tasks compared: 12" in out, out + err
    config = json.loads((run_path / "run.json").read_text())
    (run_path / "run.json").write_text(json.dumps({**config, "protocol": "sweet_rl"}))
    code, out, err = cli(capsys, "submit", run_path, "--dir", tmp_path / "board")
    assert code == 0, err
    sub = json.loads(next((tmp_path / "board" / "submissions").glob("*.json")).read_text())
    assert sub["run"]["episodes"] == 24 and len(sub["per_task"]) == 12


# --- 14: one eval per run directory ---------------------------------------------------------

def test_two_resumes_at_once_do_not_both_redo_the_errored_episodes(tmp_path):
    ids = [f"e{i}" for i in range(6)]
    tasks = write_tasks(tmp_path / "tasks.jsonl", {i: PLUS_ONE for i in ids})
    answer = "I WANT TO ANSWER: def f(x):\n    return x + 1\n"
    down = {"on": True}

    def script(req):
        return Fault.status(500) if down["on"] else answer

    with FakeOpenAI(script, latency=lambda req: 0 if down["on"] else 0.3) as server:
        agent = write_agent_toml(tmp_path / "agent.toml", server.base_url, "agent", max_retries=0, backoff_s=0.01)
        out = tmp_path / "run"
        common = [*COLBENCH, "eval", "--protocol", "colbench", "--agent", str(agent), "--human", "offline", "--split", "backend", "--tasks",
                  str(tasks), "--out", str(out), "--sandbox", "process", "--concurrency", "1"]
        assert subprocess.run(common, capture_output=True, timeout=300).returncode == 1  # every episode in error
        assert {e["status"] for e in map(json.loads, (out / "episodes.jsonl").read_text().splitlines())} == {"error"}
        down["on"] = False
        n = len(server.requests)
        first = subprocess.Popen(common + ["--resume"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while len(server.requests) == n and time.monotonic() < deadline:
            time.sleep(0.02)  # the first resume holds the directory once it asks the agent
        start = time.monotonic()
        second = subprocess.run(common + ["--resume"], capture_output=True, text=True, timeout=120)
        refused_in = time.monotonic() - start
        first_out, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert second.returncode != 0 and "Traceback" not in second.stderr
    lines = [l for l in second.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and str(out) in lines[0] and str(first.pid) in lines[0], second.stderr
    assert refused_in < 20
    records = [json.loads(l) for l in (out / "episodes.jsonl").read_text().splitlines()]
    assert sorted(r["task_id"] for r in records if r["status"] == "ok") == ids  # each redone exactly once
    assert len(records) == 2 * len(ids)


def test_a_new_eval_cannot_start_in_a_directory_an_eval_is_writing(tmp_path):
    rd = RunDir(tmp_path / "run")
    with rd.lock():
        proc = run("eval", "--protocol", "colbench", "--agent", "reference", "--human", "offline", "--split", "backend", "--limit", "1",
                   "--out", rd.path, "--sandbox", "process")
    assert proc.returncode == 2 and "in use by another colbench eval" in proc.stderr
    assert str(os.getpid()) in proc.stderr and not rd.episodes_path.exists()
    with rd.lock():  # released
        pass


def test_an_eval_that_ends_before_it_starts_leaves_no_directory_behind(tmp_path):
    out = tmp_path / "runs" / "never"
    proc = run("eval", "--protocol", "colbench", "--agent", "no-such-agent", "--human", "offline", "--split", "backend", "--out", out)
    assert proc.returncode == 2 and "unknown agent" in proc.stderr
    assert not out.exists()


# --- 5: text no codec likes -------------------------------------------------------------------

def test_a_lone_surrogate_is_written_by_every_writer_and_read_back_exactly(tmp_path):
    record = {"text": LONE, LONE: [LONE, "\\" + LONE, "\\udcff"]}
    write_jsonl_atomic(tmp_path / "a.jsonl", [record, record])
    write_json_atomic(tmp_path / "b.json", record)
    write_text_atomic(tmp_path / "c.txt", LONE)
    writer = EpisodeWriter(tmp_path / "episodes.jsonl")
    writer.append(episode("t", answer=LONE))
    writer.close()
    rows = [json.loads(l) for l in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows == [record, record]
    assert json.loads((tmp_path / "b.json").read_text(encoding="utf-8")) == record
    assert RunDir(tmp_path).load_episodes() == [episode("t", answer=LONE)]
    raw = (tmp_path / "b.json").read_bytes()
    assert "é ü 中".encode() in raw and b"\\udcff" in raw  # readable UTF-8, the surrogate as a JSON escape
    assert (tmp_path / "c.txt").read_text(encoding="utf-8") == LONE.replace("\udcff", "\\udcff")
    from colbench.jsonl import dumps_json, encode_text

    assert json.loads(dumps_json(record)) == record and encode_text(LONE) == LONE.replace("\udcff", "\\udcff").encode()


def test_a_run_made_with_relative_paths_is_read_from_any_directory(tmp_path):
    # eval from one directory with a relative --tasks, then every reader from another.
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    src = Path(__file__).resolve().parents[1] / "tasks" / "backend" / "dev.jsonl"
    (work / "my_tasks.jsonl").write_bytes(src.read_bytes())
    proc = run("eval", "--protocol", "colbench", "--agent", "reference", "--human", "offline", "--split", "backend",
               "--tasks", "my_tasks.jsonl", "--limit", "2", "--samples", "2", "--out", "runs/r", "--sandbox", "process",
               cwd=work)
    assert proc.returncode == 0, proc.stderr
    the_run = work / "runs" / "r"
    for args in (["report", the_run], ["export", the_run, "--format", "sweet_rl", "--out", "x.jsonl"]):
        proc = run(*args, cwd=elsewhere)
        assert proc.returncode == 0, proc.stderr
    # An imported run, likewise.
    proc = run("train", "import", elsewhere / "x.jsonl", "--out", "imported", "--protocol", "colbench", cwd=work)
    assert proc.returncode == 0, proc.stderr
    proc = run("export", work / "imported", "--format", "sweet_rl", "--out", "y.jsonl", cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr


# --- the typed, versioned episode record ----------------------------------------------------

def test_a_version_1_frontend_record_reads_as_the_current_record(tmp_path):
    from colbench.runs import RECORD_VERSION

    old = episode("f", score=0.8, blocked_requests=3, status_detail="ok", answer="<html></html>")
    backend_old = episode("b", blocked="contains 'import os' (sweet_rl compat blocklist)")
    rd = new_run(tmp_path, [old, backend_old])
    latest = rd.latest()
    front, back = latest[("f", 0)], latest[("b", 0)]
    assert front.version == back.version == RECORD_VERSION
    # One key says what was refused in both splits; the frontend count is kept beside it.
    assert front.blocked == "3 requests refused (offline rendering)" and front.blocked_requests == 3
    assert back.blocked == "contains 'import os' (sweet_rl compat blocklist)" and back.blocked_requests is None
    assert rd.load_episodes()[0] == old  # the file is read, never rewritten


def test_a_record_from_a_newer_colbench_is_skipped_and_says_so(tmp_path, caplog):
    rd = new_run(tmp_path, [episode("a"), episode("b", version=99)])
    with caplog.at_level(logging.WARNING, logger="colbench"):
        assert sorted(rd.latest()) == [("a", 0)]
    assert "newer colbench" in " ".join(r.getMessage() for r in caplog.records)


def test_records_round_trip_with_their_types_and_unknown_keys(tmp_path):
    from colbench.runs import EpisodeRecord

    rec = EpisodeRecord(task_id="t", sample=2, seed=7, turns=[{"role": "agent", "content": "hi", "raw": "OUTPUT: hi"}],
                        answer="x", score=0.5, success=False, passed=1, total=2,
                        tests=[{"name": "test1", "passed": True, "status": "pass"}], timings={"dialogue_s": 1.5},
                        note="kept")  # a key this colbench does not know is written back unchanged
    rd = new_run(tmp_path, [])
    w = EpisodeWriter(rd.episodes_path)
    w.append(rec)
    w.close()
    line = json.loads(rd.episodes_path.read_text())
    assert line["version"] == 2 and line["note"] == "kept" and "artifacts" not in line  # unset optional keys are left out
    assert line["error"] is None and line["success"] is False  # the core keys are always written
    back = rd.latest()[("t", 2)]
    assert back == rec and back.turns[0]["raw"] == "OUTPUT: hi" and back.tests[0]["passed"] is True
