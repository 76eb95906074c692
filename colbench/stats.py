"""Metrics with 95% bootstrap confidence intervals, computed from a run's DataFrame.

Intervals resample tasks, never single episodes: the samples of one task are not
independent (a task one agent cannot solve it fails every time), so with K samples per
task an episode-level bootstrap would be about sqrt(K) times too narrow. The summary, the
report and the leaderboard compute them with the same function and seed, so a run shows
one interval wherever it appears."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd

from colbench.llm.base import sum_usage

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0  # one seed everywhere, so the summary, report and leaderboard agree


def natural_order(text: str) -> list[Any]:
    """Sort key of the report and read_run: task 2 before task 10, digits inside names too."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part]


def task_order(task_id: str) -> tuple[int, int | str]:
    """Canonical task order (numeric ids by value, then the rest by name)."""
    return (0, int(task_id)) if task_id.isdigit() else (1, task_id)


def bootstrap_ci(values: np.ndarray, weights: np.ndarray | None = None, *, seed: int = BOOTSTRAP_SEED,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean, resampling the entries of `values`.

    With `weights`, each entry is a cluster (a task) holding `weights[i]` observations that
    sum to `values[i]`, and the statistic is sum(values) / sum(weights) over the resampled
    clusters: observations of one cluster are resampled together, as they are not
    independent (the samples of one task)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return (float("nan"), float("nan"))
    w = np.ones_like(values) if weights is None else np.asarray(weights, dtype=float)
    if len(values) == 1:
        return (float(values[0] / w[0]), float(values[0] / w[0]))
    rng = np.random.default_rng(seed)
    means = np.empty(BOOTSTRAP_RESAMPLES)
    chunk = max(1, 2_000_000 // len(values))  # bounded memory for large task sets
    for start in range(0, BOOTSTRAP_RESAMPLES, chunk):
        k = min(chunk, BOOTSTRAP_RESAMPLES - start)
        idx = rng.integers(0, len(values), size=(k, len(values)))
        means[start:start + k] = values[idx].sum(axis=1) / w[idx].sum(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return (float(lo), float(hi))


def _metric(mean: float | None, ci: tuple[float, float] | None) -> dict[str, Any]:
    return {"mean": mean, "ci95": list(ci) if ci is not None else [None, None]}


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimator: the chance that k of the n samples, drawn without
    replacement, include at least one of the c successes (Chen et al., 2021)."""
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def k_values(samples: int) -> list[int]:
    """The k of pass@k reported for `samples` samples per task."""
    return sorted({1, samples} | {k for k in (2, 5, 10, 20, 50, 100) if k < samples})


@dataclass
class TaskTotals:
    """Per task, in canonical order: its ok episodes' count and score sum, its best score,
    and how many of its episodes have a success value and how many of those succeeded."""

    task_ids: list[str]
    n: np.ndarray
    score_sum: np.ndarray
    best_score: np.ndarray
    success_n: np.ndarray
    successes: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "TaskTotals":
        ok = frame[(frame["status"] == "ok") & frame["score"].notna()] if len(frame) and "score" in frame else frame
        if not len(ok):
            empty = np.zeros(0)
            return cls([], empty, empty, empty, empty, empty)
        ok = ok.assign(task_id=ok["task_id"].astype(str), score=ok["score"].astype(float))
        has_success = "success" in ok
        succ = ok["success"] if has_success else pd.Series(index=ok.index, dtype=object)
        ok = ok.assign(success_known=succ.notna(), success_true=succ.map(lambda v: v is True or v == 1))
        g = ok.groupby("task_id")
        table = pd.DataFrame({"n": g.size(), "score_sum": g["score"].sum(), "best_score": g["score"].max(),
                              "success_n": g["success_known"].sum(), "successes": g["success_true"].sum()})
        ids = sorted(table.index, key=task_order)
        table = table.loc[ids]
        return cls(ids, *(table[c].to_numpy(dtype=float) for c in
                          ("n", "score_sum", "best_score", "success_n", "successes")))


def task_metrics(totals: TaskTotals, *, samples: int = 1, with_success: bool = True) -> dict[str, Any]:
    """Mean score (and success rate) over episodes with 95% intervals that resample tasks;
    with several samples per task also best-of-k (per task the best of its samples) and
    pass@k for each k of `k_values`, over the tasks with at least k samples."""
    out: dict[str, Any] = {}
    if not len(totals.task_ids):
        out["score"] = _metric(None, None)
        if with_success:
            out["success"] = _metric(None, None)
        return out
    out["score"] = _metric(float(totals.score_sum.sum() / totals.n.sum()), bootstrap_ci(totals.score_sum, totals.n))
    known = totals.success_n > 0
    if with_success:
        if known.any():
            s, n = totals.successes[known], totals.success_n[known]
            out["success"] = _metric(float(s.sum() / n.sum()), bootstrap_ci(s, n))
        else:
            out["success"] = _metric(None, None)
    if samples > 1:
        out["best_of_k_score"] = _metric(float(totals.best_score.mean()), bootstrap_ci(totals.best_score))
        if with_success and known.any():
            best = (totals.successes[known] > 0).astype(float)
            out["best_of_k_success"] = _metric(float(best.mean()), bootstrap_ci(best))
            for k in k_values(samples):
                enough = known & (totals.success_n >= k)
                if not enough.any():
                    continue
                values = np.array([pass_at_k(int(n), int(c), k) for n, c in
                                   zip(totals.success_n[enough], totals.successes[enough])])
                out[f"pass@{k}"] = _metric(float(values.mean()), bootstrap_ci(values))
    return out


def summarize(frame: pd.DataFrame, *, expected_episodes: int | None = None, samples: int | None = None) -> dict[str, Any]:
    """Summary of a run: counts, and the metrics of `task_metrics` over its ok episodes.

    `samples` is the run's samples per task (default: the most any task has)."""
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
    totals = TaskTotals.from_frame(frame)
    if samples is None:
        samples = int(totals.n.max()) if len(totals.n) else 1
    out["task_count"] = len(totals.task_ids)
    out["samples_per_task"] = samples
    out.update(task_metrics(totals, samples=samples))  # success is None where no episode has one
    if len(ok) and "answered" in ok:
        out["answered_rate"] = float(ok["answered"].astype(float).mean())
    if len(ok) and "turns" in ok:
        # A record without turns (written by another tool) counts as none, rather than failing the summary.
        out["mean_agent_turns"] = float(ok["turns"].map(
            lambda ts: sum(isinstance(t, dict) and t.get("role") == "agent" for t in ts) if isinstance(ts, list) else 0
        ).mean())
    usage = usage_totals(frame)
    if usage:
        out["usage"] = usage
    return out


def usage_totals(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per role ("agent", "human"): the sum of each usage key (calls, tokens, seconds, cost)
    over the frame's episodes, errors included (their calls were made too); a role no
    episode recorded usage for is left out."""
    if not len(frame) or "usage" not in frame:
        return {}
    return role_usage_totals(frame["usage"])


def role_usage_totals(usages: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """usage_totals of episodes' per-role usage objects (None or NaN where an episode has none)."""
    records = [u for u in usages if isinstance(u, dict)]
    roles = sorted({role for u in records for role in u}, key=lambda r: (r != "agent", r != "human", r))
    totals = {role: sum_usage(u.get(role) for u in records) for role in roles}
    return {role: t for role, t in totals.items() if t}


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
