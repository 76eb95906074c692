"""Metrics with 95% bootstrap confidence intervals, computed from a run's DataFrame."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

BOOTSTRAP_RESAMPLES = 2000


def bootstrap_ci(values: np.ndarray, *, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return (float("nan"), float("nan"))
    if len(values) == 1:
        return (float(values[0]), float(values[0]))
    rng = np.random.default_rng(seed)
    means = rng.choice(values, size=(BOOTSTRAP_RESAMPLES, len(values)), replace=True).mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return (float(lo), float(hi))


def summarize(frame: pd.DataFrame, *, expected_episodes: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Summary of a run: counts, mean score and success rate with 95% CIs over ok episodes."""
    n = len(frame)
    ok = frame[frame["status"] == "ok"] if n else frame
    out: dict[str, Any] = {
        "episodes": n,
        "ok": int(len(ok)),
        "errors": int(n - len(ok)),
    }
    if expected_episodes is not None:
        out["expected_episodes"] = expected_episodes
        out["missing"] = max(0, expected_episodes - n)
    for name, column in (("score", "score"), ("success", "success")):
        present = ok[column].dropna() if len(ok) and column in ok else []
        if len(present):
            values = present.astype(float).to_numpy()
            lo, hi = bootstrap_ci(values, seed=seed)
            out[name] = {"mean": float(values.mean()), "ci95": [lo, hi]}
        else:
            out[name] = {"mean": None, "ci95": [None, None]}
    if len(ok) and "answered" in ok:
        out["answered_rate"] = float(ok["answered"].astype(float).mean())
    if len(ok) and "turns" in ok:
        out["mean_agent_turns"] = float(ok["turns"].map(lambda ts: sum(t["role"] == "agent" for t in ts)).mean())
    return out


def win_rate(frame: pd.DataFrame, baseline: pd.DataFrame) -> dict[str, Any]:
    """Per task (mean score over its ok samples): 1 if higher than the baseline's, 0.5 on a
    tie, 0 if lower; averaged over the tasks both runs have, with a 95% bootstrap CI."""
    def per_task(df: pd.DataFrame) -> pd.Series:
        if not len(df):
            return pd.Series(dtype=float)
        ok = df[(df["status"] == "ok") & df["score"].notna()]
        return ok.groupby(ok["task_id"].astype(str))["score"].mean()

    ours, theirs = per_task(frame), per_task(baseline)
    common = ours.index.intersection(theirs.index)
    if not len(common):
        return {"tasks": 0, "mean": None, "ci95": [None, None]}
    diff = ours[common].to_numpy() - theirs[common].to_numpy()
    wins = np.where(np.isclose(diff, 0.0, atol=1e-9), 0.5, (diff > 0).astype(float))
    lo, hi = bootstrap_ci(wins)
    return {"tasks": int(len(common)), "mean": float(wins.mean()), "ci95": [lo, hi]}


# --- Paired comparisons (colbench regress) -------------------------------------------------

PAIRED_RESAMPLES = 10_000


def per_task_means(frame: pd.DataFrame, metric: str) -> pd.Series:
    """Per task (index: task_id as str): the mean of `metric` over its ok episodes.

    Tasks with no ok episode carrying the metric are absent, so an infrastructure error is
    never counted as a failure of the agent.
    """
    if not len(frame) or metric not in frame or "status" not in frame:
        return pd.Series(dtype=float, name=metric)
    ok = frame[(frame["status"] == "ok") & frame[metric].notna()]
    values = ok[metric].astype(float)
    return values.groupby(ok["task_id"].astype(str)).mean().rename(metric)


def paired_bootstrap(diffs: np.ndarray, *, confidence: float = 0.95, resamples: int = PAIRED_RESAMPLES,
                     seed: int = 0) -> tuple[float, tuple[float, float]]:
    """Paired percentile bootstrap of the mean of per-task differences.

    Returns (one-sided lower confidence bound, two-sided interval), both at `confidence`.
    Tasks are resampled, so the per-task pairing is kept.
    """
    d = np.asarray(diffs, dtype=float)
    if len(d) == 0:
        raise ValueError("no differences to bootstrap")
    if len(d) == 1 or np.all(d == d[0]):
        return float(d[0]), (float(d[0]), float(d[0]))
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // len(d))  # bounded memory for large task sets
    for start in range(0, resamples, chunk):
        k = min(chunk, resamples - start)
        means[start:start + k] = d[rng.integers(0, len(d), size=(k, len(d)))].mean(axis=1)
    alpha = 1.0 - confidence
    lower = float(np.quantile(means, alpha))
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return lower, (float(lo), float(hi))


def mcnemar_exact(baseline: np.ndarray, candidate: np.ndarray) -> tuple[int, int, float]:
    """Exact McNemar (sign) test on paired binary outcomes, one-sided for "the candidate is worse".

    Returns (lost, gained, p): tasks the baseline solved and the candidate did not, the
    reverse, and P(X >= lost) for X ~ Binomial(lost + gained, 1/2).
    """
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    if not (np.isin(b, (0.0, 1.0)).all() and np.isin(c, (0.0, 1.0)).all()):
        raise ValueError("McNemar's test needs binary outcomes")
    lost = int(np.sum((b == 1) & (c == 0)))
    gained = int(np.sum((b == 0) & (c == 1)))
    m = lost + gained
    if m == 0:
        return lost, gained, 1.0
    from fractions import Fraction
    from math import comb

    tail = sum(comb(m, k) for k in range(lost, m + 1))
    return lost, gained, float(Fraction(tail, 2 ** m))


def is_binary(values: np.ndarray) -> bool:
    return bool(np.isin(np.asarray(values, dtype=float), (0.0, 1.0)).all())
