"""Dialogue throughput: lockstep batches (the original research code) vs. colbench's runner.

Both ways play the same episodes against one local fake OpenAI-compatible endpoint
(tests/fake_openai.py) that serves at most C requests at once (--capacity) and answers
each request after a heavy-tailed latency: lognormal with median --median-ms and shape
--sigma, capped at --cap-ms. The latency of a request is drawn from an RNG seeded by the
request's content (model, messages, seed) and --seed, so a given dialogue step costs the
same in both ways and from run to run.

The fake agent model ("agent") sends 1 to 10 messages, a number fixed by (task_id, sample)
through a hash: questions, then "I WANT TO ANSWER:" + the task's reference function (found
by the problem description, messages[1]; the sample by the request's per-episode seed).
The fake human model ("human") replies with one short sentence. Episodes are the bundled
backend tasks (44) x samples: --episodes 200 gives 40 tasks x 5 samples.

  (a)  lockstep, as the original research code runs: episodes in batches of C; for each
       turn, every active episode of the batch calls the agent and all wait for the
       slowest, then every one still going calls the human and all wait again. Built here
       from colbench's protocol helpers, OpenAIChat clients and the LLM human (temperature
       0, the same requests as (b)); answers are not scored.
  (b)  ours: colbench.runner.run_eval with --concurrency 4*C and the process sandbox, into
       a temporary run directory, so episodes overlap and a slow one holds no other back
       (--concurrency changes the 4*C). More episodes in flight than the endpoint serves
       keep its queue full: each episode spends part of its time between requests.
       (b) also scores every answer as it finishes (reference outputs computed cold, in a
       temporary cache), and its wall time includes starting the sandbox pool.

For each it prints episodes/min and the share of the endpoint's capacity kept busy: the
integral over time of the requests being served, divided by C x wall time. Then the
ratio (b)/(a). Bars: (b)/(a) >= 2x and (b) keeps >= 90% of the capacity busy. It also
prints the busy share up to the moment the last episode started, which leaves out the
final drain (the last episodes finishing with fewer than C requests left to serve). It also
checks that both ways played the same dialogues (turn counts and answers per episode) and
exits non-zero if they did not, or if (b) had an error or a failed score.

Run from the repository root (no Docker, no network; about 1.5 minutes with the defaults):

    .venv/bin/python benchmarks/dialogue_throughput.py
    .venv/bin/python benchmarks/dialogue_throughput.py --episodes 100 --capacity 8 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import platform
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
for _p in (REPO_ROOT, REPO_ROOT / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from fake_openai import FakeOpenAI  # noqa: E402

from colbench.agents import resolve_agent  # noqa: E402
from colbench.humans.llm import LLMCodeHuman  # noqa: E402
from colbench.humans.registry import resolve_human  # noqa: E402
from colbench.llm.openai_client import OpenAIChat  # noqa: E402
from colbench.protocol import (ANSWER_MARK, MAX_AGENT_TURNS, agent_messages, cut_human_reply,  # noqa: E402
                               extract_code, read_agent_message)
from colbench.runner import EvalConfig, episode_seed, run_eval  # noqa: E402
from colbench.runs import RunDir  # noqa: E402
from colbench.tasks import Task, load_tasks  # noqa: E402

AGENT_MODEL, HUMAN_MODEL = "agent", "human"
RUN_SEED = 0  # the runner's --seed; (a) sends the same per-episode seeds as (b)


def agent_turns(task_id: str, sample: int) -> int:
    """How many agent messages the fake agent sends in this episode (1..10, the last is the answer)."""
    digest = hashlib.sha256(f"turns:{task_id}:{sample}".encode()).digest()
    return 1 + int.from_bytes(digest[:4], "big") % MAX_AGENT_TURNS


class FakeModels:
    """The fake endpoint's script: the agent and human models."""

    def __init__(self, tasks: list[Task], samples: int):
        self.by_problem = {t.problem_description: t for t in tasks}
        self.by_seed = {episode_seed(RUN_SEED, t.task_id, s): (t, s) for t in tasks for s in range(samples)}
        self.models = [AGENT_MODEL, HUMAN_MODEL]
        self.expect(0, None)

    def expect(self, episodes: int, on_all_started) -> None:
        """Calls on_all_started() when the first agent requests of `episodes` episodes have come."""
        self.started: set = set()
        self.episodes, self.on_all_started = episodes, on_all_started

    def __call__(self, request: dict) -> str:
        messages = request["messages"]
        if request["model"] == HUMAN_MODEL:
            return "I don't know, please do what seems most sensible."
        if request["model"] != AGENT_MODEL:
            raise ValueError(f"unknown model {request['model']!r}")
        task = self.by_problem[messages[1]["content"]]
        seed_task, sample = self.by_seed[request["seed"]]
        if seed_task is not task:
            raise ValueError(f"seed {request['seed']} is for task {seed_task.task_id}, not {task.task_id}")
        turn = 1 + sum(m["role"] == "assistant" for m in messages)
        if turn == 1:
            self.started.add((task.task_id, sample))
            if len(self.started) == self.episodes and self.on_all_started is not None:
                self.on_all_started()
                self.on_all_started = None
        if turn < agent_turns(task.task_id, sample):
            return (f"Question {turn} (task {task.task_id}, sample {sample}): what should the function "
                    "return for an empty input?")
        return f"{ANSWER_MARK}\n```python\n{task.ground_truth}\n```"


class Latency:
    """Lognormal latency seeded by the request's content; keeps the total it handed out."""

    def __init__(self, median_s: float, sigma: float, cap_s: float, seed: int):
        self.median_s, self.sigma, self.cap_s, self.seed = median_s, sigma, cap_s, seed
        self.total_s = 0.0  # called under the server's admit lock: no race

    def __call__(self, request: dict) -> float:
        key = json.dumps([self.seed, request.get("model"), request.get("messages"), request.get("seed")])
        rng = random.Random(hashlib.sha256(key.encode()).digest())
        seconds = min(self.cap_s, self.median_s * math.exp(self.sigma * rng.gauss(0.0, 1.0)))
        self.total_s += seconds
        return seconds


@dataclass
class Result:
    name: str
    episodes: int
    wall_s: float
    busy_s: float
    capacity: int
    requests: int
    latency_s: float  # the latencies the endpoint was asked to sleep, summed
    max_concurrent: int
    last_start_s: float  # when the last episode sent its first request (from the start)
    busy_to_last_start_s: float  # busy_seconds up to then
    dialogues: dict = field(default_factory=dict)  # (task_id, sample) -> (agent messages, answer)
    extra: dict = field(default_factory=dict)

    @property
    def per_min(self) -> float:
        return 60.0 * self.episodes / self.wall_s

    @property
    def busy_share(self) -> float:
        return self.busy_s / (self.capacity * self.wall_s)

    @property
    def busy_share_to_last_start(self) -> float:
        return self.busy_to_last_start_s / (self.capacity * self.last_start_s) if self.last_start_s else float("nan")

    def as_dict(self) -> dict:
        return {"episodes": self.episodes, "wall_s": round(self.wall_s, 3), "episodes_per_min": round(self.per_min, 1),
                "busy_share": round(self.busy_share, 4), "busy_s": round(self.busy_s, 3),
                "last_episode_started_s": round(self.last_start_s, 3),
                "busy_share_until_last_episode_started": round(self.busy_share_to_last_start, 4),
                "requests": self.requests, "latency_sum_s": round(self.latency_s, 3),
                "max_concurrent": self.max_concurrent, **self.extra}


class Phase:
    """Times one way of running and reads the endpoint's counters around it."""

    def __init__(self, server: FakeOpenAI, latency: Latency, episodes: int):
        self.server, self.latency, self.episodes = server, latency, episodes
        self.last_start_s = self.busy_to_last_start_s = 0.0

    def _all_started(self) -> None:
        self.last_start_s = time.perf_counter() - self.start
        self.busy_to_last_start_s = self.server.busy_seconds

    def __enter__(self) -> "Phase":
        self.requests0, self.latency0 = len(self.server.requests), self.latency.total_s
        self.server.script.expect(self.episodes, self._all_started)
        self.server.reset_stats()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_s = time.perf_counter() - self.start
        self.busy_s = self.server.busy_seconds
        self.max_concurrent = self.server.max_concurrent
        self.requests = len(self.server.requests) - self.requests0
        self.latency_s = self.latency.total_s - self.latency0


# ---------------------------------------------------------------------------------------
# (a) lockstep batches


@dataclass
class _State:
    task: Task
    sample: int
    seed: int
    turns: list = field(default_factory=list)
    answer: str | None = None


async def lockstep(episodes: list[tuple[Task, int]], agent: OpenAIChat, human: LLMCodeHuman,
                   batch_size: int) -> dict:
    done: dict = {}
    for start in range(0, len(episodes), batch_size):
        batch = [_State(t, s, episode_seed(RUN_SEED, t.task_id, s)) for t, s in episodes[start:start + batch_size]]
        active = batch
        for turn in range(1, MAX_AGENT_TURNS + 1):
            raws = await asyncio.gather(*(
                agent.chat(agent_messages(st.task.split, st.task.problem_description, st.turns), seed=st.seed)
                for st in active))
            going = []
            for st, raw in zip(active, raws):
                move = read_agent_message(raw)
                st.turns.append({"role": "agent", "content": move.content})
                if move.final or turn == MAX_AGENT_TURNS:
                    st.answer = extract_code((move.answer if move.final else move.content) or "")
                else:
                    going.append(st)
            active = going
            if not active:
                break
            replies = await asyncio.gather(*(human.respond(st.task, st.turns) for st in active))
            for st, reply in zip(active, replies):
                st.turns.append({"role": "human", "content": cut_human_reply(str(reply), st.task.split)})
        for st in batch:
            done[(st.task.task_id, st.sample)] = (sum(t["role"] == "agent" for t in st.turns), st.answer)
    return done


async def run_lockstep(episodes, base_url: str, capacity: int, server: FakeOpenAI, latency: Latency) -> Result:
    agent = OpenAIChat(AGENT_MODEL, base_url=base_url, max_retries=0)
    human = LLMCodeHuman(OpenAIChat(HUMAN_MODEL, base_url=base_url, max_retries=0))
    try:
        with Phase(server, latency, len(episodes)) as ph:
            dialogues = await lockstep(episodes, agent, human, capacity)
    finally:
        await agent.aclose()
        await human.aclose()
    return Result("a", len(episodes), ph.wall_s, ph.busy_s, capacity, ph.requests, ph.latency_s,
                  ph.max_concurrent, ph.last_start_s, ph.busy_to_last_start_s, dialogues, {"batch_size": capacity, "scored": False})


# ---------------------------------------------------------------------------------------
# (b) colbench's runner


async def run_ours(limit: int, samples: int, base_url: str, capacity: int, concurrency: int,
                   server: FakeOpenAI, latency: Latency, workdir: Path) -> Result:
    cfg = EvalConfig(agent=f"openai:{AGENT_MODEL}", human=f"openai:{HUMAN_MODEL}", split="backend",
                     tasks="bundled", out=str(workdir / "run"), limit=limit, samples=samples,
                     concurrency=concurrency, seed=RUN_SEED, sandbox="process", protocol="colbench",
                     agent_base_url=base_url, human_base_url=base_url)
    taskset = load_tasks(cfg.tasks, cfg.split)
    agent = resolve_agent(cfg.agent, base_url=cfg.agent_base_url)
    human = resolve_human(cfg.human, cfg.split, base_url=cfg.human_base_url)
    try:
        with Phase(server, latency, limit * samples) as ph:
            summary = await run_eval(cfg, taskset, agent, human)
    finally:
        for party in (agent, human):
            close = getattr(party, "aclose", None)
            if close is not None:
                await close()
    records = list(RunDir(cfg.out).latest().values())
    dialogues = {r.key: (sum(t["role"] == "agent" for t in r.turns), r.answer) for r in records}
    scoring = [(r.timings or {}).get("scoring_s", 0.0) for r in records]
    extra = {"concurrency": cfg.concurrency, "scored": True, "sandbox": cfg.sandbox,
             "errors": sum(not r.ok for r in records),
             "successes": sum(bool(r.success) for r in records),
             "mean_score": round(sum(r.score or 0.0 for r in records) / max(1, len(records)), 4),
             "scoring_s_mean": round(sum(scoring) / max(1, len(scoring)), 4),
             "scoring_s_max": round(max(scoring, default=0.0), 4),
             "summary_episodes": summary.get("episodes")}
    return Result("b", len(records), ph.wall_s, ph.busy_s, capacity, ph.requests, ph.latency_s,
                  ph.max_concurrent, ph.last_start_s, ph.busy_to_last_start_s, dialogues, extra)


# ---------------------------------------------------------------------------------------


def plan(n_tasks: int, episodes: int) -> tuple[int, int]:
    """(tasks, samples) with tasks <= n_tasks and tasks * samples >= episodes, as close as it gets."""
    samples = max(1, math.ceil(episodes / n_tasks))
    return math.ceil(episodes / samples), samples


async def main_async(args: argparse.Namespace) -> int:
    taskset = load_tasks("bundled", "backend")
    limit, samples = plan(len(taskset.tasks), args.episodes)
    concurrency = args.concurrency or 4 * args.capacity
    tasks = taskset.tasks[:limit]
    episodes = [(t, s) for t in tasks for s in range(samples)]  # run_eval's order
    latency = Latency(args.median_ms / 1000, args.sigma, args.cap_ms / 1000, args.seed)
    script = FakeModels(tasks, samples)
    turns = [agent_turns(t.task_id, s) for t, s in episodes]

    print(f"dialogue throughput: {len(episodes)} episodes ({limit} bundled backend tasks x {samples} samples), "
          f"agent messages per episode 1..10 (mean {sum(turns) / len(turns):.2f})")
    print(f"fake endpoint: capacity C={args.capacity}, latency lognormal median {args.median_ms:g} ms, "
          f"sigma {args.sigma:g}, cap {args.cap_ms:g} ms, seed {args.seed}")
    print(f"machine: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs")

    old_cache = os.environ.get("COLBENCH_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="colbench-dialogue-bench-") as tmp, \
            FakeOpenAI(script, capacity=args.capacity, latency=latency,
                       backlog=max(128, 8 * args.capacity)) as server:
        os.environ["COLBENCH_CACHE_DIR"] = str(Path(tmp) / "cache")  # cold, and the user's cache untouched
        try:
            a = await run_lockstep(episodes, server.base_url, args.capacity, server, latency)
            b = await run_ours(limit, samples, server.base_url, args.capacity, concurrency, server, latency,
                               Path(tmp))
        finally:
            if old_cache is None:
                os.environ.pop("COLBENCH_CACHE_DIR", None)
            else:
                os.environ["COLBENCH_CACHE_DIR"] = old_cache

    print()
    print(f"{'method':<58} {'episodes/min':>12} {'busy share':>10} {'wall s':>7} {'requests':>8}")
    rows = [(f"(a) lockstep batches of C={args.capacity}, no scoring", a),
            (f"(b) ours: run_eval, concurrency {concurrency}, process sandbox, scored", b)]
    for label, r in rows:
        print(f"{label:<58} {r.per_min:>12.1f} {r.busy_share:>9.1%} {r.wall_s:>7.2f} {r.requests:>8}")
    ratio = b.per_min / a.per_min
    print()
    print(f"(b)/(a) = {ratio:.2f}x  (bar >= 2x: {'PASS' if ratio >= 2 else 'FAIL'})")
    print(f"(b) capacity busy = {b.busy_share:.1%}  (bar >= 90%: {'PASS' if b.busy_share >= 0.9 else 'FAIL'})")
    for name, r in (("(a)", a), ("(b)", b)):
        print(f"{name} busy until its last episode started (t = {r.last_start_s:.2f} s): "
              f"{r.busy_share_to_last_start:.1%}; the last {r.wall_s - r.last_start_s:.2f} s drain the "
              "episodes still going")
    print(f"latency asked of the endpoint: (a) {a.latency_s:.1f} s, (b) {b.latency_s:.1f} s in all "
          f"(the same requests); most served at once: (a) {a.max_concurrent}, (b) {b.max_concurrent}")
    print(f"(b) also scored every answer in its wall time (and started the sandbox, computed references cold): "
          f"{b.extra['successes']}/{b.episodes} succeeded, mean score {b.extra['mean_score']}, "
          f"scoring {b.extra['scoring_s_mean'] * 1000:.0f} ms mean / {b.extra['scoring_s_max'] * 1000:.0f} ms max "
          f"per episode, {b.extra['errors']} errors")

    problems = []
    if a.dialogues != b.dialogues:
        differ = sorted(k for k in a.dialogues.keys() | b.dialogues.keys() if a.dialogues.get(k) != b.dialogues.get(k))
        problems.append(f"(a) and (b) played different dialogues for {len(differ)} episodes, e.g. {differ[:3]}")
    if b.extra["errors"] or b.extra["successes"] != b.episodes:
        problems.append(f"(b): {b.extra['errors']} errors, {b.episodes - b.extra['successes']} unsuccessful scores")
    if a.requests != b.requests:
        problems.append(f"(a) sent {a.requests} requests, (b) {b.requests}")
    print("same dialogues in (a) and (b): " + ("yes" if a.dialogues == b.dialogues else "NO"))
    for p in problems:
        print(f"PROBLEM: {p}", file=sys.stderr)

    if args.json:
        out = {"settings": {"episodes": len(episodes), "tasks": limit, "samples": samples, "capacity": args.capacity,
                            "runner_concurrency": concurrency,
                            "median_ms": args.median_ms, "sigma": args.sigma, "cap_ms": args.cap_ms,
                            "seed": args.seed},
               "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                           "platform": platform.platform()},
               "a_lockstep": a.as_dict(), "b_ours": b.as_dict(), "ratio_b_over_a": round(ratio, 3),
               "bars": {"ratio_ge_2x": ratio >= 2, "b_busy_ge_90pct": b.busy_share >= 0.9},
               "problems": problems}
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=200, help="episodes (bundled backend tasks x samples; default 200)")
    ap.add_argument("--capacity", type=int, default=16, help="requests the endpoint serves at once, C (default 16)")
    ap.add_argument("--median-ms", type=float, default=50.0, help="median request latency (default 50 ms)")
    ap.add_argument("--sigma", type=float, default=1.0, help="lognormal shape of the latency (default 1.0)")
    ap.add_argument("--cap-ms", type=float, default=2000.0, help="latency cap (default 2000 ms)")
    ap.add_argument("--seed", type=int, default=0, help="latency RNG seed (default 0)")
    ap.add_argument("--concurrency", type=int, default=0, help="(b)'s run_eval concurrency (default 4*C)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args(argv)
    if args.episodes < 1 or args.capacity < 1 or args.concurrency < 0 or args.median_ms < 0 or args.sigma < 0 or args.cap_ms < 0:
        ap.error("--episodes and --capacity must be >= 1; latencies and sigma >= 0")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
