"""`colbench report RUN_DIR`: one self-contained HTML page about a run.

The page has the summary with 95% confidence intervals, a per-episode table that sorts when
a column header is clicked, and for each episode its transcript, its answer, the failing
tests (backend: call, expected and actual values, error) or the agent's final page beside
the reference page (frontend). CSS and script are inline and nothing is fetched from the
network; screenshots are linked by paths relative to the report, so the page opens from
disk inside the run directory (embedding them would make a 500-task report gigabytes).

Everything an agent or a human wrote is untrusted: the template escapes it (Jinja2
autoescape), so a transcript holding `<script>` shows as text and never runs.

Works for runs still in progress or stopped early (missing episodes are counted and listed)
and for episodes that ended in an infrastructure error (no score).
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from colbench.errors import ColbenchError
from colbench.jsonl import check_writable, write_text_atomic
from colbench.runs import SUMMARY_FILE, EpisodeRecord, RunDir
from colbench.stats import summarize, win_rate

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
# A runaway model can write megabytes per message; the report shows this much of any one
# text and says where the rest is, so a large run still gives a page a browser can open.
MAX_TEXT = 20_000
MAX_MISSING_LISTED = 50


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
    records = sorted(latest.values(), key=lambda r: (_natural(r.task_id), r.sample))
    episodes = [_episode_view(i, r, by_id.get(r.task_id), run.path, report_dir)
                for i, r in enumerate(records)]

    from jinja2 import Environment, StrictUndefined

    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _num
    env.filters["ci"] = _ci
    env.filters["clip"] = _clip
    return env.from_string(_TEMPLATE).render(
        title=f"colbench report: {config.get('agent', '?')} on {split}",
        config=config, config_rows=_config_rows(config), split=split, summary=summary, episodes=episodes,
        missing=missing[:MAX_MISSING_LISTED], missing_more=max(0, len(missing) - MAX_MISSING_LISTED),
        tasks_known=tasks is not None, run_path=str(run.path))


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
                              screenshot=_image("page shown", shot, run_path, report_dir) if shot else None))
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
    return EpisodeView(
        anchor=f"ep-{order}", order=order, task_id=r.task_id, sample=r.sample,
        status=r.status, error=r.error, score=r.score, success=r.success, passed=r.passed, total=r.total,
        agent_turns=sum(t.role == "agent" for t in turns), answered=r.answered,
        detail=r.status_detail, detail_error=r.detail_error, blocked=r.blocked,
        problem=getattr(task, "problem_description", None), answer=r.answer, turns=turns,
        failing=failing, final_page=final_page, reference_page=reference_page, seconds=seconds)


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


def _natural(text: str) -> list[Any]:
    """Sort key that puts task 2 before task 10."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part]


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


_TEMPLATE = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem auto; max-width: 1200px;
         padding: 0 1rem; color: #1f2328; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; } h3 { font-size: 1rem; }
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
  .pages { display: flex; gap: 1rem; flex-wrap: wrap; }
  .pages figure { margin: 0; flex: 1 1 45%; min-width: 280px; }
  .pages img { width: 100%; border: 1px solid #d0d7de; }
  img.thumb { max-width: 320px; border: 1px solid #d0d7de; display: block; }
  .muted { color: #656d76; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="muted">Run directory <code>{{ run_path }}</code>; started {{ config.get("started", "?") }};
colbench {{ config.get("harness_version", "?") }}.</p>

<h2>Summary</h2>
{% if summary.get("missing") %}
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
<p class="muted">Click a column header to sort (again to reverse); click a task to open its transcript.</p>
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
  <th>transcript</th>
</tr></thead>
<tbody>
{% for e in episodes %}
<tr data-anchor="{{ e.anchor }}">
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
  <td><a class="open-episode" href="#{{ e.anchor }}">open</a></td>
</tr>
{% endfor %}
</tbody>
</table>
{% if not episodes %}<p>No episode has finished yet.</p>{% endif %}

<h2>Transcripts</h2>
{% for e in episodes %}
<details class="episode" id="{{ e.anchor }}">
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
  <div class="role role-{{ t.role }}">{{ t.role }} {{ t.number }}</div>
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
{% if e.seconds is not none %}<p class="muted">{{ e.seconds | num(1) }} s (dialogue and scoring)</p>{% endif %}
</details>
{% endfor %}

<script>
"use strict";
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
// Opening an episode from the table (or from a #ep-N link) unfolds its transcript.
function openEpisode(id) {
  const el = document.getElementById(id);
  if (el && el.tagName === "DETAILS") { el.open = true; el.scrollIntoView({block: "start"}); }
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
if (location.hash) openEpisode(location.hash.slice(1));
</script>
</body>
</html>
"""
