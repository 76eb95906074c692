"""Backend scoring throughput: colbench's sandbox scorer vs. two naive ways of running tests.

It scores the same backend tasks (the real ColBench sample, answers = the reference
functions themselves, so every score should be 1.0) three ways in one run and prints
tasks/s for each:

  (a)  unsafe in-process exec with an alarm, the way the original research code does it:
       exec() + eval() inside a function in this very process, a 1 s SIGALRM per answer call;
  (b)  one `docker run --rm --network none -i IMAGE python3 -c SCRIPT` per task, run one
       after another on a subset of the tasks (each costs about a second);
  (c)  ours: colbench's BackendScorer on the Docker sandbox pool (starting the pool is not
       timed, only the scoring; a fresh in-memory reference cache each run);
  (c') ours on the host-process backend (same scorer, weaker isolation).

Then it prints the ratios (c)/(a) (bar: >= 0.5x) and (c)/(b) (bar: >= 20x), the mean score
of each way, and exits non-zero if (a) and (c) disagree on any task's score.

Tasks come from $COLBENCH_SAMPLE_DIR/backend_test_sample.jsonl (default:
../shared/colbench-sample next to the repository root), repeated to at least --tasks. Without
it, the bundled tasks (tasks/backend/dev.jsonl) that the original checker's exec semantics can
run (it says so); their numbers are not those of benchmarks/RESULTS.md.

Run from the repository root (a Docker engine and the built sandbox image are needed):

    .venv/bin/python benchmarks/sandbox_throughput.py
    .venv/bin/python benchmarks/sandbox_throughput.py --tasks 2000 --docker-run-tasks 10 --json out.json
    .venv/bin/python benchmarks/sandbox_throughput.py --skip-docker-run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from common import sample_file  # noqa: E402
from colbench.sandbox import open_sandbox  # noqa: E402
from colbench.sandbox.image import image_tag  # noqa: E402
from colbench.scoring.backend import BackendScorer  # noqa: E402
from colbench.scoring.refcache import ReferenceCache  # noqa: E402
from colbench.tasks import Task, load_tasks  # noqa: E402

SAMPLE_FILE = "backend_test_sample.jsonl"


# ---------------------------------------------------------------------------------------
# (a) the original research checker: in-process exec with an alarm


def get_output(code, call):
    try:
        exec(code)
        return eval(call)
    except Exception:
        return None


def _alarm_handler(signum, frame):
    raise TimeoutError("answer timed out")


def score_in_process(task: Task, answer: str) -> float:
    passed = total = 0
    for call in task.test_cases.values():
        expected = get_output(task.ground_truth, call)
        signal.signal(signal.SIGALRM, _alarm_handler)
        signal.alarm(1)
        try:
            actual = get_output(answer, call)
        except TimeoutError:
            actual = None
        finally:
            signal.alarm(0)
        total += 1
        try:
            if expected == actual and expected is not None:
                passed += 1
        except ValueError:
            pass
    return passed / total


def run_in_process(tasks: list[Task]) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    scores = [score_in_process(t, t.ground_truth) for t in tasks]
    return time.perf_counter() - t0, scores


# ---------------------------------------------------------------------------------------
# (b) one `docker run` per task

DOCKER_RUN_SCRIPT = r'''
import json, sys
def get_output(code, call):
    try:
        exec(code)
        return eval(call)
    except Exception:
        return None
job = json.loads(sys.stdin.read())
passes = []
for call in job["calls"]:
    expected = get_output(job["ground_truth"], call)
    actual = get_output(job["answer"], call)
    try:
        passes.append(bool(expected == actual and expected is not None))
    except ValueError:
        passes.append(False)
sys.stdout.write("\n@@RESULT@@" + json.dumps(passes) + "\n")
'''


def score_docker_run(image: str, task: Task, answer: str) -> float:
    job = {"ground_truth": task.ground_truth, "answer": answer, "calls": list(task.test_cases.values())}
    proc = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "-i", image, "python3", "-c", DOCKER_RUN_SCRIPT],
        input=json.dumps(job), capture_output=True, text=True, timeout=120,
    )
    marker = proc.stdout.rfind("@@RESULT@@")
    if proc.returncode != 0 or marker < 0:
        raise SystemExit(f"docker run failed for task {task.task_id} (exit {proc.returncode}): "
                         f"{proc.stderr.strip()[-500:]}")
    passes = json.loads(proc.stdout[marker + len("@@RESULT@@"):].strip())
    return sum(passes) / len(passes)


def run_docker_per_task(image: str, tasks: list[Task]) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    scores = [score_docker_run(image, t, t.ground_truth) for t in tasks]
    return time.perf_counter() - t0, scores


# ---------------------------------------------------------------------------------------
# (c) ours


async def ours(tasks: list[Task], kind: str) -> tuple[float, list]:
    async with open_sandbox(kind) as box:  # starting the pool is not timed
        scorer = BackendScorer(box, cache=ReferenceCache(None))  # in-memory, fresh each run
        t0 = time.perf_counter()
        results = await asyncio.gather(*(scorer.score(t, t.ground_truth) for t in tasks))
        dt = time.perf_counter() - t0
    return dt, results


# ---------------------------------------------------------------------------------------


def mean(xs) -> float:
    xs = list(xs)
    return sum(xs) / len(xs) if xs else float("nan")


def task_source() -> str:
    """The real ColBench sample when it is there, else the bundled backend tasks (said on
    stderr: their numbers are not those of benchmarks/RESULTS.md)."""
    try:
        return str(sample_file(SAMPLE_FILE))
    except SystemExit as missing:
        print(f"{missing} Using the bundled tasks (tasks/backend/dev.jsonl) instead.", file=sys.stderr, flush=True)
        return "bundled"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=1000, help="score at least this many tasks (default 1000)")
    ap.add_argument("--docker-run-tasks", type=int, default=20,
                    help="tasks for (b), one docker run each (default 20)")
    ap.add_argument("--skip-docker-run", action="store_true", help="skip (b)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="run (a) and (c) this many times, interleaved, and report the median (default 3)")
    ap.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    args = ap.parse_args(argv)

    source = task_source()
    base = load_tasks(source, "backend").tasks
    if source == "bundled":
        # (a) runs an answer with exec inside a function, as the original checker did: helper functions and
        # top-level imports are invisible there, so it fails some bundled references that (c) passes. Only
        # the tasks it can run are timed, so that (a) and (c) score the same work.
        runnable = [t for t in base if score_in_process(t, t.ground_truth) == 1.0]
        print(f"{len(runnable)} of {len(base)} bundled tasks are scored alike by the original checker's exec "
              "semantics; timing those.", file=sys.stderr, flush=True)
        base = runnable
    tasks = base * max(1, math.ceil(args.tasks / len(base)))

    rows: list[dict] = []

    def add(key: str, label: str, n: int, seconds: float, scores: list[float]) -> dict:
        row = {"key": key, "method": label, "tasks": n, "seconds": seconds,
               "tasks_per_s": n / seconds if seconds > 0 else float("inf"), "mean_score": mean(scores)}
        rows.append(row)
        return row

    # (a) and (c) alternate, so that a slow spell of this shared machine hits both alike.
    times_a, times_c = [], []
    for _ in range(max(1, args.repeat)):
        dt_a, scores_a = run_in_process(tasks)
        times_a.append(dt_a)
        dt_c, results_c = asyncio.run(ours(tasks, "docker"))
        times_c.append(dt_c)
    scores_c = [r.score for r in results_c]
    row_a = add("a", "(a) in-process exec + alarm", len(tasks), statistics.median(times_a), scores_a)

    row_b = None
    if not args.skip_docker_run:
        subset = tasks[:max(1, args.docker_run_tasks)]
        dt_b, scores_b = run_docker_per_task(image_tag(), subset)
        row_b = add("b", "(b) docker run per task", len(subset), dt_b, scores_b)

    row_c = add("c", "(c) ours, docker backend", len(tasks), statistics.median(times_c), scores_c)

    dt_p, results_p = asyncio.run(ours(tasks, "process"))
    add("c'", "(c') ours, process backend", len(tasks), dt_p, [r.score for r in results_p])

    print(f"(a) runs: {', '.join(f'{len(tasks) / t:.0f}' for t in times_a)} tasks/s; "
          f"(c) runs: {', '.join(f'{len(tasks) / t:.0f}' for t in times_c)} tasks/s; medians below")
    width = max(len(r["method"]) for r in rows)
    print(f"{'method':<{width}}  {'tasks':>6}  {'seconds':>8}  {'tasks/s':>9}  {'mean score':>10}")
    for r in rows:
        print(f"{r['method']:<{width}}  {r['tasks']:>6}  {r['seconds']:>8.2f}  {r['tasks_per_s']:>9.1f}  "
              f"{r['mean_score']:>10.4f}")
    ratio_a = row_c["tasks_per_s"] / row_a["tasks_per_s"]
    print(f"ours / in-process exec: {ratio_a:.2f}x (bar: >= 0.5x)")
    ratio_b = row_c["tasks_per_s"] / row_b["tasks_per_s"] if row_b else None
    if ratio_b is not None:
        print(f"ours / docker run per task: {ratio_b:.1f}x (bar: >= 20x)")
    else:
        print("ours / docker run per task: skipped (--skip-docker-run) (bar: >= 20x)")

    disagree = [(t.task_id, a, c) for t, a, c in zip(tasks, scores_a, scores_c) if a != c]

    if args.json:
        out = {"sample": source, "python": platform.python_version(), "cpus": os.cpu_count(),
               "image": image_tag(), "methods": rows, "repeat": args.repeat,
               "runs_tasks_per_s": {"a": [len(tasks) / t for t in times_a], "c": [len(tasks) / t for t in times_c]},
               "ratios": {"ours_over_in_process": ratio_a, "ours_over_docker_run": ratio_b},
               "bars": {"ours_over_in_process": 0.5, "ours_over_docker_run": 20.0},
               "a_c_disagreements": len(disagree)}
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")

    if disagree:
        seen = sorted({d for d in disagree}, key=lambda d: d[0])
        print(f"FAIL: (a) and (c) disagree on {len(disagree)} of {len(tasks)} tasks "
              f"({len(seen)} distinct):", file=sys.stderr)
        for tid, a, c in seen[:20]:
            print(f"  task {tid}: (a) {a:.3f}  (c) {c:.3f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
