"""One command for the whole training loop, from a TOML config:

collect (`colbench eval` with K samples per task, the base model sampling) -> trajectory
pairs -> critic -> sample -> rank -> actor -> evaluate the new checkpoint; or the RFT /
multi-turn DPO baselines in place of critic..actor (`algorithm`).

Every stage writes into `work_dir` under a fixed name and is skipped when its output is
already there, so a stopped pipeline continues where it stopped, and deleting one stage's
output re-runs that stage (and, explicitly, those after it: delete them too). The config
is copied into `work_dir/pipeline.toml` at the first run and must not change afterwards.

[pipeline]  work_dir, base_model, split, tasks, human, sandbox, seed, algorithm
            (sweet-rl | rft | multiturn-dpo), concurrency
[collect]   samples, limit, temperature, max_tokens; or agent (any agent SPEC collects in
            place of the base model); or run (an existing run directory, e.g. from
            `colbench train import`: nothing is collected)
[critic] [sample] [rank] [actor] [rft] [dpo]   the stage's settings (same names as the flags)
[eval]      enabled, tasks, limit, samples, human, max_tokens
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any, Callable

from colbench.errors import ColbenchError
from colbench.protocol import DEFAULT_PROTOCOL

log = logging.getLogger(__name__)

ALGORITHMS = ("sweet-rl", "rft", "multiturn-dpo")
KEYS = {  # the sections not checked against a stage's dataclass
    "pipeline": {"work_dir", "base_model", "split", "tasks", "human", "sandbox", "seed", "algorithm", "concurrency",
                 "protocol"},
    "collect": {"samples", "limit", "temperature", "max_tokens", "agent", "run"},
    "rank": {"pairs_per_turn", "beta", "seed", "max_length", "batch_size"},
    "eval": {"enabled", "tasks", "limit", "samples", "human", "max_tokens"},
}
SECTIONS = {"pipeline", "collect", "critic", "sample", "rank", "actor", "rft", "dpo", "eval"}


def load_config(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ColbenchError(f"pipeline config {path} does not exist")
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ColbenchError(f"pipeline config {path} is not valid TOML ({exc})") from exc
    doc = _expand_doc(doc)
    unknown = set(doc) - SECTIONS
    if unknown:
        raise ColbenchError(f"pipeline config {path} has unknown sections: {', '.join(sorted(unknown))}; "
                            f"known: {', '.join(sorted(SECTIONS))}")
    for section, allowed in KEYS.items():
        unknown = set(doc.get(section, {})) - allowed
        if unknown:
            raise ColbenchError(f"pipeline config {path}: [{section}] has unknown settings: {', '.join(sorted(unknown))}")
    pipe = doc.get("pipeline", {})
    for key in ("work_dir", "base_model"):
        if not pipe.get(key):
            raise ColbenchError(f"pipeline config {path}: [pipeline] needs {key} (an empty ${{VAR}} counts as missing)")
    if pipe.get("algorithm", "sweet-rl") not in ALGORITHMS:
        raise ColbenchError(f"pipeline config {path}: algorithm must be one of {', '.join(ALGORITHMS)}")
    base = Path(pipe["base_model"]).expanduser()
    if not (base / "config.json").is_file():
        raise ColbenchError(f"pipeline config {path}: base_model {pipe['base_model']} is not a local checkpoint "
                            "(no config.json)")
    return doc


def _expand_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """${VAR} and ${VAR:-default} in strings, as in agent definitions: paths differ per machine."""
    from colbench.llm.specs import expand_env

    return {name: {k: expand_env(v) for k, v in section.items()} if isinstance(section, dict) else section
            for name, section in doc.items()}


def stage_configs(doc: dict[str, Any]) -> dict[str, Any]:
    """Every stage's settings, checked before anything runs (not an hour later)."""
    from colbench.train import policy
    from colbench.train.critic import CriticConfig
    from colbench.train.sample import SampleConfig

    seed = int(doc["pipeline"].get("seed", 0))
    rft = dict(doc.get("rft", {}))
    min_score = rft.pop("min_score", None)
    critic = _stage_config(CriticConfig, doc.get("critic", {}), "critic", seed=seed)
    # The sample stage renders the critic's input (for rank_reference "critic_input") as the
    # critic is trained to read it, unless told otherwise.
    sample = {"input_format": critic.input_format, **doc.get("sample", {})}
    return {
        "critic": critic,
        "sample": _stage_config(SampleConfig, sample, "sample", seed=seed),
        "rank": {"pairs_per_turn": 4, "beta": 0.1, "seed": seed, **doc.get("rank", {})},
        "actor": _stage_config(policy.DPOConfig, doc.get("actor", {}), "actor", seed=seed),
        "rft": _stage_config(policy.SFTConfig, rft, "rft", seed=seed),
        "rft_min_score": min_score,
        "dpo": _stage_config(policy.DPOConfig, doc.get("dpo", {}), "dpo", seed=seed),
    }


def _stage_config(cls: type, section: dict[str, Any], where: str, **defaults: Any) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = set(section) - names
    if unknown:
        raise ColbenchError(f"pipeline config [{where}] has unknown settings: {', '.join(sorted(unknown))}")
    for f in fields(cls):
        if f.name in section:
            value, default = section[f.name], f.default
            ok = isinstance(value, type(default)) or (isinstance(default, float) and isinstance(value, int))
            if not ok or isinstance(value, bool) != isinstance(default, bool):
                raise ColbenchError(f"pipeline config [{where}] {f.name} must be a {type(default).__name__}, "
                                    f"not {value!r}")
    return cls(**{**defaults, **section})


def _agent_toml(path: Path, model: str, temperature: float, max_tokens: int) -> str:
    """The policy as an agent definition: the same `hf` agent evaluation uses, sampling as asked."""
    path.write_text(f'name = "{path.stem}"\n\n[model]\nkind = "hf"\npath = {json.dumps(str(model))}\n\n'
                    f"[sampling]\ntemperature = {float(temperature)}\nmax_tokens = {int(max_tokens)}\n",
                    encoding="utf-8")
    return str(path)


class Ranks:
    """The processes of one pipeline under `accelerate launch` or torchrun, on one machine
    (RANK and WORLD_SIZE in the environment; one process otherwise). Stages that collect,
    score or write files run on the main process; the others wait for their output by
    polling the file system, not a collective (a collect can take hours, longer than a
    process group's timeout). The launch's markers live in work_dir/.launch-ID (ID: the
    launcher, the processes' common parent: its pid and start time); a stage that fails on
    any process leaves `failed` there, and the waiting ones stop."""

    POLL_S = 2.0

    def __init__(self, work: Path):
        import os

        self.rank, self.world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
        if int(os.environ.get("LOCAL_WORLD_SIZE", self.world)) != self.world:
            raise ColbenchError("the pipeline runs on one machine; across machines, run its training stages one by "
                                "one (`colbench train critic|actor ...` under accelerate launch)")
        self.main = self.rank == 0
        self.work = work
        self.dir = work / f".launch-{launcher_id()}"
        self.failed = self.dir / "failed"
        self._token = 0

    def start(self) -> None:
        """The main process, first: the markers of earlier launches go."""
        import shutil

        for old in self.work.glob(".launch-*"):
            if old != self.dir:
                shutil.rmtree(old, ignore_errors=True)
        if self.world > 1:
            self.dir.mkdir(exist_ok=True)

    def guard(self, name: str) -> Any:
        """Around a stage: on failure, under several processes, the stage's name and the error
        go into `failed`."""
        import contextlib

        ranks = self

        @contextlib.contextmanager
        def guarded() -> Any:
            try:
                yield
            except BaseException as exc:
                if ranks.world > 1:
                    who = "" if ranks.main else f" (process {ranks.rank})"
                    ranks.failed.write_text(f"{name}{who}: {exc}\n", encoding="utf-8")
                raise
        return guarded()

    def wait_for(self, name: str, ready: Callable[[], bool]) -> None:
        import time

        while not ready():
            if self.failed.exists():
                raise ColbenchError(f"a process failed at the {name} stage "
                                    f"({self.failed.read_text(encoding='utf-8').strip()}); see its output")
            time.sleep(self.POLL_S)

    def together(self, action: Callable[[], Any]) -> None:
        """`action` on the main process only; the others go on once it is done."""
        self._token += 1
        marker = self.dir / f"step-{self._token}"
        if self.world == 1:
            action()
            return
        if self.main:
            with self.guard("set-up"):
                action()
            marker.write_text("", encoding="utf-8")
        else:
            self.wait_for("set-up", marker.exists)

    def shared_stage(self, name: str, output: Path, share: Callable[[tuple[int, int]], list[float]],
                     finish: Callable[[list[float]], Any]) -> None:
        """A stage whose heavy part every process shares: `share((k, n))` computes the k-th
        of n shares (each process its own, written to the launch's directory), then the
        main process joins them in order and `finish` writes `output`; the others wait
        for it."""
        if self.world == 1:
            finish(share((0, 1)))
            return
        mine = self.dir / f"{name}-{self.rank}.json"
        scratch = mine.with_suffix(".partial")
        scratch.write_text(json.dumps(share((self.rank, self.world))), encoding="utf-8")
        scratch.replace(mine)  # whole or absent, for the main process to read
        if not self.main:
            self.wait_for(name, output.exists)
            return
        parts = [self.dir / f"{name}-{k}.json" for k in range(self.world)]
        self.wait_for(name, lambda: all(p.exists() for p in parts))
        finish([v for p in parts for v in json.loads(p.read_text(encoding="utf-8"))])


def launcher_id() -> str:
    """The parent process (the launcher, common to a launch's processes): its pid and start
    time, which no other launch shares even where pids repeat (containers)."""
    import os

    ppid = os.getppid()
    try:
        stat = Path(f"/proc/{ppid}/stat").read_text()
        started = stat[stat.rindex(")") + 2:].split()[19]  # field 22: start time in clock ticks
    except (OSError, ValueError, IndexError):
        started = "0"
    return f"{ppid}-{started}"


def run_pipeline(config_path: str | Path, *, progress: Callable[[str], Any] = log.info) -> dict[str, Any]:
    from colbench.runner import EvalConfig, evaluate
    from colbench.runs import RunDir
    from colbench.train import policy
    from colbench.train.critic import train_critic
    from colbench.train.prefs import write_preference_pairs
    from colbench.train.sample import critic_candidate_logps, load_candidates, rank_candidates, sample_candidates

    doc = load_config(config_path)
    pipe = doc["pipeline"]
    seed = int(pipe.get("seed", 0))
    stages = stage_configs(doc)
    work = Path(pipe["work_dir"]).expanduser()
    work.mkdir(parents=True, exist_ok=True)
    rank = Ranks(work)
    saved = work / "pipeline.toml"
    text = Path(config_path).read_text(encoding="utf-8")
    if rank.main:
        rank.start()
        with rank.guard("config"):
            if saved.exists() and _expand_doc(tomllib.loads(saved.read_text(encoding="utf-8"))) != doc:
                raise ColbenchError(f"{work} was made by a different pipeline config ({saved}); use another work_dir")
        saved.write_text(text, encoding="utf-8")
    base = str(Path(pipe["base_model"]).expanduser())
    split = pipe.get("split", "backend")
    algorithm = pipe.get("algorithm", "sweet-rl")
    common = {"split": split, "human": pipe.get("human", "offline"), "sandbox": pipe.get("sandbox", "docker"),
              "seed": seed, "concurrency": int(pipe.get("concurrency", 8)),
              # The collected dialogues' protocol; every later stage trains on its prompts.
              "protocol": str(pipe.get("protocol", DEFAULT_PROTOCOL))}
    result: dict[str, Any] = {"work_dir": str(work)}

    def complete(path: Path) -> bool:
        return path.exists() and (path.is_file() or (path / "config.json").is_file() or
                                  (path / "summary.json").is_file())

    def announce(name: str, path: Path) -> bool:
        """Whether stage `name`'s output is there; the main process says so."""
        exists = complete(path)
        if rank.main:
            progress(f"{name}: {'kept' if exists else 'running'} ({path})")
        return exists

    def done(name: str, path: Path) -> bool:
        """Whether stage `name`'s output is there. Under several processes (`accelerate
        launch`) only the main one runs the stages that collect, score and write files;
        the others wait here until it has written the output."""
        if announce(name, path):
            return True
        if not rank.main:
            rank.wait_for(name, lambda: complete(path))
            return True
        return False

    def checkpoint_stage(name: str, path: Path, train: Callable[[Path], Any]) -> None:
        """Checkpoints are trained into NAME.partial and renamed when saved, so a stage
        stopped half-way is re-run rather than kept."""
        if announce(name, path):
            return
        tmp = path.with_name(path.name + ".partial")
        rank.together(lambda: shutil.rmtree(tmp) if tmp.exists() else None)
        with rank.guard(name):
            train(tmp)  # every process: training is distributed
        rank.together(lambda: tmp.rename(path))

    # 1. collect: the base policy, sampling, K trajectories per task
    col = doc.get("collect", {})
    collect = Path(col["run"]).expanduser() if col.get("run") else work / "collect"
    if col.get("run"):
        # An existing run (`colbench eval`, or `colbench train import`, which writes no summary): used as it
        # is, never collected into or resumed.
        RunDir.existing(collect, "pipeline config [collect]: run")
        if rank.main:
            progress(f"collect: kept ({collect}, [collect] run)")
    elif not done("collect", collect):
        agent = col.get("agent") or _agent_toml(work / "collect_agent.toml", base, col.get("temperature", 1.0),
                                                col.get("max_tokens", 1024))
        cfg = EvalConfig(agent=agent, tasks=pipe.get("tasks", "bundled"), out=str(collect), limit=col.get("limit"),
                         samples=int(col.get("samples", 4)), **common)
        with rank.guard("collect"):
            asyncio.run(evaluate(cfg, resume=(collect / "run.json").exists()))

    # 2. trajectory preference pairs (SWEET-RL's critic and multi-turn DPO; RFT needs none)
    prefs = work / "trajectory_pairs.jsonl"
    if algorithm != "rft" and not done("prefs", prefs):
        with rank.guard("prefs"):
            write_preference_pairs(collect, prefs)

    checkpoint = work / algorithm
    if algorithm == "sweet-rl":
        critic = work / "critic"
        checkpoint_stage("critic", critic, lambda out: train_critic(prefs, base, out, stages["critic"]))
        candidates = work / "candidates.jsonl"
        if not done("sample", candidates):
            with rank.guard("sample"):
                sample_candidates(collect, base, candidates, stages["sample"])
        actions = work / "action_pairs.jsonl"
        if not announce("rank", actions):
            # Every process scores a share of the candidates with the critic.
            scoring = {k: v for k, v in stages["rank"].items() if k in ("max_length", "batch_size")}
            with rank.guard("rank"):
                rank.shared_stage("rank", actions,
                                  lambda part: critic_candidate_logps(load_candidates(candidates), str(critic),
                                                                      part=part, **scoring),
                                  lambda scores: rank_candidates(candidates, str(critic), actions, critic_logps=scores,
                                                                 **stages["rank"]))
        checkpoint_stage("actor", checkpoint, lambda out: policy.train_actor(actions, base, out, stages["actor"]))
    elif algorithm == "rft":
        checkpoint_stage("rft", checkpoint, lambda out: policy.train_rft(collect, base, out, stages["rft"],
                                                                         min_score=stages["rft_min_score"]))
    else:
        checkpoint_stage("dpo", checkpoint,
                         lambda out: policy.train_multiturn_dpo(prefs, base, out, stages["dpo"]))
    result["checkpoint"] = str(checkpoint)

    # last: evaluate the new checkpoint with the same harness (greedy, as `hf:CHECKPOINT`)
    ev = doc.get("eval", {})
    if ev.get("enabled", True):
        evaluation = work / "eval"
        if not done("eval", evaluation):
            agent = _agent_toml(work / "eval_agent.toml", str(checkpoint), 0.0, ev.get("max_tokens", 1024))
            cfg = EvalConfig(agent=agent, tasks=ev.get("tasks", pipe.get("tasks", "bundled")), out=str(evaluation),
                             limit=ev.get("limit"), samples=int(ev.get("samples", 1)),
                             **{**common, "human": ev.get("human", common["human"])})
            with rank.guard("eval"):
                asyncio.run(evaluate(cfg, resume=(evaluation / "run.json").exists()))
        summary = json.loads((evaluation / "summary.json").read_text(encoding="utf-8"))
        result["eval"] = {"run": str(evaluation), "score": summary["score"], "success": summary["success"]}
    return result
