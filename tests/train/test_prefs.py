"""Stage 1: trajectory preference pairs from a run with several samples per task."""

from __future__ import annotations

import json
import subprocess
import sys

from colbench.runs import EpisodeWriter, RunDir
from colbench.tasks import load_tasks


def make_run(path, samples: int, scores: dict[str, list[float]], same_dialogue: bool = False,
             split: str = "backend"):
    taskset = load_tasks("bundled", split)
    run = RunDir(path)
    run.start({"agent": "x", "human": "offline", "split": split, "tasks": "bundled", "samples": samples,
               "tasks_path": str(taskset.path), "tasks_sha256": taskset.sha256})
    writer = EpisodeWriter(run.episodes_path)
    for task_id, per_sample in scores.items():
        for sample, score in enumerate(per_sample):
            writer.append({"task_id": task_id, "sample": sample, "status": "ok", "score": score,
                           "success": score == 1.0 if split == "backend" else None,
                           "turns": [{"role": "agent", "content": "s" if same_dialogue else f"s{sample}"}],
                           "answer": "def f(): pass" if split == "backend" else "<html/>"})
    writer.close()
    return path


def train(*args):
    return subprocess.run([sys.executable, "-m", "colbench.cli", "train", *map(str, args)], capture_output=True,
                          text=True, timeout=120)


def test_pairs_take_the_best_success_against_each_worse_trajectory(tmp_path):
    run = make_run(tmp_path / "run", 3, {"dev-001": [0.5, 1.0, 0.2], "dev-002": [0.3, 0.6, 0.6],
                                         "dev-003": [1.0, 1.0, 0.9]})
    out = tmp_path / "pairs.jsonl"
    proc = train("prefs", run, "--out", out)
    assert proc.returncode == 0, proc.stderr
    pairs = [json.loads(l) for l in out.read_text().splitlines()]
    got = sorted((p["task_id"], p["chosen"]["sample"], p["rejected"]["sample"]) for p in pairs)
    # dev-002 has no success: no pairs; dev-003's tie goes to the earlier sample.
    assert got == [("dev-001", 1, 0), ("dev-001", 1, 2), ("dev-003", 0, 2)]
    assert all(p["reference"].startswith(("def", "import", "from")) for p in pairs)


def test_one_sample_per_task_is_one_sentence(tmp_path):
    run = make_run(tmp_path / "run", 1, {"dev-001": [1.0]})
    proc = train("prefs", run, "--out", tmp_path / "p.jsonl")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "1 sample per task" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_identical_samples_say_that_the_collection_did_not_sample(tmp_path):
    # A greedy agent: every sample of a task is the same dialogue, the same score.
    run = make_run(tmp_path / "run", 4, {"dev-001": [0.0] * 4, "dev-002": [1.0] * 4}, same_dialogue=True)
    proc = train("prefs", run, "--out", tmp_path / "p.jsonl")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "samples of every task are identical" in proc.stderr and "--agent-temperature" in proc.stderr
    # Different dialogues that all fail: the other reason.
    run = make_run(tmp_path / "run2", 2, {"dev-001": [0.0, 0.5]})
    proc = train("prefs", run, "--out", tmp_path / "p.jsonl")
    assert proc.returncode == 2 and "no task has a successful trajectory beside a worse one" in proc.stderr


def test_published_trajectories_import_as_a_run_and_give_pairs(tmp_path):
    tasks = load_tasks("bundled", "backend").tasks[:2]
    lines = []
    for reward_list, task in zip([[1.0, 0.4], [0.0, 0.2]], tasks):
        for reward in reward_list:
            lines.append({"task": {"problem_description": task.problem_description, "ground_truth": task.ground_truth,
                                   "test_cases": task.test_cases},
                          "dialogue_history": [{"role": "user", "content": task.problem_description},
                                               {"role": "assistant", "content": "Q?", "input": "...", "output": "hmm OUTPUT:Q?"},
                                               {"role": "user", "content": "A."},
                                               {"role": "assistant", "content": "I WANT TO ANSWER: x", "input": "...",
                                                "output": "I WANT TO ANSWER: x"}],
                          "answer": "x", "reward": reward})
    src = tmp_path / "traj.jsonl"
    src.write_text("".join(json.dumps(l) + "\n" for l in lines))
    proc = train("import", src, "--out", tmp_path / "imported")
    assert proc.returncode == 0, proc.stderr
    eps = [json.loads(l) for l in (tmp_path / "imported" / "episodes.jsonl").read_text().splitlines()]
    assert [(e["sample"], e["score"]) for e in eps] == [(0, 1.0), (1, 0.4), (0, 0.0), (1, 0.2)]
    assert eps[0]["turns"][0] == {"role": "agent", "content": "Q?", "raw": "hmm OUTPUT:Q?"}
    out = tmp_path / "pairs.jsonl"
    assert train("prefs", tmp_path / "imported", "--out", out).returncode == 0
    pairs = [json.loads(l) for l in out.read_text().splitlines()]
    assert len(pairs) == 1 and pairs[0]["chosen"]["score"] == 1.0 and pairs[0]["rejected"]["score"] == 0.4


def test_trajectories_without_reference_solutions_are_one_sentence(tmp_path):
    src = tmp_path / "traj.jsonl"
    src.write_text(json.dumps({"task": {"problem_description": "p"}, "dialogue_history": [], "reward": 1}) + "\n")
    proc = train("import", src, "--out", tmp_path / "imported")
    assert proc.returncode == 2 and "no reference solution" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_frontend_pairs_are_every_two_pages_a_tenth_apart_as_the_original_makes_them(tmp_path):
    task_id = load_tasks("bundled", "frontend").tasks[0].task_id
    run = make_run(tmp_path / "run", 4, {task_id: [0.5, 0.65, 0.9, 0.58]}, split="frontend")
    got = {}
    for mode in ("all", "best"):
        out = tmp_path / f"{mode}.jsonl"
        proc = train("prefs", run, "--out", out, "--frontend-pairs", mode)
        assert proc.returncode == 0, proc.stderr
        got[mode] = sorted((p["chosen"]["sample"], p["rejected"]["sample"])
                           for p in map(json.loads, out.read_text().splitlines()))
    # all (the default): 0.65 > 0.5 counts too; 0.58 vs 0.5 and 0.65 vs 0.58 are under 0.1 apart.
    assert got["all"] == [(1, 0), (2, 0), (2, 1), (2, 3)]
    assert got["best"] == [(2, 0), (2, 1), (2, 3)]
    proc = train("prefs", run, "--out", tmp_path / "default.jsonl")
    assert (tmp_path / "default.jsonl").read_text() == (tmp_path / "all.jsonl").read_text()
