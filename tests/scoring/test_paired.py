"""Statistics behind `colbench regress`: per-task means, the paired bootstrap, McNemar's exact test."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pandas as pd
import pytest

from colbench.stats import is_binary, mcnemar_exact, paired_bootstrap, per_task_means


def test_per_task_means_average_ok_samples_and_leave_out_errored_tasks():
    frame = pd.DataFrame([
        {"task_id": 1, "sample": 0, "status": "ok", "score": 1.0, "success": True},
        {"task_id": 1, "sample": 1, "status": "ok", "score": 0.5, "success": False},
        {"task_id": 1, "sample": 2, "status": "error", "score": None, "success": None},
        {"task_id": 2, "sample": 0, "status": "error", "score": None, "success": None},
        {"task_id": 3, "sample": 0, "status": "ok", "score": 0.2, "success": False},
    ])
    assert per_task_means(frame, "score").to_dict() == {"1": 0.75, "3": 0.2}
    assert per_task_means(frame, "success").to_dict() == {"1": 0.5, "3": 0.0}
    assert per_task_means(pd.DataFrame(), "score").empty


def test_the_bootstrap_of_a_constant_difference_is_that_constant():
    lower, (lo, hi) = paired_bootstrap(np.full(50, 0.1))
    assert lower == lo == hi == pytest.approx(0.1)


def test_the_bootstrap_bounds_bracket_the_mean_and_the_one_sided_bound_is_tighter():
    d = np.random.default_rng(3).normal(0.05, 0.3, 400)
    lower, (lo, hi) = paired_bootstrap(d, confidence=0.95)
    assert lo < lower < d.mean() < hi
    se = d.std(ddof=1) / np.sqrt(len(d))  # normal theory, for scale
    assert lower == pytest.approx(d.mean() - 1.645 * se, abs=0.25 * se)
    assert (lo, hi) == pytest.approx((d.mean() - 1.96 * se, d.mean() + 1.96 * se), abs=0.25 * se)
    assert paired_bootstrap(d, seed=7) == paired_bootstrap(d, seed=7)  # seeded: CI logs are reproducible


def test_the_one_sided_lower_bound_has_about_its_nominal_coverage():
    """The bound must lie above the true drop in about 5% of experiments at 95%: a gate built on
    it fails a job that did not regress about that often, and no more."""
    rng = np.random.default_rng(11)
    true_drop, trials = 0.05, 300
    above = 0
    for t in range(trials):
        d = (rng.random(100) < 0.6).astype(float) - (rng.random(100) < 0.6 - true_drop).astype(float)
        lower, _ = paired_bootstrap(d, confidence=0.95, resamples=2000, seed=t)
        above += lower > true_drop
    assert 0.01 <= above / trials <= 0.10


@pytest.mark.parametrize("lost,gained", [(3, 0), (5, 5), (12, 4), (0, 7), (0, 0)])
def test_mcnemar_matches_the_binomial_tail(lost, gained):
    b = np.array([1] * lost + [0] * gained + [1, 1, 0])  # plus concordant pairs, which do not count
    c = np.array([0] * lost + [1] * gained + [1, 1, 0])
    m = lost + gained
    expected = 1.0 if m == 0 else float(Fraction(sum(comb(m, k) for k in range(lost, m + 1)), 2 ** m))
    assert mcnemar_exact(b, c) == (lost, gained, pytest.approx(expected, rel=1e-12))


def test_mcnemar_by_hand():
    assert mcnemar_exact(np.array([1, 1, 1, 0]), np.zeros(4))[2] == 0.125  # 3 lost of 3 discordant: 1/8
    assert mcnemar_exact(np.array([1] * 5 + [0] * 5), np.array([0] * 5 + [1] * 5))[2] == 638 / 1024


def test_mcnemar_needs_binary_outcomes():
    assert is_binary(np.array([0.0, 1.0, 1.0])) and not is_binary(np.array([0.0, 0.5]))
    with pytest.raises(ValueError):
        mcnemar_exact(np.array([0.5, 1.0]), np.array([1.0, 1.0]))
