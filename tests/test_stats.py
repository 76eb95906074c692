"""Summary metrics: intervals that resample tasks, best-of-k and pass@k."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from colbench.stats import bootstrap_ci, pass_at_k, summarize


def frame(rows):
    return pd.DataFrame([{"task_id": t, "sample": s, "status": status, "score": score, "success": success}
                         for t, s, status, score, success in rows])


def samples_of(per_task: list[list[float]]) -> pd.DataFrame:
    """Backend episodes: per_task[i][s] is task i's score in sample s (success when 1.0)."""
    return frame([(str(i), s, "ok", v, v == 1.0) for i, vs in enumerate(per_task) for s, v in enumerate(vs)])


def width(m) -> float:
    return m["ci95"][1] - m["ci95"][0]


def test_interval_resamples_tasks_not_episodes():
    # 100 tasks x 10 samples; each task is solved every time or never (half of them): the
    # 1000 episodes hold only 100 independent outcomes.
    per_task = [[1.0] * 10 if i % 2 else [0.0] * 10 for i in range(100)]
    summary = summarize(samples_of(per_task))
    per_task_means = np.array([np.mean(v) for v in per_task])
    assert summary["success"]["mean"] == 0.5
    # The interval of the per-task means, about 0.5 +- 0.1; resampling the 1000 episodes
    # would give about 0.5 +- 0.031 (width ~0.062).
    assert summary["success"]["ci95"] == pytest.approx(list(bootstrap_ci(per_task_means)))
    assert width(summary["success"]) > 0.15
    assert width(summary["score"]) > 0.15


def test_issue_example_a_mixed_run_gets_the_per_task_interval():
    rng = np.random.default_rng(7)
    p = rng.beta(0.5, 0.5, size=100)  # tasks from nearly always solved to nearly never
    per_task = [[1.0 if rng.random() < pi else 0.0 for _ in range(10)] for pi in p]
    summary = summarize(samples_of(per_task))
    episode_level = bootstrap_ci(np.array([v for vs in per_task for v in vs]))
    assert summary["success"]["ci95"] == pytest.approx(list(bootstrap_ci(np.array([np.mean(v) for v in per_task]))))
    assert width(summary["success"]) > 2 * (episode_level[1] - episode_level[0])


def test_unequal_samples_per_task_weigh_episodes_and_keep_tasks_together():
    # Task 0 lost two samples to infrastructure errors: the mean is over the 8 ok episodes.
    rows = [("0", 0, "ok", 1.0, True), ("0", 1, "error", None, None), ("0", 2, "error", None, None),
            ("1", 0, "ok", 0.0, False), ("1", 1, "ok", 0.0, False), ("1", 2, "ok", 1.0, True),
            ("2", 0, "ok", 0.5, False), ("2", 1, "ok", 0.5, False), ("2", 2, "ok", 0.5, False)]
    s = summarize(frame(rows))
    assert s["ok"] == 7 and s["score"]["mean"] == pytest.approx(3.5 / 7)
    assert s["success"]["mean"] == pytest.approx(2 / 7)
    lo, hi = s["score"]["ci95"]
    assert 0 <= lo <= 3.5 / 7 <= hi <= 1


@pytest.mark.parametrize(("n", "c", "k", "want"), [
    (10, 3, 1, 0.3), (10, 0, 5, 0.0), (10, 10, 3, 1.0), (5, 2, 2, 1 - 3 / 10), (10, 3, 10, 1.0),
    (4, 1, 2, 1 - math.comb(3, 2) / math.comb(4, 2)), (20, 2, 5, 1 - math.comb(18, 5) / math.comb(20, 5)),
])
def test_pass_at_k_is_the_unbiased_estimator(n, c, k, want):
    assert pass_at_k(n, c, k) == pytest.approx(want)
    # Not the plug-in 1 - (1 - c/n)^k, which is biased (except at the edges).
    if 0 < c < n and 1 < k < n:
        assert abs(pass_at_k(n, c, k) - (1 - (1 - c / n) ** k)) > 1e-3


def test_best_of_k_and_pass_at_k_in_the_summary():
    per_task = [[1.0, 0.0, 0.0, 0.0], [0.2, 0.6, 0.4, 0.1], [1.0, 1.0, 0.5, 1.0], [0.0, 0.0, 0.0, 0.0]]
    s = summarize(samples_of(per_task), samples=4)
    assert s["samples_per_task"] == 4
    assert s["best_of_k_score"]["mean"] == pytest.approx((1.0 + 0.6 + 1.0 + 0.0) / 4)
    assert s["best_of_k_success"]["mean"] == pytest.approx(2 / 4)
    assert set(k for k in s if k.startswith("pass@")) == {"pass@1", "pass@2", "pass@4"}
    assert s["pass@1"]["mean"] == pytest.approx(s["success"]["mean"]) == pytest.approx(4 / 16)
    assert s["pass@2"]["mean"] == pytest.approx((pass_at_k(4, 1, 2) + 0 + pass_at_k(4, 3, 2) + 0) / 4)
    assert s["pass@4"]["mean"] == s["best_of_k_success"]["mean"]


def test_one_sample_has_no_k_metrics_and_frontend_no_success_ones():
    single = summarize(samples_of([[1.0], [0.0]]))
    assert not any(k.startswith(("pass@", "best_of_k")) for k in single)
    front = frame([("a", s, "ok", v, None) for s, v in enumerate([0.8, 0.9])])
    s = summarize(front)
    assert s["best_of_k_score"]["mean"] == pytest.approx(0.9) and s["success"]["mean"] is None
    assert not any(k.startswith("pass@") or k == "best_of_k_success" for k in s)
