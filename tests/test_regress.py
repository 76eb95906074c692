"""`colbench regress`: a CI gate that fails on a real drop and not on noise."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_leaderboard import as_official, assert_one_sentence, cli, make_run, write_official

from colbench.tasks import load_tasks

N_TASKS = 200


@pytest.fixture(scope="module")
def tasks_file(tmp_path_factory):
    return write_official(tmp_path_factory.mktemp("data"), "backend", n=N_TASKS)


@pytest.fixture(scope="module")
def ids(tasks_file) -> list[str]:
    return [t.task_id for t in load_tasks(tasks_file, "backend").tasks]


def baseline_scores(n: int = N_TASKS, seed: int = 0) -> list[float]:
    """Per-task scores in tenths: 60% of the tasks solved, the rest partly (at least 1 test of 10)."""
    rng = np.random.default_rng(seed)
    return [1.0 if rng.random() < 0.6 else float(rng.integers(1, 10)) / 10 for _ in range(n)]


def flip(scores: list[float], k: int) -> list[float]:
    """The first k solved tasks now fail one of their 10 tests each."""
    out, left = list(scores), k
    for i, s in enumerate(out):
        if left and s == 1.0:
            out[i], left = 0.9, left - 1
    assert left == 0
    return out


def run_with(tmp_path, tasks_file, ids, name: str, scores: list[float], **kwargs):
    return make_run(tmp_path / name, split="backend", tasks_file=tasks_file, agent=name,
                    scores={t: [s] for t, s in zip(ids, scores)}, **kwargs)


def regress(capsys, baseline, candidate, metric: str, max_drop: float, *extra):
    return cli(capsys, "regress", "--baseline", baseline, "--candidate", candidate, "--metric", metric,
               "--max-drop", max_drop, *extra)


@pytest.mark.parametrize("metric", ["success", "score"])
def test_a_ten_point_drop_over_200_tasks_fails(tmp_path, tasks_file, ids, capsys, metric):
    base = baseline_scores()
    if metric == "success":
        worse = flip(base, 20)  # 20 of 200 tasks lost: success drops by 10 points
    else:
        worse = [round(s - 0.1, 1) for s in base]  # every task loses one of its 10 tests
    b = run_with(tmp_path, tasks_file, ids, "base", base)
    c = run_with(tmp_path, tasks_file, ids, "cand", worse)
    code, out, err = regress(capsys, b, c, metric, 0.02)
    assert code == 1, out + err
    assert "**FAIL**" in out and "Tasks compared: 200" in out
    drop = float(out.split("Drop (baseline - candidate): ")[1].split(",")[0])
    assert drop == pytest.approx(0.10, abs=1e-4)


@pytest.mark.parametrize("metric", ["success", "score"])
def test_a_half_point_change_passes(tmp_path, tasks_file, ids, capsys, metric):
    base = baseline_scores()
    # success: 1 task of 200 lost (0.5 points); score: 10 tasks lose one test of 10 (0.5 points).
    worse = flip(base, 1) if metric == "success" else flip(base, 10)
    b = run_with(tmp_path, tasks_file, ids, "base", base)
    c = run_with(tmp_path, tasks_file, ids, "cand", worse)
    code, out, err = regress(capsys, b, c, metric, 0.02)
    assert code == 0, out + err
    assert "**PASS**" in out and "+0.0050" in out


def test_identical_runs_pass_even_with_no_allowed_drop(tmp_path, tasks_file, ids, capsys):
    base = baseline_scores()
    b = run_with(tmp_path, tasks_file, ids, "base", base)
    c = run_with(tmp_path, tasks_file, ids, "cand", base)
    for metric in ("score", "success"):
        code, out, err = regress(capsys, b, c, metric, 0)
        assert code == 0, out + err
        assert "Drop (baseline - candidate): +0.0000" in out and "**PASS**" in out


def test_with_no_allowed_drop_binary_success_is_decided_by_mcnemars_exact_test(tmp_path, tasks_file, ids, capsys):
    base = baseline_scores()
    b = run_with(tmp_path, tasks_file, ids, "base", base)
    few = run_with(tmp_path, tasks_file, ids, "few", flip(base, 3))  # p = 1/8: could be chance
    many = run_with(tmp_path, tasks_file, ids, "many", flip(base, 8))  # p = 1/256
    code, out, _ = regress(capsys, b, few, "success", 0)
    assert code == 0 and "3 task(s) lost, 0 gained; one-sided p = 0.125" in out and "exact McNemar" in out
    code, out, _ = regress(capsys, b, many, "success", 0)
    assert code == 1 and "p = 0.003906" in out


def test_the_confidence_level_moves_the_verdict(tmp_path, tasks_file, ids, capsys):
    base = baseline_scores()
    b = run_with(tmp_path, tasks_file, ids, "base", base)
    c = run_with(tmp_path, tasks_file, ids, "cand", flip(base, 10))  # 5-point drop, lower bound about 2 points
    assert regress(capsys, b, c, "success", 0.01, "--confidence", "0.9")[0] == 1
    assert regress(capsys, b, c, "success", 0.01, "--confidence", "0.999")[0] == 0


def test_an_errored_episode_is_not_a_regression_but_a_missing_task(tmp_path, tasks_file, ids, capsys):
    base = baseline_scores()
    b = run_with(tmp_path, tasks_file, ids, "base", base)
    c = run_with(tmp_path, tasks_file, ids, "cand", base, errors={(ids[0], 0)})
    code, _, err = regress(capsys, b, c, "success", 0.02)
    assert_one_sentence(code, err, "no scored episode for 1 of the baseline's 200 tasks", "--resume", "--subset")
    code, out, err = regress(capsys, b, c, "success", 0.02, "--subset")
    assert code == 0, err
    assert "Tasks compared: 199" in out and "1 task(s) with only errored episodes" in out


def test_mismatched_task_sets_are_one_sentence(tmp_path, tasks_file, ids, capsys):
    base = baseline_scores()
    b = run_with(tmp_path, tasks_file, ids, "base", base)
    half = make_run(tmp_path / "half", split="backend", tasks_file=tasks_file,
                    scores={t: [s] for t, s in list(zip(ids, base))[:100]})
    code, _, err = regress(capsys, b, half, "score", 0.02)
    assert_one_sentence(code, err, "no scored episode for 100 of the baseline's 200 tasks")
    # The other way round (the candidate has more tasks) compares the 100 shared ones.
    code, out, err = regress(capsys, half, b, "score", 0.02)
    assert code == 0 and "Tasks compared: 100" in out and "100 candidate-only task(s) ignored" in out

    other_file = write_official(tmp_path / "other", "backend", n=3)
    other = make_run(tmp_path / "other-run", split="backend", tasks_file=other_file,
                     scores={t.task_id: [1.0] for t in load_tasks(other_file, "backend").tasks})
    code, _, err = regress(capsys, b, other, "score", 0.02)
    assert_one_sentence(code, err, "different task files")

    disjoint_file = tmp_path / "disjoint.jsonl"
    disjoint_file.write_text("".join(
        json.dumps({**json.loads(line), "task_id": f"x{i}"}) + "\n"
        for i, line in enumerate(tasks_file.read_text().splitlines()[:5])))
    disjoint = make_run(tmp_path / "disjoint-run", split="backend", tasks_file=disjoint_file,
                        scores={f"x{i}": [1.0] for i in range(5)}, tasks_sha256=load_tasks(tasks_file).sha256)
    code, _, err = regress(capsys, b, disjoint, "score", 0.02)
    assert_one_sentence(code, err, "share no scored task")


def test_frontend_has_no_success_metric(tmp_path, capsys):
    tasks = write_official(tmp_path / "data", "frontend", n=4)
    run = make_run(tmp_path / "f", split="frontend", tasks_file=tasks, scores={str(i): [0.8] for i in range(4)})
    code, _, err = regress(capsys, run, run, "success", 0.02)
    assert_one_sentence(code, err, "frontend run, which has no success metric", "--metric score")
    code, out, err = regress(capsys, run, run, "score", 0.02)
    assert code == 0, err


def test_the_baseline_can_be_a_leaderboard_submission(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("COLBENCH_DATA_DIR", str(data))
    tasks_file = as_official(monkeypatch, write_official(data, "backend", n=N_TASKS), "backend")
    ids = [t.task_id for t in load_tasks(tasks_file, "backend").tasks]
    base = baseline_scores()
    b = run_with(tmp_path, tasks_file, ids, "base", base)
    assert cli(capsys, "submit", b, "--dir", tmp_path / "lb", "--name", "base")[0] == 0
    submission = tmp_path / "lb" / "submissions" / "base.json"
    c = run_with(tmp_path, tasks_file, ids, "cand", flip(base, 20))
    code, out, _ = regress(capsys, submission, c, "success", 0.02)
    assert code == 1 and "(submission)" in out

    # A baseline whose numbers were edited is not trusted as a gate either.
    sub = json.loads(submission.read_text())
    solved = ids[base.index(1.0)]
    sub["per_task"][solved]["success"] = 0.0  # one task "lost" by hand, metrics left alone
    submission.write_text(json.dumps(sub))
    code, _, err = regress(capsys, submission, c, "success", 0.02)
    assert_one_sentence(code, err, "metrics do not match its per-task scores")


def test_bad_arguments_are_one_sentence(tmp_path, tasks_file, ids, capsys):
    b = run_with(tmp_path, tasks_file, ids, "base", baseline_scores())
    assert_one_sentence(*regress(capsys, b, tmp_path / "nope", "score", 0.02)[::2],
                        "neither a run directory nor a submission JSON file")
    assert_one_sentence(*regress(capsys, b, b, "score", -0.1)[::2], "--max-drop must not be negative")
    assert_one_sentence(*regress(capsys, b, b, "score", 0.02, "--confidence", "1.5")[::2], "--confidence")


@pytest.mark.parametrize("flag,value,words", [
    ("--max-drop", "nan", "--max-drop must be a finite number"),
    ("--max-drop", "inf", "--max-drop must be a finite number"),
    ("--max-drop", "-inf", "--max-drop must be a finite number"),
    ("--max-drop", "-0.5", "--max-drop must not be negative"),
    ("--confidence", "nan", "--confidence"),
    ("--confidence", "0", "--confidence"),
    ("--confidence", "1", "--confidence"),
    ("--confidence", "inf", "--confidence"),
])
def test_a_nan_max_drop_does_not_pass_a_hundred_point_drop(tmp_path, tasks_file, ids, capsys, flag, value, words):
    b = run_with(tmp_path, tasks_file, ids, "base", [1.0] * N_TASKS)
    c = run_with(tmp_path, tasks_file, ids, "cand", [0.0] * N_TASKS)  # every task lost: a 100-point drop
    args = {"--max-drop": "0.02", "--confidence": "0.95", flag: value}
    code, out, err = cli(capsys, "regress", "--baseline", b, "--candidate", c, "--metric", "success",
                         f"--max-drop={args['--max-drop']}", f"--confidence={args['--confidence']}")
    assert_one_sentence(code, err, words)
    assert out == ""


@pytest.mark.parametrize("kwargs", [{"max_drop": float("nan")}, {"max_drop": float("inf")}, {"max_drop": -1.0},
                                    {"max_drop": 0.0, "confidence": float("nan")},
                                    {"max_drop": 0.0, "confidence": 1.0}])
def test_regress_itself_refuses_a_threshold_that_cannot_fail(tmp_path, kwargs):
    from colbench.errors import ColbenchError
    from colbench.regress import regress as regress_runs

    with pytest.raises(ColbenchError, match="--max-drop|--confidence"):
        regress_runs(tmp_path / "no-such-run", tmp_path / "no-such-run", metric="score", **kwargs)
