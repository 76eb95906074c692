"""Many episodes concurrently, scored as they finish, into a resumable run directory.

Each (task, sample) episode runs as soon as a slot is free (--concurrency), so a slow
dialogue never holds others back (no lockstep batches). Its answer is scored in the
sandbox right away and its record appended to episodes.jsonl. --resume re-runs only
episodes that are missing or ended in an infrastructure error.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import re
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, cast

from colbench.version import __version__
from colbench.agents import Agent
from colbench.defaults import REFERENCE_TIMEOUT_S, TEST_TIMEOUT_S
from colbench.episode import Episode, run_episode
from colbench.errors import ColbenchError
from colbench.humans.base import Human
from colbench.protocol import (DEFAULT_PROTOCOL, PROTOCOLS, SWEET_RL_PHOTO_FILE, SWEET_RL_PHOTO_ID,
                               SWEET_RL_SAMPLING, SWEET_RL_VIEWPORT, DialogueRules, dialogue_rules)
from colbench.jsonl import write_json_atomic
from colbench.runs import SUMMARY_FILE, EpisodeRecord, EpisodeWriter, RunDir, Usage
from colbench.sandbox.guest import HASH_SEED
from colbench.scoring import PageScorer, Scorer, open_scorer
from colbench.stats import summarize, win_rate
from colbench.paths import data_dir
from colbench.tasks import Task, TaskSet

# Settings that must match for --resume to continue a run rather than mix two.
RESUME_KEYS = ("agent", "human", "split", "protocol", "tasks_sha256", "task_ids", "samples", "seed", "compat",
               "timeout", "reference_timeout", "clip_model")
# What a run.json from before a key existed means by its absence.
RESUME_DEFAULTS = {"protocol": "colbench", "timeout": TEST_TIMEOUT_S, "reference_timeout": REFERENCE_TIMEOUT_S}


@dataclass
class EvalConfig:
    agent: str
    human: str
    split: str
    tasks: str
    out: str
    limit: int | None = None
    samples: int = 1
    concurrency: int = 8
    seed: int = 0
    sandbox: str = "docker"
    compat: str | None = None
    # sweet_rl: the original ColBench's (colbench.protocol), needs the original prompt files;
    # colbench: our own wording, for runs without them.
    protocol: str = DEFAULT_PROTOCOL
    # Sampling set by the user; otherwise the protocol's (sweet_rl) or the model definition's.
    agent_temperature: float | None = None
    agent_max_tokens: int | None = None
    human_temperature: float | None = None
    human_max_tokens: int | None = None
    agent_top_p: float | None = None
    human_top_p: float | None = None
    timeout: float = TEST_TIMEOUT_S
    reference_timeout: float = REFERENCE_TIMEOUT_S  # backend: per test call of the reference solution
    agent_base_url: str | None = None
    human_base_url: str | None = None
    base_url: str | None = None  # both roles' base URL where agent_base_url / human_base_url is unset
    task_ids: list[str] | None = None  # only these tasks (in the task file's order), before `limit`
    episode_timeout: float | None = None  # wall-clock seconds per dialogue; past it the episode is an error
    max_retries: int | None = None  # retries per model call (OpenAI-compatible clients); None: the definition's
    clip_model: str | None = None  # frontend
    allow_network: bool = False  # frontend
    max_episode_tokens: int | None = None  # the agent's prompt + completion tokens allowed per episode


def default_run_dir(agent: str, split: str) -> str:
    """Where a run goes when no directory is given (`colbench eval`, `colbench.evaluate`):
    runs/AGENT-SPLIT-TIME, the agent spec made safe for a file name."""
    return f"runs/{re.sub(r'[^A-Za-z0-9._-]+', '_', agent)}-{split}-{time.strftime('%Y%m%d-%H%M%S')}"


def episode_seed(run_seed: int, task_id: str, sample: int) -> int:
    """A per-episode seed derived from (run seed, task_id, sample): stable across resumes."""
    # surrogatepass: a task id from a JSON escape may hold a lone surrogate (same bytes as
    # plain UTF-8 for every other id, so seeds do not change).
    digest = hashlib.sha256(f"{run_seed}:{task_id}:{sample}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:4], "big")


def run_config(cfg: EvalConfig, taskset: TaskSet, agent: Agent, human: Human,
               rules: DialogueRules | None = None) -> dict[str, Any]:
    out = asdict(cfg)
    if rules is not None and rules.prompt_sha256:
        out["prompts_sha256"] = rules.prompt_sha256  # the original prompt files the run used
    if cfg.split == "frontend":
        from colbench.render import VIEWPORT

        settings = render_settings(cfg)
        out["viewport"] = list(settings.get("viewport", VIEWPORT))
        if cfg.protocol == "sweet_rl":
            # The original showed a real photo (picsum id 48) for every picture; without a
            # local copy, the renderer draws its deterministic placeholder of the same size.
            photo = settings.get("photos", {}).get(SWEET_RL_PHOTO_ID)
            out["picsum_photo"] = "placeholder" if photo is None else \
                f"picsum id {SWEET_RL_PHOTO_ID}, sha256 {hashlib.sha256(photo.read_bytes()).hexdigest()}"
    out.update({
        "tasks_path": str(Path(taskset.path).resolve()), "tasks_sha256": taskset.sha256,
        "harness_version": __version__,
        "agent_name": getattr(agent, "name", cfg.agent), "human_name": getattr(human, "name", cfg.human),
        "agent_model": _model_settings(agent), "human_model": _model_settings(human),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    if cfg.split == "backend":
        out["hash_seed"] = HASH_SEED  # every answer and reference ran with it (set order)
    return out


def _model_settings(who: Agent | Human) -> dict[str, Any] | None:
    """Endpoint and sampling parameters of a model-backed agent or human, for run.json."""
    client = getattr(who, "client", None)
    if client is None:
        return None
    out: dict[str, Any] = {"name": client.name}
    for key in ("model", "base_url", "path", "temperature", "max_tokens", "top_p"):
        if hasattr(client, key):
            out[key] = getattr(client, key)
    sampling = getattr(client, "sampling", None)
    if sampling is not None:
        out.update(asdict(sampling))
    return out


def protocol_rules(cfg: EvalConfig) -> DialogueRules:
    """The dialogue rules of cfg.protocol. Under sweet_rl the original checker scores
    backend answers (cfg.compat becomes sweet_rl)."""
    if cfg.protocol not in PROTOCOLS:
        raise ColbenchError(f"unknown protocol {cfg.protocol!r}; use one of {', '.join(PROTOCOLS)}")
    if cfg.protocol == "sweet_rl" and cfg.split == "backend":
        cfg.compat = "sweet_rl"
    return dialogue_rules(cfg.protocol, cfg.split)


def render_settings(cfg: EvalConfig) -> dict[str, Any]:
    """Renderer settings of the protocol: the original rendered at Firefox's headless
    default width (1366), and showed one real photo (picsum id 48) for every picture, served
    from the data directory where `colbench tasks download` put it; ours at 1280, with
    placeholders."""
    if cfg.protocol != "sweet_rl":
        return {}
    photo = data_dir() / SWEET_RL_PHOTO_FILE
    return {"viewport": SWEET_RL_VIEWPORT, **({"photos": {SWEET_RL_PHOTO_ID: photo}} if photo.is_file() else {})}


def set_sampling(client: Any, temperature: float | None, max_tokens: int | None, top_p: float | None = None) -> None:
    """Sets a chat client's temperature, max_tokens and top_p where given (an OpenAI-compatible
    client or a local transformers one); other clients are left as they are."""
    sampling = getattr(client, "sampling", None)
    for key, value in (("temperature", temperature), ("max_tokens", max_tokens), ("top_p", top_p)):
        if value is None:
            continue
        if sampling is not None and hasattr(sampling, key):
            setattr(sampling, key, value)
        elif hasattr(client, key):
            setattr(client, key, value)


def apply_protocol(cfg: EvalConfig, rules: DialogueRules, agent: Agent, human: Human) -> Human:
    """The protocol's sampling (then the user's) and the user's retry count on the agent's and
    the human's models, and the protocol's human; returns the human to use."""
    defaults = SWEET_RL_SAMPLING if cfg.protocol == "sweet_rl" else {"agent": {}, "human": {}}
    for who, role in ((agent, "agent"), (human, "human")):
        client = getattr(who, "client", None)
        if client is None:
            continue
        if cfg.protocol == "sweet_rl" and getattr(client, "sampling", None) is not None:
            client.sampling.top_p = None  # the original sent none
        max_tokens = defaults[role].get("max_tokens")
        set_sampling(client, defaults[role].get("temperature"), None if max_tokens is None else int(max_tokens))
        set_sampling(client, getattr(cfg, f"{role}_temperature"), getattr(cfg, f"{role}_max_tokens"),
                     getattr(cfg, f"{role}_top_p"))
        if cfg.max_retries is not None and hasattr(client, "max_retries"):
            client.max_retries = cfg.max_retries
    if rules.human_prompt is not None:
        from colbench.humans.llm import LLMCodeHuman
        from colbench.humans.sweet_rl import SweetRLCodeHuman, SweetRLDesignHuman
        from colbench.humans.vlm import VLMDesignHuman

        if isinstance(human, LLMCodeHuman):
            return SweetRLCodeHuman(human.client, rules.human_prompt)
        if isinstance(human, VLMDesignHuman):
            return SweetRLDesignHuman(human.client, rules.human_prompt)
    return human


def chosen_task_ids(cfg: EvalConfig, taskset: TaskSet) -> list[str] | None:
    """cfg.task_ids in the task file's order, each once (None: every task); an id the file
    does not hold is one sentence naming it."""
    if cfg.task_ids is None:
        return None
    given = [cfg.task_ids] if isinstance(cfg.task_ids, str) else list(cfg.task_ids)  # one id, from the API
    wanted = set(given)
    if not wanted:
        raise ColbenchError("--task-ids names no task")
    known = list(dict.fromkeys(t.task_id for t in taskset.tasks))
    missing = [i for i in dict.fromkeys(given) if i not in set(known)]
    if missing:
        close = difflib.get_close_matches(missing[0], known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close and len(missing) == 1 else ""
        names = ", ".join(repr(i) for i in missing)
        raise ColbenchError(f"task id{'s' if len(missing) > 1 else ''} {names} "
                            f"{'are' if len(missing) > 1 else 'is'} not in {taskset.path}{hint}")
    return [i for i in known if i in wanted]


def select_tasks(cfg: EvalConfig, taskset: TaskSet) -> list[Task]:
    """The tasks a run plays: those of cfg.task_ids (all when None), in the file's order,
    then the first cfg.limit of them."""
    ids = chosen_task_ids(cfg, taskset)
    tasks = taskset.tasks if ids is None else [t for t in taskset.tasks if t.task_id in set(ids)]
    return tasks[: cfg.limit] if cfg.limit else tasks


def served_where(agent: Agent, human: Human) -> str | None:
    """Where each model-backed role is served, for one line before a run (None: neither is):
    `agent: openai:gpt-4o at https://api.openai.com/v1; human: ...`."""
    parts = []
    for who, role in ((agent, "agent"), (human, "human")):
        client = getattr(who, "client", None)
        if client is None:
            continue
        where = getattr(client, "where", None)
        if not isinstance(where, str):
            path = getattr(client, "path", None)
            where = f"{client.name} (local{f', {path}' if path and path not in client.name else ''})"
        parts.append(f"{role}: {where}")
    return "; ".join(parts) or None


@dataclass
class Progress:
    done: int = 0
    total: int = 0
    successes: int = 0
    errors: int = 0


async def run_eval(cfg: EvalConfig, taskset: TaskSet, agent: Agent, human: Human, *, resume: bool = False,
                   on_progress: Callable[[Progress], None] | None = None,
                   baseline: str | None = None, rules: DialogueRules | None = None) -> dict[str, Any]:
    """Runs (or resumes) an evaluation; returns the summary written to summary.json. `rules`:
    cfg.protocol's, when the caller has them already (read and verified once).

    The run directory is locked for the whole call: a second eval on it (a new run or a
    --resume) ends at once with one sentence instead of running the same episodes again."""
    run = RunDir(cfg.out)
    with run.lock():
        return await _run_eval_locked(run, cfg, taskset, agent, human, resume=resume, on_progress=on_progress,
                                      baseline=baseline, rules=rules or protocol_rules(cfg))


async def _run_eval_locked(run: RunDir, cfg: EvalConfig, taskset: TaskSet, agent: Agent, human: Human, *,
                           resume: bool, on_progress: Callable[[Progress], None] | None,
                           baseline: str | None, rules: DialogueRules) -> dict[str, Any]:
    tasks = select_tasks(cfg, taskset)
    config = run_config(cfg, taskset, agent, human, rules)
    config["task_ids"] = chosen_task_ids(cfg, taskset)  # in the file's order, so resume compares like with like
    starting = not run.exists()
    if not starting:
        if not resume:
            raise ColbenchError(f"{run.path} already holds a run; pass --resume to continue it or choose another --out")
        previous = run.read_config()
        for key in RESUME_KEYS:
            if previous.get(key, RESUME_DEFAULTS.get(key)) != config.get(key):
                raise ColbenchError(f"cannot resume {run.path}: its {key} was {previous.get(key)!r}, "
                                    f"now {config.get(key)!r}")
        run.load_episodes(repair=True)
    else:
        run.start(config)
    try:
        return await _run_episodes(run, cfg, tasks, agent, human, on_progress=on_progress, baseline=baseline,
                                   rules=rules)
    except BaseException:
        if starting:  # failed before its first episode finished: leave nothing the identical retry trips on
            run.unstart()
        raise


async def _run_episodes(run: RunDir, cfg: EvalConfig, tasks: list[Task], agent: Agent, human: Human, *,
                        on_progress: Callable[[Progress], None] | None, baseline: str | None,
                        rules: DialogueRules) -> dict[str, Any]:
    finished = {k for k, r in run.latest().items() if r.ok}
    todo = [(t, s) for t in tasks for s in range(cfg.samples) if (t.task_id, s) not in finished]
    progress = Progress(total=len(todo))
    writer = EpisodeWriter(run.episodes_path)
    slots = asyncio.Semaphore(cfg.concurrency)

    async def one(scorer: Scorer, task: Task, sample: int) -> None:
        async with slots:
            record = await _play(task, sample, cfg, agent, human, scorer, rules, run.path)
        writer.append(record)
        progress.done += 1
        progress.successes += bool(record.success)
        progress.errors += not record.ok
        if on_progress is not None:
            on_progress(progress)

    try:
        if todo:
            # A missing CLIP model or sandbox image is one sentence before any dialogue.
            async with open_scorer(cfg.split, sandbox=cfg.sandbox, compat=cfg.compat, timeout=cfg.timeout,
                                   reference_timeout=cfg.reference_timeout, clip_model=cfg.clip_model,
                                   allow_network=cfg.allow_network, original=rules.original,
                                   render_settings=render_settings(cfg)) as scorer:
                await asyncio.gather(*(one(scorer, t, s) for t, s in todo))
    finally:
        writer.close()
    summary = summarize(run.frame(), expected_episodes=len(tasks) * cfg.samples, samples=cfg.samples)
    if baseline is not None:
        baseline_run = RunDir.existing(baseline, "baseline")
        summary["win_rate"] = {"baseline": str(baseline), **win_rate(run.frame(), baseline_run.frame())}
    summary.update({"agent": cfg.agent, "human": cfg.human, "split": cfg.split, "tasks": cfg.tasks})
    write_json_atomic(run.path / SUMMARY_FILE, summary)
    return summary


async def evaluate(cfg: EvalConfig, *, resume: bool = False, on_progress: Callable[[Progress], None] | None = None,
                   baseline: str | None = None, on_start: Callable[[str], None] | None = None) -> dict[str, Any]:
    """`colbench eval` as a library call: resolves the tasks, agent and human of `cfg`,
    checks endpoints before any work, runs (or resumes) the evaluation, closes the clients.
    `on_start` gets one line saying where each model-backed role is served (served_where),
    once both answer, before any episode."""
    from colbench.agents import resolve_agent
    from colbench.humans.registry import resolve_human
    from colbench.llm.base import ChatClient
    from colbench.tasks import load_tasks

    taskset = load_tasks(cfg.tasks, cfg.split)
    select_tasks(cfg, taskset)  # an unknown --task-ids id: one sentence, before any model loads
    rules = protocol_rules(cfg)  # missing or altered official files: one sentence, before any model loads
    run = RunDir(cfg.out)
    if run.exists() and not resume:  # before any model is loaded
        raise ColbenchError(f"{run.path} already holds a run; pass --resume to continue it or choose another --out")
    with run.lock():  # taken before models load, so a second eval on the directory ends at once
        agent = resolve_agent(cfg.agent, base_url=cfg.agent_base_url or cfg.base_url)
        human = resolve_human(cfg.human, cfg.split, base_url=cfg.human_base_url or cfg.base_url)
        try:
            human = apply_protocol(cfg, rules, agent, human)
            for who in (agent, human):  # an unreachable endpoint is one sentence, before any work
                client: ChatClient | None = getattr(who, "client", None)  # model-backed players hold one
                if client is not None:
                    await client.check_reachable()
            where = served_where(agent, human)
            if on_start is not None and where is not None:
                on_start(where)
            return await run_eval(cfg, taskset, agent, human, resume=resume, on_progress=on_progress,
                                  baseline=baseline, rules=rules)
        finally:
            try:
                # aclose is optional for agents: the Agent protocol is one respond call, and the
                # built-in agents and adapters from entry points may have nothing to release.
                close = getattr(agent, "aclose", None)
                if close is not None:
                    await close()
            finally:
                await human.aclose()


async def _play(task: Task, sample: int, cfg: EvalConfig, agent: Agent, human: Any, scorer: Scorer,
                rules: DialogueRules, run_path: Path) -> EpisodeRecord:
    """Plays one episode and scores its answer; frontend episodes also render and save pages."""
    seed = episode_seed(cfg.seed, task.task_id, sample)
    extra: dict[str, Any] = {}
    frontend = cfg.split == "frontend"
    if frontend:
        page_scorer: PageScorer = scorer  # type: ignore[assignment]
        extra = {"renderer": page_scorer.renderer, "reference_page": await asyncio.shield(page_scorer.reference(task)),
                 "artifacts": run_path / "artifacts" / f"{_safe(task.task_id)}-{sample}"}
    # The time limit covers the dialogue only: scoring is not timed here.
    ep: Episode = await run_episode(task, agent, human, sample=sample, seed=seed, rules=rules,
                                    max_agent_tokens=cfg.max_episode_tokens, time_limit=cfg.episode_timeout, **extra)
    timings = {"dialogue_s": round(ep.dialogue_seconds, 3)}
    scored: dict[str, Any] = {}  # a score only for a finished dialogue
    if ep.status == "ok":
        start = time.perf_counter()
        scored = (await scorer.score(task, ep.answer or "")).record()
        timings["scoring_s"] = round(time.perf_counter() - start, 3)
    return EpisodeRecord(task_id=task.task_id, sample=sample, seed=seed, status=ep.status, error=ep.error,
                         turns=ep.turns, answer=ep.answer, answered=ep.answered,
                         artifacts=ep.artifacts if frontend else None, timings=timings,
                         usage=cast(dict[str, Usage], ep.usage) or None, **scored)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80]
