"""`colbench eval` in CI: its exit status when episodes stay in error (--max-error-rate),
progress as plain lines without a terminal, a result table that cuts no name, a failed
start that leaves nothing in the way of the identical retry, and files made as the umask
says."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Fault
from helpers import tiny_clip
from test_eval import COLBENCH, PLUS_ONE, episodes, run, write_agent_toml, write_tasks

from colbench.runs import RunDir

ANSWER = "I WANT TO ANSWER: def f(x):\n    return x + 1\n"


def _task_of(request: dict) -> str:
    return request["messages"][1]["content"].split(":")[0].removeprefix("Task ")


def test_eval_exits_1_while_episodes_stay_in_error_unless_max_error_rate_allows_them(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {t: PLUS_ONE for t in ("a", "b", "c", "d")})
    down = {"b": True}

    def script(req):
        return Fault.status(500) if down.get(_task_of(req)) else ANSWER

    with FakeOpenAI(script) as server:
        agent = write_agent_toml(tmp_path / "agent.toml", server.base_url, "agent", max_retries=0)
        common = ["eval", "--protocol", "colbench", "--agent", agent, "--human", "offline", "--split", "backend",
                  "--tasks", tasks, "--sandbox", "process"]
        out = tmp_path / "run"
        failed = run(*common, "--out", out)
        # 1 of 4 is within a 25% allowance, not within 20%.
        allowed = run(*common, "--out", tmp_path / "allowed", "--max-error-rate", "0.25")
        still = run(*common, "--out", out, "--resume", "--max-error-rate", "0.2")
        down["b"] = False
        resumed = run(*common, "--out", out, "--resume")
    assert failed.returncode == 1, failed.stderr
    message = [line for line in failed.stderr.splitlines() if "ended in an error" in line]
    assert message == ["colbench: 1 of 4 episodes ended in an error; run the same command with --resume to re-run "
                       "them"]
    assert "Traceback" not in failed.stderr and "1 " in failed.stdout  # the table is printed all the same
    assert allowed.returncode == 0, allowed.stderr
    assert "ended in an error" not in allowed.stderr
    assert still.returncode == 1 and "more than --max-error-rate 0.2 allows" in still.stderr
    assert resumed.returncode == 0, resumed.stderr
    assert {e["task_id"]: e["status"] for e in episodes(out)}["b"] == "ok"


@pytest.mark.parametrize("rate", ["1.5", "-0.1", "nan"])
def test_a_max_error_rate_outside_0_to_1_is_one_sentence(tmp_path, rate):
    proc = run("eval", "--agent", "reference", "--human", "offline", "--split", "backend", "--out", tmp_path / "r",
               "--max-error-rate", rate)
    assert proc.returncode == 2 and "--max-error-rate" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r").exists()


def test_without_a_terminal_progress_is_a_few_plain_lines_and_the_table_cuts_no_name(tmp_path):
    # 20 episodes: a line per tenth of them (not one per episode), the last one included.
    script = tmp_path / "an-agent-script-whose-file-name-is-longer-than-a-narrow-terminal.jsonl"
    from colbench.tasks import load_tasks

    tasks = load_tasks("bundled", "backend").tasks[:5]
    script.write_text("".join(json.dumps({"task_id": t.task_id, "messages": [f"I WANT TO ANSWER: {t.ground_truth}"]})
                              + "\n" for t in tasks))
    agent = f"scripted:{script}"
    proc = run("eval", "--protocol", "colbench", "--agent", agent, "--human", "offline", "--split", "backend",
               "--limit", "5", "--samples", "4", "--sandbox", "process", "--out", tmp_path / "run",
               env={**os.environ, "COLUMNS": "60"})
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if " episodes, success " in line]
    assert lines[-1] == "colbench: 20/20 episodes, success 1.00, 0 errors"
    assert 5 <= len(lines) <= 11, lines
    assert lines[0].startswith("colbench: 2/20 episodes")
    # The table: the agent's name whole, on one line, in a 60-column log.
    assert any(agent in line for line in proc.stdout.splitlines()), proc.stdout
    assert "…" not in proc.stdout


def test_a_failed_start_leaves_nothing_and_the_identical_command_then_runs(tmp_path):
    clip, out = tmp_path / "clip", tmp_path / "run"
    command = ["eval", "--protocol", "colbench", "--agent", "reference", "--human", "offline", "--split", "frontend",
               "--limit", "1", "--clip-model", clip, "--out", out]
    missing = run(*command)
    assert missing.returncode == 2 and "CLIP model" in missing.stderr and "Traceback" not in missing.stderr
    assert not out.exists()
    tiny_clip(clip)  # the model is there now: the same command, no --resume
    again = run(*command)
    assert again.returncode == 0, again.stderr
    assert RunDir(out).exists() and len(episodes(out)) == 1


def test_an_interrupted_run_is_removed_only_while_no_episode_has_finished(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.jsonl", {f"k{i}": PLUS_ONE for i in range(6)})
    with FakeOpenAI(lambda req: ANSWER, latency=lambda req: 1.0) as server:
        def interrupt(out: Path, after_lines: int) -> None:
            args = ["eval", "--protocol", "colbench", "--agent", "openai:agent", "--human", "offline", "--split",
                    "backend", "--tasks", tasks, "--out", out, "--sandbox", "process", "--concurrency", "1",
                    "--agent-base-url", server.base_url]
            proc = subprocess.Popen(COLBENCH + [str(a) for a in args], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                path = out / "episodes.jsonl"
                lines = len(path.read_text().splitlines()) if path.exists() else -1
                if lines >= after_lines and (out / "run.json").exists():
                    break
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=60) == 130

        interrupt(tmp_path / "early", after_lines=0)  # mid-way through the first episode
        interrupt(tmp_path / "late", after_lines=1)
    assert not (tmp_path / "early").exists()
    kept = episodes(tmp_path / "late")
    assert len(kept) >= 1 and RunDir(tmp_path / "late").exists()  # finished episodes are never removed


def test_a_run_holding_an_episode_is_never_taken_back(tmp_path):
    run_dir = RunDir(tmp_path / "r")
    run_dir.start({"agent": "a", "split": "backend"})
    (run_dir.path / "episodes.jsonl").write_text(json.dumps({"task_id": "t", "sample": 0, "status": "ok"}) + "\n")
    assert run_dir.unstart() is False and run_dir.exists()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_run_files_are_made_as_the_umask_says(tmp_path, umask):
    out = tmp_path / "run"
    proc = subprocess.run(COLBENCH + ["eval", "--protocol", "colbench", "--agent", "reference", "--human", "offline",
                                      "--split", "backend", "--limit", "1", "--sandbox", "process", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, preexec_fn=lambda: os.umask(umask))
    assert proc.returncode == 0, proc.stderr
    expected = 0o666 & ~umask
    files = ["run.json", "episodes.jsonl", "summary.json", "report.html", "eval.lock"]
    assert {name: oct(_mode(out / name)) for name in files} == {name: oct(expected) for name in files}
    # The episode writer makes its file when there is none yet, likewise.
    from colbench.runs import EpisodeWriter

    before = os.umask(umask)
    try:
        EpisodeWriter(tmp_path / "new.jsonl").close()
    finally:
        os.umask(before)
    assert oct(_mode(tmp_path / "new.jsonl")) == oct(expected)
