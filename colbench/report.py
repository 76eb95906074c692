"""`colbench report RUN_DIR`: one self-contained HTML page about a run, and
`colbench report RUN_A RUN_B`: one page comparing two runs task by task.

The run's page has the summary with 95% confidence intervals (and the models' usage:
calls, tokens, seconds, cost, when the records carry it), a per-episode table that sorts
when a column header is clicked, the same episodes grouped by task (each task's samples
together, with its mean), filters on both (status, score range, task id), and for each
episode its transcript, its answer, the failing tests (backend: call, expected and actual
values, error) or the agent's final page beside the reference page (frontend). CSS and
script are inline and nothing is fetched from the network; screenshots are linked by paths
relative to the report, so the page opens from disk inside the run directory (embedding
them would make a 500-task report gigabytes).

Everything an agent or a human wrote is untrusted: the template escapes it (Jinja2
autoescape), so a transcript holding `<script>` shows as text and never runs.

Works for runs still in progress or stopped early (missing episodes are counted and listed)
and for episodes that ended in an infrastructure error (no score). A report written while
a `colbench eval` holds the run (its eval.lock) says so and reloads itself every few
seconds; `colbench eval` rewrites it as episodes finish (`live_report`) and once more at
the end, when it stops reloading.

The comparison page reduces each run to per-task means as `colbench regress` does and shows
regress's paired statistics (colbench/regress.py: paired bootstrap over tasks, exact
McNemar test for binary metrics) on the tasks both runs scored.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from colbench.errors import ColbenchError
from colbench.jsonl import check_writable, write_text_atomic
from colbench.llm.base import USAGE_KEYS
from colbench.runs import SUMMARY_FILE, EpisodeRecord, RunDir
from colbench.stats import mcnemar_exact, natural_order, role_usage_totals, summarize, win_rate

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
# A runaway model can write megabytes per message; the report shows this much of any one
# text and says where the rest is, so a large run still gives a page a browser can open.
MAX_TEXT = 20_000
MAX_MISSING_LISTED = 50
REFRESH_SECONDS = 10  # how often a report of a run in progress reloads itself
ROLES = ("agent", "human")


@dataclass
class Image:
    label: str
    src: str | None  # relative URL from the report, None when the file is gone
    path: str  # as recorded, for the "not found" message


@dataclass
class TurnView:
    role: str
    number: int  # agent 1, human 1, agent 2, ...: the agent's turn this belongs to
    content: str
    raw: str | None = None  # the full message when only the part after OUTPUT: counted
    screenshot: Image | None = None
    usage: str | None = None  # what the message cost, in words


@dataclass
class TestView:
    name: str
    call: str | None
    status: str
    expected: str | None
    actual: str | None
    error: str | None


@dataclass
class EpisodeView:
    anchor: str
    order: int
    task_id: str
    sample: int
    status: str
    error: str | None
    score: float | None
    success: bool | None
    passed: int | None
    total: int | None
    agent_turns: int
    answered: bool | None
    detail: str | None  # frontend scoring status (ok, no_page, render_failed, ...)
    detail_error: str | None
    blocked: str | None  # backend compat blocklist / frontend refused requests
    problem: str | None
    answer: str | None
    turns: list[TurnView] = field(default_factory=list)
    failing: list[TestView] = field(default_factory=list)
    final_page: Image | None = None
    reference_page: Image | None = None
    seconds: float | None = None
    usage_text: str = ""  # what each role's model calls cost, in words: "agent: ...; human: ..."
    tokens: int | None = None  # prompt + completion tokens of both roles, when recorded
    cost: float | None = None


@dataclass
class TaskGroup:
    """One task's samples together, for the grouped view."""

    task_id: str
    episodes: list[EpisodeView]
    mean_score: float | None  # over the ok, scored samples (as regress and the leaderboard count)
    success_rate: float | None
    ok: int


def write_report(run_dir: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Writes the run's HTML report (default RUN_DIR/report.html, atomically); returns its path."""
    run = RunDir(run_dir)
    if not run.path.exists():
        raise ColbenchError(f"run directory {run.path} does not exist")
    if not run.path.is_dir():
        raise ColbenchError(f"{run.path} is not a directory")
    RunDir.existing(run.path)
    target = Path(out) if out is not None else run.path / REPORT_FILE
    check_writable(target, "report")
    html = render_report(run, target.parent)
    try:
        write_text_atomic(target, html)
    except OSError as exc:
        raise ColbenchError(f"cannot write the report to {target}: {exc.strerror or exc}") from exc
    log.info("report written to %s", target)
    return target


def render_report(run: RunDir, report_dir: Path) -> str:
    """The report's HTML; image paths are made relative to `report_dir`."""
    config = run.read_config()
    split = str(config.get("split") or "backend")
    tasks = _load_tasks(config)
    latest = run.latest()
    frame = run.frame()
    in_progress = eval_running(run)

    samples = int(config.get("samples") or 1)
    missing: list[str] = []
    expected: int | None = None
    if tasks is not None:
        expected = len(tasks) * samples
        missing = [f"{t.task_id} #{s}" for t in tasks for s in range(samples) if (t.task_id, s) not in latest]
    saved = _read_summary(run)
    if expected is None and isinstance(saved.get("expected_episodes"), int):
        expected = saved["expected_episodes"]
    summary = summarize(frame, expected_episodes=expected, samples=samples)
    summary["win_rate"] = _win_rate(frame, saved)

    by_id = {t.task_id: t for t in tasks} if tasks is not None else {}
    records = sorted(latest.values(), key=lambda r: (natural_order(r.task_id), r.sample))
    episodes = [_episode_view(i, r, by_id.get(r.task_id), run.path, report_dir)
                for i, r in enumerate(records)]
    # The run's totals: summary.json's once the run has ended, else summed over the episodes so far.
    saved_usage = _usage_totals(saved.get("usage")) if not in_progress else None
    usage = saved_usage or _usage_totals(role_usage_totals(r.usage for r in records) or None)

    return _environment().get_template("report.html").render(
        title=f"colbench report: {config.get('agent', '?')} on {split}",
        config=config, config_rows=_config_rows(config), split=split, summary=summary, episodes=episodes,
        groups=_groups(episodes), usage=usage, usage_from_episodes=not saved_usage,
        episode_usage=any(e.tokens is not None or e.cost is not None for e in episodes),
        episode_cost=any(e.cost is not None for e in episodes),
        in_progress=in_progress, refresh_seconds=REFRESH_SECONDS, written=time.strftime("%Y-%m-%d %H:%M:%S"),
        missing=missing[:MAX_MISSING_LISTED], missing_more=max(0, len(missing) - MAX_MISSING_LISTED),
        tasks_known=tasks is not None, run_path=str(run.path))


def eval_running(run: RunDir) -> bool:
    """Whether a `colbench eval` holds the run now (its flock on eval.lock, which the kernel
    drops however the eval ends, so a killed run does not count as running). The probe is a
    shared lock taken and dropped at once; an eval of this process counts too (flock locks
    belong to open files, not processes)."""
    import fcntl

    try:
        fd = os.open(run.lock_path, os.O_RDONLY)
    except OSError:
        return False  # no lock file: never run here, or a copied directory
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # drops the shared lock if it was taken
    return False


def live_report(run_dir: str | os.PathLike, on_progress: Callable[[Any], None] | None = None,
                min_interval: float = 30.0) -> Callable[[Any], None]:
    """An on_progress callback for `evaluate` that (re)writes RUN_DIR/report.html as episodes
    finish: after the first one, then at most every `min_interval` seconds, and never
    spending more than about 5% of the run on it (a large run's page takes longer to write).
    The page says the run is in progress and reloads itself. `on_progress`, if given, is
    called first. A report that cannot be written is a warning, never the end of the run."""
    state = {"next": 0.0}

    def update(progress: Any) -> None:
        if on_progress is not None:
            on_progress(progress)
        now = time.monotonic()
        if now < state["next"]:
            return
        try:
            write_report(run_dir)
        except Exception as exc:  # noqa: BLE001 - a page is never worth an hours-long run
            log.warning("report not updated during the run: %s", exc)
        took = time.monotonic() - now
        state["next"] = now + max(min_interval, 20 * took)

    return update


@dataclass
class TaskRow:
    """One task of a comparison: each run's mean over its ok samples (None: not scored there)."""

    task_id: str
    a: float | None
    b: float | None
    a_success: float | None
    b_success: float | None
    a_episodes: str  # "ok of all" episodes of the task in run A
    b_episodes: str

    @property
    def diff(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a


@dataclass
class PairedView:
    """colbench regress's paired comparison of one metric, read as the change from A to B."""

    metric: str
    tasks: int
    mean_a: float
    mean_b: float
    change: float  # mean over shared tasks of B - A (regress's drop, negated)
    ci: tuple[float, float]  # its two-sided 95% interval
    method: str
    mcnemar: tuple[int, int, float, float] | None  # lost, gained, one-sided p of a drop, of a gain


def write_comparison(run_a: str | os.PathLike, run_b: str | os.PathLike,
                     out: str | os.PathLike | None = None) -> Path:
    """Writes the page comparing run A with run B task by task (default RUN_B/compare-<A's
    name>.html, atomically); returns its path. Bad input is one sentence (ColbenchError)."""
    a, b = _comparable_run(run_a, "run A"), _comparable_run(run_b, "run B")
    if a.path.resolve() == b.path.resolve():
        raise ColbenchError(f"run A and run B are the same directory ({a.path}); give two runs to compare")
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", a.path.resolve().name) or "run"
    target = Path(out) if out is not None else b.path / f"compare-{name}.html"
    check_writable(target, "comparison")
    html = render_comparison(a, b, target.parent)
    try:
        write_text_atomic(target, html)
    except OSError as exc:
        raise ColbenchError(f"cannot write the comparison to {target}: {exc.strerror or exc}") from exc
    log.info("comparison written to %s", target)
    return target


def _comparable_run(path: str | os.PathLike, label: str) -> RunDir:
    p = Path(path)
    if not p.exists():
        raise ColbenchError(f"{label} {p} does not exist")
    if not p.is_dir():
        raise ColbenchError(f"{label} {p} is not a directory")
    return RunDir.existing(p, label)


def render_comparison(a: RunDir, b: RunDir, page_dir: Path) -> str:
    """The comparison's HTML: per-task means of both runs, their differences, and regress's
    paired statistics on the tasks both scored; tasks only one run has are listed apart."""
    from colbench.regress import compare, load_side
    from colbench.stats import PAIRED_RESAMPLES, per_task_means

    ca, cb = a.read_config(), b.read_config()
    split_a, split_b = str(ca.get("split")), str(cb.get("split"))
    if split_a != split_b:
        raise ColbenchError(f"run A ({a.path}) is a {split_a} run and run B ({b.path}) a {split_b} run; only runs "
                            "of the same split can be compared")
    sha_a, sha_b = ca.get("tasks_sha256"), cb.get("tasks_sha256")
    if sha_a and sha_b and sha_a != sha_b:
        raise ColbenchError(f"run A and run B were run on different task files (sha256 {sha_a[:12]}... and "
                            f"{sha_b[:12]}...), so their task ids do not name the same tasks")
    metrics = ("score", "success") if split_a == "backend" else ("score",)
    sides = {m: (load_side(a.path, m), load_side(b.path, m)) for m in metrics}
    frame_a, frame_b = a.frame(), b.frame()

    def counts(frame: Any) -> dict[str, str]:
        if not len(frame):
            return {}
        ids = frame["task_id"].astype(str)
        total = ids.value_counts()
        ok = ids[frame["status"] == "ok"].value_counts()
        return {t: f"{int(ok.get(t, 0))} of {int(n)}" for t, n in total.items()}

    n_a, n_b = counts(frame_a), counts(frame_b)
    score_a, score_b = per_task_means(frame_a, "score"), per_task_means(frame_b, "score")
    succ_a = per_task_means(frame_a, "success") if "success" in metrics else None
    succ_b = per_task_means(frame_b, "success") if "success" in metrics else None

    def value(series: Any, task: str) -> float | None:
        return float(series[task]) if series is not None and task in series.index else None

    shared = sorted(set(n_a) & set(n_b), key=natural_order)
    rows = [TaskRow(task_id=t, a=value(score_a, t), b=value(score_b, t), a_success=value(succ_a, t),
                    b_success=value(succ_b, t), a_episodes=n_a[t], b_episodes=n_b[t]) for t in shared]
    paired = []
    for metric, (side_a, side_b) in sides.items():
        both = side_a.values.index.intersection(side_b.values.index)
        if not len(both):
            continue  # no task scored in both runs: nothing to pair
        r = compare(side_a, side_b, metric=metric, max_drop=0.0, subset=True)
        mcnemar = None
        if r.mcnemar is not None:
            lost, gained, p_drop = r.mcnemar
            va, vb = side_a.values[both].to_numpy(dtype=float), side_b.values[both].to_numpy(dtype=float)
            mcnemar = (lost, gained, p_drop, mcnemar_exact(vb, va)[2])
        paired.append(PairedView(metric=metric, tasks=r.tasks, mean_a=r.baseline_mean, mean_b=r.candidate_mean,
                                 change=-r.drop, ci=(-r.ci[1], -r.ci[0]),
                                 method=f"paired bootstrap over tasks ({PAIRED_RESAMPLES:,} resamples)",
                                 mcnemar=mcnemar))
    first_a, first_b = sides[metrics[0]]
    differ = [f"{key} differs: A {first_a.settings.get(key)!r}, B {first_b.settings.get(key)!r}"
              for key in first_a.settings if first_a.settings.get(key) != first_b.settings.get(key)]
    if first_a.samples != first_b.samples:
        differ.append(f"samples per task differ: A {first_a.samples}, B {first_b.samples}")
    for label, attr in (("A", "a"), ("B", "b")):
        unscored = [r.task_id for r in rows if getattr(r, attr) is None]
        if unscored:
            differ.append(f"run {label} has {len(unscored)} task(s) with only errored episodes, not compared "
                          f"(e.g. {', '.join(unscored[:3])}); finish them with colbench eval --resume")

    def report_link(run: RunDir) -> str | None:
        found = run.path / REPORT_FILE
        return quote(Path(os.path.relpath(found.resolve(), page_dir.resolve())).as_posix()) if found.is_file() else None

    runs = [{"label": label, "path": str(run.path), "config": config, "report": report_link(run)}
            for label, run, config in (("A", a, ca), ("B", b, cb))]
    return _environment().get_template("compare.html").render(
        title=f"colbench comparison: {ca.get('agent', '?')} (A) vs {cb.get('agent', '?')} (B) on {split_a}",
        split=split_a, runs=runs, rows=rows, paired=paired, warnings=differ,
        only_a=sorted(set(n_a) - set(n_b), key=natural_order), only_b=sorted(set(n_b) - set(n_a), key=natural_order))


def _environment() -> Any:
    from jinja2 import DictLoader, Environment, StrictUndefined

    env = Environment(loader=DictLoader(_TEMPLATES), autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["num"] = _num
    env.filters["ci"] = _ci
    env.filters["clip"] = _clip
    env.filters["signed"] = lambda v, digits=4: "–" if v is None else f"{v:+.{digits}f}"
    env.filters["value"] = lambda v: "" if v is None else repr(float(v))  # a cell's data-value, for sorting
    return env


def _load_tasks(config: dict[str, Any]) -> list[Any] | None:
    """The run's tasks (limit applied), if the task file is still there and unchanged: they
    give the test calls and problem statements, and which episodes are still missing."""
    from colbench.tasks import load_tasks

    path = config.get("tasks_path")
    if not path:
        return None
    try:
        taskset = load_tasks(path, config.get("split"))
    except ColbenchError as exc:
        log.warning("task file not used in the report: %s", exc)
        return None
    if config.get("tasks_sha256") and taskset.sha256 != config["tasks_sha256"]:
        log.warning("task file %s changed since the run; the report leaves out test calls", path)
        return None
    limit = config.get("limit")
    return taskset.tasks[:limit] if limit else taskset.tasks


def _read_summary(run: RunDir) -> dict[str, Any]:
    try:
        data = json.loads((run.path / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a run still going (or killed) has none yet
    return data if isinstance(data, dict) else {}


def _win_rate(frame: Any, saved: dict[str, Any]) -> dict[str, Any] | None:
    """Recomputed when the baseline run is still on disk (this run may have grown since)."""
    old = saved.get("win_rate")
    if not isinstance(old, dict) or not isinstance(old.get("baseline"), str):
        return None  # none recorded, or not as eval records it
    baseline = RunDir(old["baseline"])
    if old["baseline"] and baseline.exists():
        try:
            return {"baseline": old["baseline"], **win_rate(frame, baseline.frame())}
        except ColbenchError as exc:
            log.warning("win rate against %s not recomputed: %s", old["baseline"], exc)
    return old


def _episode_view(order: int, r: EpisodeRecord, task: Any, run_path: Path, report_dir: Path) -> EpisodeView:
    turns = []
    agent_turn = 0
    for t in r.turns:
        shot = t.get("screenshot")
        raw = t.get("raw")
        agent_turn += t["role"] == "agent"
        turns.append(TurnView(role=t["role"], number=max(agent_turn, 1), content=t["content"],
                              raw=raw if raw is not None and raw != t["content"] else None,
                              screenshot=_image("page shown", shot, run_path, report_dir) if shot else None,
                              usage=_usage_text(t.get("usage")) or None))
    calls = getattr(task, "test_cases", None) or {}
    failing = [TestView(name=x["name"], call=calls.get(x["name"]), status=x["status"],
                        expected=x.get("expected"), actual=x.get("actual"), error=x.get("error"))
               for x in r.tests or [] if not x["passed"]]
    final_page = reference_page = None
    shots = [t["screenshot"] for t in r.turns if t.get("screenshot")]
    if shots:  # the answer is the most recent rendered page
        final_page = _image("agent's final page", shots[-1], run_path, report_dir)
    for a in r.artifacts or []:
        if Path(a).name == "reference.png":
            reference_page = _image("reference page", a, run_path, report_dir)
    seconds = sum(r.timings.values()) if r.timings else None
    usage = _usage_totals(r.usage)
    return EpisodeView(
        anchor=f"ep-{order}", order=order, task_id=r.task_id, sample=r.sample,
        status=r.status, error=r.error, score=r.score, success=r.success, passed=r.passed, total=r.total,
        agent_turns=sum(t.role == "agent" for t in turns), answered=r.answered,
        detail=r.status_detail, detail_error=r.detail_error, blocked=r.blocked,
        problem=getattr(task, "problem_description", None), answer=r.answer, turns=turns,
        failing=failing, final_page=final_page, reference_page=reference_page, seconds=seconds,
        usage_text="; ".join(f"{role}: {text}" for role, text in usage),
        tokens=_usage_sum(r.usage, ("prompt_tokens", "completion_tokens")), cost=_usage_sum(r.usage, ("cost",)))


def _groups(episodes: list[EpisodeView]) -> list[TaskGroup]:
    """The episodes by task, in the table's order (tasks in natural order, samples in order)."""
    by_task: dict[str, list[EpisodeView]] = {}
    for e in episodes:
        by_task.setdefault(e.task_id, []).append(e)
    groups = []
    for task_id, views in by_task.items():
        ok = [e for e in views if e.status == "ok"]
        scores = [e.score for e in ok if e.score is not None]
        successes = [float(e.success) for e in ok if e.success is not None]
        groups.append(TaskGroup(task_id=task_id, episodes=views, ok=len(ok),
                                mean_score=sum(scores) / len(scores) if scores else None,
                                success_rate=sum(successes) / len(successes) if successes else None))
    return groups


# --- Usage: what the models' calls cost -------------------------------------------------

def _usage_number(v: Any) -> float | None:
    n = _float(v)
    return n if n is not None and math.isfinite(n) and n >= 0 else None


def _usage_totals(usage: Any) -> list[tuple[str, str]]:
    """(role, its usage in words) for each role that has any: agent, human, then others."""
    if not isinstance(usage, dict):
        return []
    order = [r for r in ROLES if r in usage] + sorted(str(r) for r in usage if r not in ROLES)
    rows = [(role, _usage_text(usage.get(role))) for role in order]
    return [(role, text) for role, text in rows if text]


def _usage_sum(usage: Any, keys: tuple[str, ...]) -> Any:
    """The sum of `keys` over the roles of an episode's usage; None when none is recorded."""
    values = [_usage_number(u.get(k)) for u in (usage or {}).values() if isinstance(u, dict) for k in keys]
    numbers = [v for v in values if v is not None]
    if not numbers:
        return None
    total = sum(numbers)
    return int(total) if all(k.endswith("tokens") for k in keys) else total


def _usage_text(u: Any) -> str:
    """`12 calls, 3,456 prompt + 789 completion tokens, 12.3 s, cost 0.0123`: what is recorded."""
    if not isinstance(u, dict):
        return ""
    n = {k: _usage_number(u.get(k)) for k in USAGE_KEYS}
    parts = []
    if n["calls"] is not None:
        parts.append(f"{int(n['calls']):,} call{'' if n['calls'] == 1 else 's'}")
    if n["prompt_tokens"] is not None or n["completion_tokens"] is not None:
        parts.append(f"{int(n['prompt_tokens'] or 0):,} prompt + {int(n['completion_tokens'] or 0):,} "
                     "completion tokens")
    if n["seconds"] is not None:
        parts.append(f"{n['seconds']:.1f} s")
    if n["cost"] is not None:
        parts.append(f"cost {n['cost']:.4f}")
    return ", ".join(parts)


def _image(label: str, recorded: str, run_path: Path, report_dir: Path) -> Image:
    found = _artifact_file(run_path, str(recorded))
    src = None
    if found is not None:
        src = quote(Path(os.path.relpath(found.resolve(), report_dir.resolve())).as_posix())
    return Image(label=label, src=src, path=str(recorded))


def _artifact_file(run_path: Path, recorded: str) -> Path | None:
    """The screenshot on disk. Paths are recorded as the run saw them (absolute, or relative
    to the directory eval ran in), so look under this run's artifacts/ first: that still
    works after the run directory was moved or copied."""
    p = Path(recorded)
    candidates = []
    if "artifacts" in p.parts:
        i = len(p.parts) - 1 - p.parts[::-1].index("artifacts")
        candidates.append(run_path.joinpath(*p.parts[i:]))
    candidates += [p, run_path / p] if not p.is_absolute() else [p]
    return next((c for c in candidates if c.is_file()), None)


def _float(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _num(v: Any, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _ci(m: dict[str, Any] | None) -> str:
    if not isinstance(m, dict) or _float(m.get("mean")) is None:
        return "–"
    ci = m.get("ci95")
    lo, hi = (_float(ci[0]), _float(ci[1])) if isinstance(ci, (list, tuple)) and len(ci) == 2 else (None, None)
    if lo is None or hi is None:
        return f"{m['mean']:.3f}"
    return f"{m['mean']:.3f} [{lo:.3f}, {hi:.3f}]"


def _clip(text: Any) -> str:
    s = "" if text is None else str(text)
    if len(s) <= MAX_TEXT:
        return s
    return f"{s[:MAX_TEXT]}\n… ({len(s) - MAX_TEXT} more characters, in episodes.jsonl)"


def _config_rows(config: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in config.items()]


_STYLE = r"""
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem auto; max-width: 1200px;
         padding: 0 1rem; color: #1f2328; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; } h3 { font-size: 1rem; }
  [hidden] { display: none !important; }
  table { border-collapse: collapse; }
  th, td { border-bottom: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; vertical-align: top; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  table.sortable th[data-sort] { cursor: pointer; user-select: none; white-space: nowrap; }
  table.sortable th[data-sort]::after { content: " \2195"; color: #8c959f; }
  table.sortable th[aria-sort=ascending]::after { content: " \25B2"; color: #1f2328; }
  table.sortable th[aria-sort=descending]::after { content: " \25BC"; color: #1f2328; }
  .status-ok { color: #1a7f37; } .status-error { color: #cf222e; font-weight: 600; }
  .banner { background: #fff8c5; border: 1px solid #d4a72c; padding: .5rem .8rem; border-radius: 6px; }
  .errorbox { background: #ffebe9; border: 1px solid #ff818266; padding: .5rem .8rem; border-radius: 6px;
              white-space: pre-wrap; }
  pre, .text { white-space: pre-wrap; word-break: break-word; font: 12.5px/1.4 ui-monospace, monospace;
               background: #f6f8fa; padding: .5rem .7rem; border-radius: 6px; margin: .3rem 0; }
  details.episode { border: 1px solid #d0d7de; border-radius: 6px; margin: .6rem 0; padding: .4rem .8rem; }
  details.episode > summary { cursor: pointer; font-weight: 600; }
  .turn { margin: .5rem 0; } .role { font-weight: 600; font-size: 12px; text-transform: uppercase; }
  .role-agent { color: #0969da; } .role-human { color: #8250df; }
  .turn-usage { font-weight: normal; text-transform: none; color: #656d76; }
  .pages { display: flex; gap: 1rem; flex-wrap: wrap; }
  .pages figure { margin: 0; flex: 1 1 45%; min-width: 280px; }
  .pages img { width: 100%; border: 1px solid #d0d7de; }
  img.thumb { max-width: 320px; border: 1px solid #d0d7de; display: block; }
  .muted { color: #656d76; }
  .controls { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; align-items: center; background: #f6f8fa;
              border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem .8rem; margin: .6rem 0; }
  .controls label { white-space: nowrap; }
  .controls input[type=number] { width: 5.5em; }
  tbody.task-group tr.group-head > * { background: #f6f8fa; border-top: 2px solid #d0d7de; }
  .up { color: #1a7f37; } .down { color: #cf222e; }
  td.paired-change { white-space: nowrap; }
"""

_SORT_SCRIPT = r"""
// Sorting: numbers by value, text in natural order; empty cells (no score: errors,
// unfinished) stay last in both directions. Array.prototype.sort is stable, so ties keep
// the previous order and successive clicks sort by several keys.
function sortTable(table, th) {
  const col = Array.prototype.indexOf.call(th.parentNode.children, th);
  const asc = th.getAttribute("aria-sort") !== "ascending";
  for (const other of th.parentNode.children) other.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  const numeric = th.dataset.sort === "num";
  const body = table.tBodies[0];
  const key = (row) => {
    const cell = row.children[col];
    return cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
  };
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    if (x === "" || y === "") return (x === "") - (y === "");
    const d = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, undefined, {numeric: true});
    return asc ? d : -d;
  });
  for (const row of rows) body.appendChild(row);
}
for (const table of document.querySelectorAll("table.sortable")) {
  for (const th of table.tHead.rows[0].cells) {
    if (!th.dataset.sort) continue;
    th.tabIndex = 0;
    th.addEventListener("click", () => sortTable(table, th));
    th.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); sortTable(table, th); }
    });
  }
}
"""

_REPORT = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{% include "style.css" %}</style>
</head>
<body{% if in_progress %} data-refresh="{{ refresh_seconds }}"{% endif %}>
<h1>{{ title }}</h1>
<p class="muted">Run directory <code>{{ run_path }}</code>; started {{ config.get("started", "?") }};
colbench {{ config.get("harness_version", "?") }}.</p>

<h2>Summary</h2>
{% if in_progress %}
<p class="banner" id="in-progress">Run in progress: {{ summary.episodes }}
{%- if summary.get("expected_episodes") is not none %} of {{ summary.expected_episodes }}{% endif %} episodes
finished when this page was written ({{ written }}).
It reloads itself every {{ refresh_seconds }} s until the run ends.
<label><input type="checkbox" id="auto-refresh" checked> reload</label></p>
{% elif summary.get("missing") %}
<p class="banner" id="partial">Partial run: {{ summary.episodes }} of {{ summary.expected_episodes }} episodes
finished, {{ summary.missing }} missing.</p>
{% endif %}
<table id="summary">
  <tr><th>agent</th><td>{{ config.get("agent", "?") }}</td></tr>
  <tr><th>human</th><td>{{ config.get("human", "?") }}</td></tr>
  <tr><th>split / tasks</th><td>{{ split }} / {{ config.get("tasks", "?") }}</td></tr>
  <tr><th>episodes</th><td>{{ summary.episodes }}{% if summary.get("expected_episodes") is not none %}
    of {{ summary.expected_episodes }}{% endif %} ({{ summary.ok }} ok, {{ summary.errors }} errors)</td></tr>
  <tr><th>{% if split == "frontend" %}mean similarity{% else %}mean score{% endif %} [95% CI]</th>
    <td id="summary-score">{{ summary.score | ci }}</td></tr>
  {% if split != "frontend" %}
  <tr><th>success rate [95% CI]</th><td id="summary-success">{{ summary.success | ci }}</td></tr>
  {% endif %}
  {% set k = summary.get("samples_per_task", 1) %}
  {% if summary.get("best_of_k_score") %}
  <tr><th>best-of-{{ k }} {% if split == "frontend" %}similarity{% else %}score{% endif %} [95% CI]</th>
    <td id="summary-best-score">{{ summary.best_of_k_score | ci }}</td></tr>
  {% endif %}
  {% if summary.get("best_of_k_success") %}
  <tr><th>best-of-{{ k }} success [95% CI]</th><td id="summary-best-success">{{ summary.best_of_k_success | ci }}</td></tr>
  {% endif %}
  {% for key, m in summary.items() if key.startswith("pass@") %}
  <tr><th>{{ key }} (unbiased, {{ k }} samples) [95% CI]</th><td class="summary-pass">{{ m | ci }}</td></tr>
  {% endfor %}
  {% if summary.get("samples_per_task", 1) > 1 %}
  <tr><th>intervals</th><td>resample tasks, keeping each task's {{ k }} samples together</td></tr>
  {% endif %}
  {% if summary.get("win_rate") %}
  <tr><th>win rate vs {{ summary.win_rate.get("baseline", "?") }} [95% CI]</th>
    <td>{{ summary.win_rate | ci }} over {{ summary.win_rate.get("tasks", 0) }} tasks</td></tr>
  {% endif %}
  {% if summary.get("answered_rate") is not none %}
  <tr><th>answered (said I WANT TO ANSWER)</th><td>{{ summary.answered_rate | num }}</td></tr>
  {% endif %}
  {% if summary.get("mean_agent_turns") is not none %}
  <tr><th>mean agent turns</th><td>{{ summary.mean_agent_turns | num(2) }}</td></tr>
  {% endif %}
  {% if usage %}
  <tr><th>model usage{% if usage_from_episodes %} (summed over the episodes listed){% endif %}</th>
    <td id="summary-usage">
    {% for role, text in usage %}<div data-role="{{ role }}">{{ role }}: {{ text }}</div>{% endfor %}
    </td></tr>
  {% endif %}
</table>
<p class="muted">Means and 95% bootstrap intervals are over episodes with status ok; episodes that ended
in an infrastructure error are counted but not scored.</p>
<details><summary>Run configuration</summary>
<table>{% for k, v in config_rows %}<tr><th>{{ k }}</th><td><code>{{ v }}</code></td></tr>{% endfor %}</table>
</details>
{% if missing %}
<details id="missing"><summary>Episodes not finished ({{ summary.missing }})</summary>
<p>{{ missing | join(", ") }}{% if missing_more %} and {{ missing_more }} more{% endif %}</p>
</details>
{% endif %}

<h2>Episodes</h2>
<p class="muted">Click a column header to sort (again to reverse); click a task to open its transcript. The filters
apply to both views and to the transcripts below.</p>
<div class="controls" id="filters">
  <span role="radiogroup" aria-label="view">
  <label><input type="radio" name="view" value="episodes" checked> one row per episode</label>
  <label><input type="radio" name="view" value="tasks"> grouped by task</label>
  </span>
  <label>status <select id="filter-status"><option value="">any</option><option value="ok">ok</option>
    <option value="error">error</option></select></label>
  <label>{% if split == "frontend" %}similarity{% else %}score{% endif %} from
    <input type="number" id="filter-min" step="any"></label>
  <label>to <input type="number" id="filter-max" step="any"></label>
  <label>task id contains <input type="search" id="filter-task"></label>
  <button type="button" id="filter-clear">clear filters</button>
  <span class="muted" id="filter-count">{{ episodes | length }} of {{ episodes | length }} episodes shown</span>
</div>
{% macro filter_data(e) %}
{{ ' ' }}data-task="{{ e.task_id }}" data-status="{{ e.status }}" data-score="{{ e.score | value }}"
{%- endmacro %}
<table class="sortable" id="episodes">
<thead><tr>
  <th data-sort="text">task</th>
  <th data-sort="num" class="num">sample</th>
  <th data-sort="text">status</th>
  <th data-sort="num" class="num">{% if split == "frontend" %}similarity{% else %}score{% endif %}</th>
  {% if split == "frontend" %}
  <th data-sort="text">scoring</th>
  {% else %}
  <th data-sort="num">success</th>
  <th data-sort="num" class="num">tests passed</th>
  {% endif %}
  <th data-sort="num" class="num">agent turns</th>
  <th data-sort="num">answered</th>
  {% if episode_usage %}
  <th data-sort="num" class="num">tokens</th>
  {% if episode_cost %}<th data-sort="num" class="num">cost</th>{% endif %}
  {% endif %}
  <th>transcript</th>
</tr></thead>
<tbody>
{% for e in episodes %}
<tr data-anchor="{{ e.anchor }}"{{ filter_data(e) }}>
  <td data-value="{{ e.task_id }}"><a class="open-episode" href="#{{ e.anchor }}">{{ e.task_id }}</a></td>
  <td class="num" data-value="{{ e.sample }}">{{ e.sample }}</td>
  <td class="status-{{ e.status }}"{% if e.error %} title="{{ e.error | clip }}"{% endif %}>{{ e.status }}</td>
  <td class="num" data-value="{{ '' if e.score is none else e.score }}">{{ e.score | num }}</td>
  {% if split == "frontend" %}
  <td>{{ e.detail or "" }}</td>
  {% else %}
  <td data-value="{{ '' if e.success is none else (1 if e.success else 0) }}">{{ "" if e.success is none else ("yes" if e.success else "no") }}</td>
  <td class="num" data-value="{{ '' if e.passed is none else e.passed }}">{% if e.total is not none %}{{ e.passed }}/{{ e.total }}{% endif %}</td>
  {% endif %}
  <td class="num" data-value="{{ e.agent_turns }}">{{ e.agent_turns }}</td>
  <td data-value="{{ '' if e.answered is none else (1 if e.answered else 0) }}">{{ "" if e.answered is none else ("yes" if e.answered else "no") }}</td>
  {% if episode_usage %}
  <td class="num" data-value="{{ e.tokens | value }}" title="{{ e.usage_text }}">
    {{- "–" if e.tokens is none else "{:,}".format(e.tokens) }}</td>
  {% if episode_cost %}
  <td class="num" data-value="{{ e.cost | value }}">{{ e.cost | num(4) }}</td>
  {% endif %}
  {% endif %}
  <td><a class="open-episode" href="#{{ e.anchor }}">open</a></td>
</tr>
{% endfor %}
</tbody>
</table>
<table id="tasks" hidden>
<thead><tr>
  <th>task</th><th class="num">sample</th><th>status</th>
  <th class="num">{% if split == "frontend" %}similarity{% else %}score{% endif %}</th>
  {% if split == "frontend" %}<th>scoring</th>{% else %}<th>success</th><th class="num">tests passed</th>{% endif %}
  <th class="num">agent turns</th><th>transcript</th>
</tr></thead>
{% for g in groups %}
<tbody class="task-group" data-task="{{ g.task_id }}">
<tr class="group-head">
  {% set n = g.episodes | length %}
  <th colspan="3">{{ g.task_id }} <span class="muted">({{ n }} sample{{ "s" if n != 1 }}, {{ g.ok }} ok;
    the mean is over the ok ones)</span></th>
  <td class="num group-mean">{{ g.mean_score | num }}</td>
  {% if split == "frontend" %}
  <td></td>
  {% else %}
  <td class="group-success">{{ g.success_rate | num }}</td><td></td>
  {% endif %}
  <td></td><td></td>
</tr>
{% for e in g.episodes %}
<tr{{ filter_data(e) }}>
  <td></td>
  <td class="num">{{ e.sample }}</td>
  <td class="status-{{ e.status }}"{% if e.error %} title="{{ e.error | clip }}"{% endif %}>{{ e.status }}</td>
  <td class="num">{{ e.score | num }}</td>
  {% if split == "frontend" %}
  <td>{{ e.detail or "" }}</td>
  {% else %}
  <td>{{ "" if e.success is none else ("yes" if e.success else "no") }}</td>
  <td class="num">{% if e.total is not none %}{{ e.passed }}/{{ e.total }}{% endif %}</td>
  {% endif %}
  <td class="num">{{ e.agent_turns }}</td>
  <td><a class="open-episode" href="#{{ e.anchor }}">open</a></td>
</tr>
{% endfor %}
</tbody>
{% endfor %}
</table>
{% if not episodes %}<p>No episode has finished yet.</p>{% endif %}

<h2>Transcripts</h2>
{% for e in episodes %}
<details class="episode" id="{{ e.anchor }}"{{ filter_data(e) }}>
<summary>{{ e.task_id }} #{{ e.sample }}: <span class="status-{{ e.status }}">{{ e.status }}</span>
  {{- (", score " ~ (e.score | num)) if e.score is not none }}
  {{- (", success" if e.success else ", failed") if e.success is not none }}</summary>
{% if e.error %}<div class="errorbox">{{ e.error | clip }}</div>{% endif %}
{% if e.problem %}
<details><summary>Task</summary><div class="text">{{ e.problem | clip }}</div></details>
{% endif %}
<h3>Transcript</h3>
<div class="transcript">
{% for t in e.turns %}
<div class="turn">
  <div class="role role-{{ t.role }}">{{ t.role }} {{ t.number }}
    {%- if t.usage %} <span class="turn-usage">({{ t.usage }})</span>{% endif %}</div>
  <div class="text">{{ t.content | clip }}</div>
  {% if t.raw is not none %}
  <details><summary class="muted">full message (only the text after OUTPUT: counted)</summary>
    <div class="text">{{ t.raw | clip }}</div></details>
  {% endif %}
  {% if t.screenshot %}
    {% if t.screenshot.src %}<a href="{{ t.screenshot.src }}"><img class="thumb" loading="lazy" alt="page rendered from this message" src="{{ t.screenshot.src }}"></a>
    {% else %}<p class="muted">screenshot not found: {{ t.screenshot.path }}</p>{% endif %}
  {% endif %}
</div>
{% else %}
<p class="muted">No turns recorded.</p>
{% endfor %}
</div>
{% if e.answer is not none and split == "frontend" %}
<details><summary>Answer (the page, {{ e.answer | length }} characters)</summary>
<pre class="answer">{{ e.answer | clip }}</pre></details>
{% elif e.answer is not none %}
<h3>Answer</h3>
<pre class="answer">{{ e.answer | clip }}</pre>
{% endif %}
{% if e.blocked %}<p class="errorbox">Blocked: {{ e.blocked }}</p>{% endif %}
{% if e.failing %}
<h3>Failing tests ({{ e.failing | length }}{% if e.total is not none %} of {{ e.total }}{% endif %})</h3>
<table class="failing">
<thead><tr><th>test</th><th>call</th><th>status</th><th>expected</th><th>actual</th><th>error</th></tr></thead>
<tbody>
{% for x in e.failing %}
<tr><td>{{ x.name }}</td><td><code>{{ x.call or "" }}</code></td><td>{{ x.status }}</td>
  <td><code>{{ x.expected if x.expected is not none else "" }}</code></td>
  <td><code>{{ x.actual if x.actual is not none else "" }}</code></td>
  <td><code>{{ x.error | clip if x.error is not none else "" }}</code></td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% if e.final_page or e.reference_page or split == "frontend" %}
<h3>Final page and reference</h3>
{% if e.detail_error %}<p class="errorbox">{{ e.detail }}: {{ e.detail_error }}</p>{% endif %}
<div class="pages">
{% for img in [e.final_page, e.reference_page] %}
<figure>
  {% if img and img.src %}
  <a href="{{ img.src }}"><img loading="lazy" alt="{{ img.label }}" src="{{ img.src }}"></a>
  <figcaption>{{ img.label }}</figcaption>
  {% elif img %}
  <figcaption class="muted">{{ img.label }}: screenshot not found ({{ img.path }})</figcaption>
  {% else %}
  <figcaption class="muted">{{ "no page rendered from the agent's messages" if loop.first else "no reference screenshot" }}</figcaption>
  {% endif %}
</figure>
{% endfor %}
</div>
{% endif %}
{% if e.usage_text %}<p class="muted episode-usage">Model usage: {{ e.usage_text }}.</p>{% endif %}
{% if e.seconds is not none %}<p class="muted">{{ e.seconds | num(1) }} s (dialogue and scoring)</p>{% endif %}
</details>
{% endfor %}

<script>
"use strict";
{% include "sort.js" %}
// Filters (status, score range, task id) over the episode table, the grouped view and the
// transcripts; a task group is hidden when none of its samples is shown. The filters and
// the view are kept for the tab's session, so a page that reloads itself keeps them.
const stateKey = "colbench-report:" + location.pathname;
const controls = {status: document.getElementById("filter-status"), min: document.getElementById("filter-min"),
                  max: document.getElementById("filter-max"), task: document.getElementById("filter-task")};
const views = Array.from(document.querySelectorAll("input[name=view]"));
const refreshBox = document.getElementById("auto-refresh");
function bound(input) {
  const v = parseFloat(input.value);
  return input.value.trim() === "" || isNaN(v) ? null : v;
}
function matches(el, f) {
  if (f.status && el.dataset.status !== f.status) return false;
  if (f.task && !el.dataset.task.toLowerCase().includes(f.task)) return false;
  if (f.min !== null || f.max !== null) {
    if (el.dataset.score === "") return false;  // no score (an error): outside every range
    const s = parseFloat(el.dataset.score);
    if ((f.min !== null && s < f.min) || (f.max !== null && s > f.max)) return false;
  }
  return true;
}
function saveState() {
  const state = {status: controls.status.value, min: controls.min.value, max: controls.max.value,
                 task: controls.task.value, view: (views.find((r) => r.checked) || {}).value,
                 reload: refreshBox ? refreshBox.checked : null};
  try { sessionStorage.setItem(stateKey, JSON.stringify(state)); } catch (e) { /* storage off: not kept */ }
}
function applyFilters() {
  const f = {status: controls.status.value, min: bound(controls.min), max: bound(controls.max),
             task: controls.task.value.trim().toLowerCase()};
  let shown = 0, total = 0;
  for (const row of document.querySelectorAll("#episodes tbody tr")) {
    const ok = matches(row, f);
    row.hidden = !ok;
    total += 1;
    shown += ok;
  }
  for (const group of document.querySelectorAll("#tasks tbody.task-group")) {
    let any = false;
    for (const row of group.querySelectorAll("tr[data-status]")) {
      const ok = matches(row, f);
      row.hidden = !ok;
      any = any || ok;
    }
    group.hidden = !any;
  }
  for (const d of document.querySelectorAll("details.episode")) d.hidden = !matches(d, f);
  document.getElementById("filter-count").textContent = shown + " of " + total + " episodes shown";
  saveState();
}
function showView(view) {
  document.getElementById("episodes").hidden = view !== "episodes";
  document.getElementById("tasks").hidden = view !== "tasks";
  for (const r of views) r.checked = r.value === view;
  saveState();
}
try {
  const saved = JSON.parse(sessionStorage.getItem(stateKey) || "null");
  if (saved) {
    for (const k of ["status", "min", "max", "task"]) if (typeof saved[k] === "string") controls[k].value = saved[k];
    if (saved.view) showView(saved.view);
    if (refreshBox && typeof saved.reload === "boolean") refreshBox.checked = saved.reload;
  }
} catch (e) { /* nothing kept */ }
for (const input of Object.values(controls)) input.addEventListener("input", applyFilters);
controls.status.addEventListener("change", applyFilters);
for (const r of views) r.addEventListener("change", () => showView(r.value));
document.getElementById("filter-clear").addEventListener("click", () => {
  for (const input of Object.values(controls)) input.value = "";
  applyFilters();
});
applyFilters();
// Opening an episode from a table (or from a #ep-N link) unfolds its transcript, shown
// even when the filters hide it.
function openEpisode(id, scroll = true) {
  const el = document.getElementById(id);
  if (el && el.tagName === "DETAILS") {
    el.hidden = false;
    el.open = true;
    if (scroll) el.scrollIntoView({block: "start"});
  }
}
for (const a of document.querySelectorAll("a.open-episode")) {
  a.addEventListener("click", (ev) => {
    ev.preventDefault();
    const id = a.getAttribute("href").slice(1);
    history.replaceState(null, "", "#" + id);
    openEpisode(id);
  });
}
window.addEventListener("hashchange", () => openEpisode(location.hash.slice(1)));
const navigation = performance.getEntriesByType("navigation")[0];
const reloaded = navigation !== undefined && navigation.type === "reload";
if (location.hash) openEpisode(location.hash.slice(1), !reloaded);  // a reload keeps the reader's place
// A run in progress: reload every few seconds (unless unticked) to show the episodes since.
const refresh = parseFloat(document.body.dataset.refresh || "0");
if (refresh > 0) {
  if (refreshBox) refreshBox.addEventListener("change", saveState);
  setInterval(() => { if (!refreshBox || refreshBox.checked) location.reload(); }, refresh * 1000);
}
</script>
</body>
</html>
"""

_COMPARE = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{% include "style.css" %}</style>
</head>
<body>
<h1>{{ title }}</h1>
<table id="runs">
<thead><tr><th></th><th>run directory</th><th>agent</th><th>human</th><th>tasks</th><th class="num">samples</th>
  <th>started</th><th>report</th></tr></thead>
<tbody>
{% for r in runs %}
<tr><th>{{ r.label }}</th><td><code>{{ r.path }}</code></td><td>{{ r.config.get("agent", "?") }}</td>
  <td>{{ r.config.get("human", "?") }}</td><td>{{ r.config.get("tasks", "?") }}</td>
  <td class="num">{{ r.config.get("samples") or 1 }}</td><td>{{ r.config.get("started", "?") }}</td>
  <td>{% if r.report %}<a href="{{ r.report }}">report.html</a>
    {%- else %}<span class="muted">none written</span>{% endif %}</td></tr>
{% endfor %}
</tbody>
</table>
{% for w in warnings %}<p class="banner warning">{{ w }}</p>{% endfor %}

<h2>Paired comparison</h2>
<p class="muted">On the tasks both runs scored, each reduced to its mean over its ok samples, as <code>colbench
regress</code> does (run A as the baseline, run B as the candidate); the change is B − A with its 95% interval
from the paired bootstrap. For a binary metric the exact McNemar test counts the tasks B lost and gained and gives
one-sided p-values for a drop and for a gain.</p>
{% if paired %}
<table id="paired">
<thead><tr><th>metric</th><th class="num">tasks</th><th class="num">mean A</th><th class="num">mean B</th>
  <th class="num">change B − A [95% CI]</th><th>interval from</th><th>exact McNemar test</th></tr></thead>
<tbody>
{% for p in paired %}
<tr id="paired-{{ p.metric }}">
  <th>{{ p.metric }}</th><td class="num paired-tasks">{{ p.tasks }}</td>
  <td class="num paired-a">{{ p.mean_a | num(4) }}</td><td class="num paired-b">{{ p.mean_b | num(4) }}</td>
  <td class="num paired-change {{ 'up' if p.change > 0 else ('down' if p.change < 0 else '') }}">
    {{- p.change | signed }} [{{ p.ci[0] | signed }}, {{ p.ci[1] | signed }}]</td>
  <td>{{ p.method }}</td>
  <td class="paired-mcnemar">{% if p.mcnemar %}{{ p.mcnemar[0] }} task(s) lost, {{ p.mcnemar[1] }} gained; one-sided
    p = {{ "%.4g" | format(p.mcnemar[2]) }} for a drop, {{ "%.4g" | format(p.mcnemar[3]) }} for a gain
    {% else %}<span class="muted">not binary</span>{% endif %}</td>
</tr>
{% endfor %}
</tbody>
</table>
{% else %}
<p id="paired-none">No task is scored in both runs, so nothing is compared.</p>
{% endif %}

{% if only_a or only_b %}
<h2>Tasks in one run only (listed, not compared)</h2>
{% if only_a %}<p id="only-a">Only in A ({{ only_a | length }}): {{ only_a | join(", ") }}</p>{% endif %}
{% if only_b %}<p id="only-b">Only in B ({{ only_b | length }}): {{ only_b | join(", ") }}</p>{% endif %}
{% endif %}

<h2>Per task</h2>
<p class="muted">Each task's mean over its ok samples in each run (– where a run has no scored episode of it: its
episodes ended in an error). Click a column header to sort, e.g. by the change to see the largest losses first.</p>
<table class="sortable" id="per-task">
<thead><tr>
  <th data-sort="text">task</th>
  <th data-sort="num" class="num">{% if split == "frontend" %}similarity{% else %}score{% endif %} A</th>
  <th data-sort="num" class="num">{% if split == "frontend" %}similarity{% else %}score{% endif %} B</th>
  <th data-sort="num" class="num">B − A</th>
  {% if split != "frontend" %}
  <th data-sort="num" class="num">success A</th>
  <th data-sort="num" class="num">success B</th>
  {% endif %}
  <th data-sort="text">ok episodes A</th>
  <th data-sort="text">ok episodes B</th>
</tr></thead>
<tbody>
{% for r in rows %}
<tr data-task="{{ r.task_id }}">
  <td data-value="{{ r.task_id }}">{{ r.task_id }}</td>
  <td class="num" data-value="{{ r.a | value }}">{{ r.a | num }}</td>
  <td class="num" data-value="{{ r.b | value }}">{{ r.b | num }}</td>
  <td class="num diff {{ 'up' if r.diff and r.diff > 0 else ('down' if r.diff and r.diff < 0 else '') }}"
    data-value="{{ r.diff | value }}">{{ r.diff | signed(3) }}</td>
  {% if split != "frontend" %}
  <td class="num" data-value="{{ r.a_success | value }}">{{ r.a_success | num }}</td>
  <td class="num" data-value="{{ r.b_success | value }}">{{ r.b_success | num }}</td>
  {% endif %}
  <td>{{ r.a_episodes }}</td>
  <td>{{ r.b_episodes }}</td>
</tr>
{% endfor %}
</tbody>
</table>
{% if not rows %}<p>The runs share no task.</p>{% endif %}
<script>
"use strict";
{% include "sort.js" %}
</script>
</body>
</html>
"""

_TEMPLATES = {"style.css": _STYLE, "sort.js": _SORT_SCRIPT, "report.html": _REPORT, "compare.html": _COMPARE}
