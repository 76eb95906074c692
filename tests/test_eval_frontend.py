"""`colbench eval --split frontend`: pages rendered and shown to the human, CLIP-scored."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fake_openai import FakeOpenAI
from helpers import tiny_clip

from colbench.tasks import load_tasks

COLBENCH = [sys.executable, "-m", "colbench.cli"]


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    return tiny_clip(tmp_path_factory.mktemp("clip") / "clip")


def run(*args, timeout=300):
    return subprocess.run(COLBENCH + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)


def test_pages_are_rendered_shown_to_the_vlm_human_and_the_last_page_is_the_answer(tmp_path, clip_dir):
    tasks = load_tasks("bundled", "frontend").tasks[:2]
    draft = "<html><body class='bg-red-500'><h1>draft</h1></body></html>"
    by_request = {t.problem_description: t for t in tasks}

    def script(req):
        if req["model"] == "human":
            return "The header should be blue. " + "x" * 1500  # cut to 1000
        task = by_request[req["messages"][1]["content"]]
        turn = sum(m["role"] == "assistant" for m in req["messages"])
        if turn == 0:
            return f"Here is a first draft:\n{draft}\nWhat do you think?"
        if turn == 1:
            return f"Revised:\n{task.ground_truth}"
        return "I WANT TO ANSWER: the page I showed you last."

    with FakeOpenAI(script) as server:
        out = tmp_path / "run"
        proc = run("eval", "--protocol", "colbench", "--agent", "openai:agent", "--human", "openai:human", "--split", "frontend",
                   "--limit", "2", "--out", out, "--clip-model", clip_dir, "--agent-base-url", server.base_url,
                   "--human-base-url", server.base_url)
        human_requests = [r for r in server.requests if r["model"] == "human"]
    assert proc.returncode == 0, proc.stderr
    eps = [json.loads(l) for l in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(eps) == 2 and all(e["status"] == "ok" for e in eps)
    for ep in eps:
        assert [t["role"] for t in ep["turns"]] == ["agent", "human", "agent", "human", "agent"]
        assert len(ep["turns"][1]["content"]) == 1000
        assert ep["answer"].startswith("<html") and "draft" not in ep["answer"]  # the most recent page
        assert ep["score"] == pytest.approx(1.0, abs=1e-5)
        shots = [t.get("screenshot") for t in ep["turns"] if t["role"] == "agent"]
        assert shots[0] and shots[1] and shots[2] is None  # only messages with a page are rendered
        assert all(open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n" for p in ep["artifacts"])
    # The human saw two images each time: the agent's render and the reference.
    images = [sum(c.get("type") == "image_url" for c in r["messages"][0]["content"]) for r in human_requests]
    assert images == [2, 2, 2, 2]


def test_reference_agent_scores_one_and_win_rate_against_a_baseline(tmp_path, clip_dir):
    common = ["--human", "offline", "--split", "frontend", "--limit", "3", "--clip-model", clip_dir]
    ref, naive = tmp_path / "ref", tmp_path / "naive"
    assert run("eval", "--protocol", "colbench", "--agent", "naive", "--out", naive, *common).returncode == 0
    proc = run("eval", "--protocol", "colbench", "--agent", "reference", "--out", ref, "--baseline", naive, *common)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((ref / "summary.json").read_text())
    assert summary["score"]["mean"] == pytest.approx(1.0, abs=1e-5)
    assert summary["win_rate"]["tasks"] == 3 and summary["win_rate"]["mean"] == 1.0
    assert "win rate" in proc.stdout
