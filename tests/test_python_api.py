"""The Python API (colbench/api.py): `colbench.evaluate` (also inside a running event loop, as
in a notebook), `evaluate_async`, `read_run` / `read_runs` as flat DataFrames, and the parquet
export (`colbench export --format parquet`)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import colbench
from colbench.api import COLUMNS
from colbench.errors import ColbenchError
from colbench.runs import EpisodeRecord, EpisodeWriter, RunDir

# Two bundled backend tasks, answered by the reference agent against the offline human.
QUICK = {"agent": "reference", "split": "backend", "human": "offline", "protocol": "colbench", "sandbox": "process",
         "limit": 2}


def written_summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_evaluate_runs_the_evaluation_and_returns_its_summary(tmp_path):
    out = tmp_path / "run"
    summary = colbench.evaluate(**QUICK, out=str(out), timeout=7.5)
    assert summary == {**written_summary(out), "run": str(out)}
    assert summary["episodes"] == 2 and summary["score"]["mean"] == 1.0
    assert len(RunDir(out).records()) == 2
    assert (out / "report.html").is_file()  # the report is written, as after `colbench eval`
    assert json.loads((out / "run.json").read_text())["timeout"] == 7.5  # **settings reach the run's settings


def test_evaluate_without_out_writes_where_the_command_would(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    summary = colbench.evaluate(**QUICK)
    assert re.fullmatch(r"runs/reference-backend-\d{8}-\d{6}", summary["run"])
    assert RunDir(tmp_path / summary["run"]).exists()


def test_evaluate_takes_the_commands_task_selection(tmp_path):
    out = tmp_path / "run"
    summary = colbench.evaluate(**{**QUICK, "limit": None}, task_ids=["dev-002"], samples=2, out=str(out))
    assert summary["episodes"] == 2
    assert sorted(r.key for r in RunDir(out).records()) == [("dev-002", 0), ("dev-002", 1)]


def test_evaluate_works_inside_a_running_event_loop(tmp_path):
    out = tmp_path / "run"

    async def notebook_cell() -> dict:  # a Jupyter cell runs with the kernel's loop running
        asyncio.get_running_loop()
        return colbench.evaluate(**QUICK, out=str(out))

    summary = asyncio.run(notebook_cell())
    assert summary == {**written_summary(out), "run": str(out)}


def test_evaluate_async_is_awaited_on_the_callers_loop(tmp_path):
    out = tmp_path / "run"
    summary = asyncio.run(colbench.evaluate_async(**QUICK, out=str(out)))
    assert summary == {**written_summary(out), "run": str(out)}
    assert (out / "report.html").is_file()


def test_an_unknown_keyword_is_one_sentence_naming_the_closest(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ColbenchError) as caught:
        colbench.evaluate(**QUICK, out=str(out), agent_temprature=0.5)
    assert str(caught.value) == ("colbench.evaluate got unknown setting 'agent_temprature' "
                                 "(the closest is 'agent_temperature')")
    with pytest.raises(ColbenchError, match=r"unknown setting 'sample' \(the closest is 'samples'\)"):
        colbench.evaluate(**QUICK, out=str(out), sample=2)
    assert not out.exists()


@pytest.mark.parametrize("bad, said", [
    ({"split": "middle", "human": None}, "unknown split 'middle'; use backend or frontend"),
    ({"sandbox": "vm"}, "unknown sandbox 'vm'; use docker or process"),
    ({"samples": 0}, "samples must be a whole number of at least 1, not 0"),
])
def test_a_bad_argument_is_one_sentence_before_any_work(tmp_path, bad, said):
    out = tmp_path / "run"
    with pytest.raises(ColbenchError) as caught:
        colbench.evaluate(**{**QUICK, **bad}, out=str(out))
    assert str(caught.value) == said
    assert not out.exists()


def make_run(path: Path, records: list[dict], **config) -> Path:
    """A run directory written by hand: run.json and the records, in the order given."""
    run = RunDir(path)
    run.start({"agent": "scripted:a", "human": "offline", "split": "backend", "protocol": "colbench", "samples": 2,
               **config})
    writer = EpisodeWriter(run.episodes_path)
    for record in records:
        writer.append(EpisodeRecord(**record))
    writer.close()
    return path


def turns(agent: int, human: int) -> list[dict]:
    return [{"role": "agent", "content": "q"}] * agent + [{"role": "human", "content": "a"}] * human


RECORDS = [
    {"task_id": "t10", "sample": 0, "seed": 5, "status": "error", "error": "the endpoint timed out",
     "turns": turns(1, 0)},
    {"task_id": "t2", "sample": 1, "seed": 4, "turns": turns(3, 2), "answer": "def f(): pass\n", "answered": True,
     "score": 0.5, "success": False, "passed": 1, "total": 2, "timings": {"dialogue_s": 1.5, "scoring_s": 0.25},
     "usage": {"agent": {"calls": 3, "prompt_tokens": 120, "completion_tokens": 30, "cost": 0.002},
               "human": {"calls": 2, "prompt_tokens": 80, "completion_tokens": 20}}},
    {"task_id": "t2", "sample": 0, "seed": 3, "turns": turns(2, 1), "answer": "x\udcff", "answered": False,
     "score": 0.0, "success": False, "passed": 0, "total": 2, "timings": {"dialogue_s": 2.0, "scoring_s": 0.5}},
    {"task_id": "t1", "sample": 0, "seed": 1, "status": "error", "error": "first try failed"},
    {"task_id": "t1", "sample": 0, "seed": 1, "turns": turns(1, 0), "answer": "def g(): pass\n", "answered": True,
     "score": 1.0, "success": True, "passed": 2, "total": 2, "timings": {"dialogue_s": 0.5, "scoring_s": 0.125}},
]

USAGE_COLUMNS = ["agent_calls", "agent_prompt_tokens", "agent_completion_tokens", "agent_cost", "human_calls",
                 "human_prompt_tokens", "human_completion_tokens"]


def expected_row(run: Path, record: dict) -> dict:
    timings = record.get("timings", {})
    row = {"run": str(run), "agent": "scripted:a", "human": "offline", "split": "backend", "protocol": "colbench",
           "task_id": record["task_id"], "sample": record["sample"], "seed": record["seed"],
           "status": record.get("status", "ok"), "error": record.get("error"), "score": record.get("score"),
           "success": record.get("success"), "passed": record.get("passed"), "total": record.get("total"),
           "answered": record.get("answered"), "turns": len(record.get("turns", [])),
           "agent_turns": sum(t["role"] == "agent" for t in record.get("turns", [])), "answer": record.get("answer"),
           "dialogue_s": timings.get("dialogue_s"), "scoring_s": timings.get("scoring_s")}
    for column in USAGE_COLUMNS:
        role, key = column.split("_", 1)
        row[column] = record.get("usage", {}).get(role, {}).get(key)
    return row


def rows(frame: pd.DataFrame) -> list[dict]:
    """The frame's rows as plain values, a missing one (NaN, None) as None."""
    def plain(v):
        return None if pd.isna(v) else v.item() if hasattr(v, "item") else v

    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def test_read_run_is_one_row_per_episode_in_task_then_sample_order(tmp_path):
    run = make_run(tmp_path / "run", RECORDS)
    frame = colbench.read_run(run)
    assert list(frame.columns) == [*COLUMNS, *USAGE_COLUMNS]
    # the latest record of t1 sample 0 (the re-run), task ids in natural order (t2 before t10)
    latest = [RECORDS[4], RECORDS[2], RECORDS[1], RECORDS[0]]
    assert rows(frame) == [expected_row(run, r) for r in latest]
    # whole numbers and flags keep their type where an error leaves them missing
    assert {c: str(frame[c].dtype) for c in ("passed", "agent_prompt_tokens", "success", "score")} == {
        "passed": "Int64", "agent_prompt_tokens": "Int64", "success": "boolean", "score": "float64"}
    assert list(frame.index) == [0, 1, 2, 3]


def test_read_run_without_usage_has_no_usage_columns(tmp_path):
    run = make_run(tmp_path / "run", [RECORDS[4]])
    assert list(colbench.read_run(run).columns) == list(COLUMNS)


def test_read_run_of_a_missing_run_is_one_sentence(tmp_path):
    with pytest.raises(ColbenchError, match="is not a run directory"):
        colbench.read_run(tmp_path / "nope")


def test_read_runs_concatenates_in_the_order_given(tmp_path):
    a = make_run(tmp_path / "a", RECORDS[3:])
    b = make_run(tmp_path / "b", RECORDS[:2], agent="other")
    frame = colbench.read_runs([b, a])
    assert list(frame["run"]) == [str(b), str(b), str(a)]
    assert list(frame["task_id"]) == ["t2", "t10", "t1"]
    assert list(frame["agent"]) == ["other", "other", "scripted:a"]
    assert list(frame.index) == [0, 1, 2]
    assert rows(frame.iloc[2:]) == [{**expected_row(a, RECORDS[4]), **{c: None for c in USAGE_COLUMNS}}]
    pd.testing.assert_frame_equal(colbench.read_runs(str(a)), colbench.read_run(a))  # one path: that run
    assert list(colbench.read_runs([]).columns) == list(COLUMNS) and len(colbench.read_runs([])) == 0


def test_parquet_export_round_trips_read_runs_frame(tmp_path):
    run = make_run(tmp_path / "run", RECORDS)
    out = tmp_path / "episodes.parquet"
    proc = subprocess.run([sys.executable, "-m", "colbench.cli", "export", str(run), "--format", "parquet",
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote 4 episodes to {out}"
    expected = colbench.read_run(run)
    assert "x\udcff" in list(expected["answer"])  # the frame keeps the text as written
    # parquet text is valid Unicode: the lone surrogate becomes U+FFFD in the file only
    expected["answer"] = expected["answer"].map(lambda v: v.replace("\udcff", "\ufffd") if isinstance(v, str) else v)
    back = pd.read_parquet(out)
    assert rows(back) == rows(expected)
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
