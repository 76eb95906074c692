"""`colbench regress`: did a candidate run get worse than a baseline, beyond an allowed drop?

Both sides reduce to one value per task (the mean of the metric over the task's ok
episodes; a submission file already holds these). On the tasks both share, the drop is the
mean of (baseline - candidate). It is a regression only when the one-sided lower confidence
bound of the drop exceeds --max-drop, so noise alone does not fail a CI job, and a real
drop does. The bound comes from a paired bootstrap over tasks; for a binary metric
(success with one sample per task) and --max-drop 0 the exact McNemar (sign) test decides.

Task sets: the candidate must have every task of the baseline (a missing task could hide a
regression), unless `subset` is asked for; tasks only the candidate has are ignored. Runs
on different task files (sha256) or splits are never compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from colbench.errors import ColbenchError
from colbench.leaderboard import load_submission
from colbench.runs import RunDir
from colbench.stats import PAIRED_RESAMPLES, is_binary, mcnemar_exact, paired_bootstrap, per_task_means

METRICS = ("score", "success")


@dataclass
class Side:
    """One side of the comparison: per-task values of the metric plus what it was run with."""

    path: str
    kind: str  # "run" or "submission"
    split: str
    values: pd.Series  # task_id -> mean of the metric over ok samples
    samples: int
    tasks_sha256: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # human, compat, harness: warned about if they differ
    unscored_tasks: int = 0  # tasks seen only in errored episodes


@dataclass
class Regression:
    metric: str
    baseline: Side
    candidate: Side
    tasks: int
    baseline_mean: float
    candidate_mean: float
    drop: float  # mean over shared tasks of baseline - candidate
    ci: tuple[float, float]  # two-sided, at `confidence`
    lower_bound: float  # one-sided lower bound of the drop
    max_drop: float
    confidence: float
    method: str
    regressed: bool
    mcnemar: tuple[int, int, float] | None = None  # lost, gained, one-sided p
    ignored_candidate_tasks: int = 0
    missing_candidate_tasks: int = 0
    warnings: list[str] = field(default_factory=list)


def load_side(path: str | Path, metric: str) -> Side:
    """A run directory or a submission JSON file, as per-task values of `metric`."""
    p = Path(path)
    if p.is_dir():
        run = RunDir.existing(p)
        config = run.read_config()
        frame = run.frame()
        split = str(config.get("split"))
        _check_metric(metric, split, p)
        values = per_task_means(frame, metric)
        seen = set(frame["task_id"].astype(str)) if len(frame) else set()
        return Side(path=str(p), kind="run", split=split, values=values, samples=int(config.get("samples") or 1),
                    tasks_sha256=config.get("tasks_sha256"), unscored_tasks=len(seen - set(values.index)),
                    settings={"human": config.get("human"), "scoring mode": config.get("compat") or "default",
                              "harness": config.get("harness_version")})
    if p.is_file():
        sub = load_submission(p)
        _check_metric(metric, sub["split"], p)
        values = pd.Series({t: float(e[metric]) for t, e in sub["per_task"].items()}, name=metric, dtype=float)
        return Side(path=str(p), kind="submission", split=sub["split"], values=values, samples=sub["run"]["samples"],
                    tasks_sha256=sub["tasks"]["sha256"],
                    settings={"human": sub["human"]["spec"], "scoring mode": sub["harness"]["compat"] or "default",
                              "harness": sub["harness"]["version"]})
    raise ColbenchError(f"{p} is neither a run directory nor a submission JSON file")


def _check_metric(metric: str, split: str, path: Path) -> None:
    if metric not in METRICS:
        raise ColbenchError(f"unknown metric {metric!r}; use score or success")
    if split == "frontend" and metric == "success":
        raise ColbenchError(f"{path} is a frontend run, which has no success metric; use --metric score")


def check_thresholds(max_drop: float, confidence: float) -> None:
    """One sentence for a threshold that could never fail a run: a NaN compares false with
    every bound (a 100-point drop would pass), an infinite drop allows anything. A one-sided
    level below 0.5 would put the bound above the observed drop, failing runs on noise."""
    if not isinstance(max_drop, (int, float)) or not math.isfinite(max_drop):
        raise ColbenchError(f"--max-drop must be a finite number (0.02 = 2 points), got {max_drop}")
    if max_drop < 0:
        raise ColbenchError(f"--max-drop must not be negative, got {max_drop}")
    if not isinstance(confidence, (int, float)) or not 0.5 <= confidence < 1:
        raise ColbenchError(f"--confidence must be at least 0.5 and below 1 (e.g. 0.95), got {confidence}")


def compare(baseline: Side, candidate: Side, *, metric: str, max_drop: float, confidence: float = 0.95,
            subset: bool = False, resamples: int = PAIRED_RESAMPLES, seed: int = 0) -> Regression:
    """The paired comparison and its verdict; a mismatch of task sets is a ColbenchError."""
    check_thresholds(max_drop, confidence)
    if baseline.split != candidate.split:
        raise ColbenchError(f"the baseline is a {baseline.split} run and the candidate a {candidate.split} run")
    if baseline.tasks_sha256 and candidate.tasks_sha256 and baseline.tasks_sha256 != candidate.tasks_sha256:
        raise ColbenchError(f"the baseline and the candidate were run on different task files (sha256 "
                            f"{baseline.tasks_sha256[:12]}... and {candidate.tasks_sha256[:12]}...), so their task "
                            "ids do not name the same tasks")
    shared = baseline.values.index.intersection(candidate.values.index)
    if not len(shared):
        raise ColbenchError(f"the baseline ({len(baseline.values)} scored tasks) and the candidate "
                            f"({len(candidate.values)}) share no scored task")
    missing = baseline.values.index.difference(candidate.values.index)
    if len(missing) and not subset:
        examples = ", ".join(map(str, list(missing[:3])))
        raise ColbenchError(
            f"the candidate has no scored episode for {len(missing)} of the baseline's {len(baseline.values)} tasks "
            f"(e.g. {examples}); evaluate the same tasks (finish errored episodes with --resume) or pass --subset "
            "to compare on the shared tasks only")
    b = baseline.values[shared].to_numpy(dtype=float)
    c = candidate.values[shared].to_numpy(dtype=float)
    diffs = b - c
    lower, ci = paired_bootstrap(diffs, confidence=confidence, resamples=resamples, seed=seed)
    mcnemar = mcnemar_exact(b, c) if is_binary(b) and is_binary(c) else None
    if mcnemar is not None and max_drop == 0:
        method = "exact McNemar (sign) test"
        regressed = mcnemar[2] < 1 - confidence
    else:
        method = f"paired bootstrap over tasks ({resamples} resamples)"
        regressed = lower > max_drop
    # Different humans or checkers move the numbers on their own: said, not refused.
    warnings = [f"{key} differs: baseline {baseline.settings.get(key)!r}, candidate {candidate.settings.get(key)!r}"
                for key in baseline.settings if baseline.settings.get(key) != candidate.settings.get(key)]
    if candidate.unscored_tasks:
        warnings.append(f"the candidate has {candidate.unscored_tasks} task(s) with only errored episodes")
    return Regression(metric=metric, baseline=baseline, candidate=candidate, tasks=len(shared),
                      baseline_mean=float(b.mean()), candidate_mean=float(c.mean()), drop=float(diffs.mean()),
                      ci=ci, lower_bound=lower, max_drop=max_drop, confidence=confidence, method=method,
                      regressed=regressed, mcnemar=mcnemar,
                      ignored_candidate_tasks=len(candidate.values.index.difference(baseline.values.index)),
                      missing_candidate_tasks=len(missing), warnings=warnings)


def regress(baseline: str | Path, candidate: str | Path, *, metric: str, max_drop: float,
            confidence: float = 0.95, subset: bool = False) -> Regression:
    check_thresholds(max_drop, confidence)  # before any run is read
    return compare(load_side(baseline, metric), load_side(candidate, metric), metric=metric, max_drop=max_drop,
                   confidence=confidence, subset=subset)


def render_markdown(r: Regression) -> str:
    """A summary for CI logs (and $GITHUB_STEP_SUMMARY)."""
    level = f"{100 * r.confidence:g}%"
    verdict = (f"**FAIL**: the candidate's {r.metric} is lower by more than {r.max_drop:g} with {level} confidence"
               if r.regressed else
               f"**PASS**: a drop larger than {r.max_drop:g} in {r.metric} is not shown at {level} confidence")
    lines = [f"## colbench regress: {r.metric}", "",
             "| | baseline | candidate |", "|---|---|---|",
             f"| source | `{r.baseline.path}` ({r.baseline.kind}) | `{r.candidate.path}` ({r.candidate.kind}) |",
             f"| scored tasks | {len(r.baseline.values)} | {len(r.candidate.values)} |",
             f"| samples per task | {r.baseline.samples} | {r.candidate.samples} |",
             f"| mean {r.metric} on the {r.tasks} shared tasks | {r.baseline_mean:.4f} | {r.candidate_mean:.4f} |",
             "",
             f"- Tasks compared: {r.tasks}"
             + (f" (the candidate lacks {r.missing_candidate_tasks} of the baseline's: --subset)"
                if r.missing_candidate_tasks else "")
             + (f"; {r.ignored_candidate_tasks} candidate-only task(s) ignored" if r.ignored_candidate_tasks else ""),
             f"- Drop (baseline - candidate): {r.drop:+.4f}, {level} CI [{r.ci[0]:+.4f}, {r.ci[1]:+.4f}]; "
             f"one-sided {level} lower bound {r.lower_bound:+.4f} (paired bootstrap over tasks)",
             ]
    if r.mcnemar is not None:
        lost, gained, p = r.mcnemar
        lines.append(f"- Exact McNemar test: {lost} task(s) lost, {gained} gained; one-sided p = {p:.4g}")
    lines += [f"- Allowed drop: {r.max_drop:g}; decided by: {r.method}", f"- Verdict: {verdict}"]
    lines += [f"- Warning: {w}" for w in r.warnings]
    return "\n".join(lines) + "\n"
