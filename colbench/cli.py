"""`colbench` command line: parse, call the library, print. Errors end in one sentence."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import sys
from typing import Any, NoReturn, Sequence

from colbench.version import __version__
from colbench.defaults import CLIP_MODEL, REFERENCE_TIMEOUT_S, TEST_TIMEOUT_S
from colbench.errors import ColbenchError
from colbench.protocol import DEFAULT_PROTOCOL, PROTOCOLS
from colbench.train.common import ACTOR_MAX_LENGTH, CRITIC_MAX_LENGTH


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one sentence, not a usage dump
        raise ColbenchError(f"{message} (see `{self.prog} --help`)")


TIMEOUT_HELP = f"seconds per test call (default {TEST_TIMEOUT_S:g}, at most 3600)"
REFERENCE_TIMEOUT_HELP = (f"seconds per test call of the reference solution (default {REFERENCE_TIMEOUT_S:g}, "
                          "at most 3600); only its finished results are cached")

def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    value = _finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of at least 0, got {text!r}")
    return value


def _rate(text: str) -> float:
    value = _non_negative_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1, got {text!r}")
    return value


def _time_limit(text: str) -> float:
    """Seconds per test call: positive and at most the sandbox's limit (an infinite limit
    would let one hanging answer stop the run forever)."""
    from colbench.sandbox.guest import MAX_TIMEOUT_S

    value = _positive_float(text)
    if not value <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_TIMEOUT_S:g} seconds per test, got {text!r}")
    return value


def _whole_number(minimum: int, words: str) -> Any:
    """An argparse type: a whole number of at least `minimum` (`words` says so in the error)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {words}, got {text!r}")
        return value
    return parse


_positive_int = _whole_number(1, "a positive whole number")
_non_negative_int = _whole_number(0, "a whole number of at least 0")


def _top_p(text: str) -> float:
    value = _positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected a number above 0 and at most 1, got {text!r}")
    return value


def _seconds(text: str) -> float:
    value = _positive_float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds, got {text!r}")
    return value


def _task_ids(text: str) -> list[str]:
    ids = [part.strip() for part in text.split(",")]
    if not all(ids):
        raise argparse.ArgumentTypeError(f"expected task ids separated by commas, got {text!r}")
    return ids


def _train_flags(p: argparse.ArgumentParser, *, epochs: int, batch_size: int, max_length: int,
                 beta: float | None = None, nll: float | None = None) -> None:
    """The flags every training stage shares (defaults: the SWEET-RL paper's)."""
    p.add_argument("--model", required=True, help="starting checkpoint (a local directory)")
    p.add_argument("--out", required=True, help="where to save the trained checkpoint")
    p.add_argument("--lr", type=_positive_float, default=2e-7)
    p.add_argument("--epochs", type=_positive_int, default=epochs)
    p.add_argument("--batch-size", type=_positive_int, default=batch_size, help="global batch per optimizer step")
    p.add_argument("--micro-batch-size", type=_positive_int, help="per process and forward pass (default: the batch)")
    p.add_argument("--max-length", type=_positive_int, default=max_length,
                   help=f"tokens per sequence (default {max_length}, the released trainer's)")
    p.add_argument("--lora-r", type=int, default=0, help="LoRA rank through peft (default 0: full fine-tuning)")
    p.add_argument("--gradient-checkpointing", choices=["auto", "on", "off"], default="auto")
    p.add_argument("--precision", choices=["auto", "no", "fp16", "bf16"], default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--optimizer", choices=["released", "constant"], default="released",
                   help="released (default, the released trainer's): AdamW betas (0.9, 0.95), no weight decay, "
                        "cosine from 3%% warm-up to 0.1 x lr, gradient norm clipped to 1.0; constant: AdamW's "
                        "defaults at a constant lr, no clipping")
    if beta is not None:
        p.add_argument("--beta", type=_positive_float, default=beta)
    if nll is not None:
        p.add_argument("--nll", type=_non_negative_float, default=nll, help="coefficient of the NLL term (default 0.01)")


def _train_config(cls: type, args: argparse.Namespace) -> Any:
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in vars(args).items() if k in fields and v is not None}
    return cls(**values)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="colbench", description="Evaluation harness for ColBench collaborative agents.")
    p.add_argument("--version", action="version", version=f"colbench {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the harness does")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("score", help="score final answers without dialogue")
    s.add_argument("--tasks", required=True, help="bundled | colbench | PATH to a task JSONL file")
    s.add_argument("--answers", required=True, help="JSONL file of {task_id, answer, ...} lines")
    s.add_argument("--out", required=True, help="where to write the scored lines (JSONL)")
    s.add_argument("--split", choices=["backend", "frontend"], help="default: inferred from the tasks")
    s.add_argument("--sandbox", choices=["docker", "process"], default="docker",
                   help="where answers run (default docker; process = weaker isolation)")
    s.add_argument("--compat", choices=["sweet_rl"], help="reproduce the original research checker")
    s.add_argument("--timeout", type=_time_limit, default=TEST_TIMEOUT_S, help=TIMEOUT_HELP)
    s.add_argument("--reference-timeout", type=_time_limit, default=REFERENCE_TIMEOUT_S, help=REFERENCE_TIMEOUT_HELP)
    s.add_argument("--concurrency", type=_positive_int, help="sandbox workers (default: CPU count)")
    s.add_argument("--clip-model", help="frontend: CLIP model, a local directory or a cached hub id "
                                        f"(default {CLIP_MODEL})")
    s.add_argument("--allow-network", action="store_true",
                   help="frontend: let pages load from the network (default: offline, deterministic)")
    s.set_defaults(func=cmd_score)

    e = sub.add_parser("eval", help="run agent-vs-human dialogues and score them")
    e.add_argument("--agent", required=True, help="agent SPEC: a name, openai:MODEL, scripted:PATH or a TOML file")
    e.add_argument("--split", required=True, choices=["backend", "frontend"])
    e.add_argument("--tasks", default="bundled", help="bundled | colbench | PATH (default bundled)")
    e.add_argument("--human", help="human SPEC: offline, openai:MODEL, a name or a TOML file "
                                   "(default: llama-3.1-70b-instruct)")
    e.add_argument("--limit", type=_positive_int, help="only the first N tasks")
    e.add_argument("--samples", type=_positive_int, default=1, help="episodes per task (default 1)")
    e.add_argument("--concurrency", type=_positive_int, default=8, help="episodes in flight (default 8)")
    e.add_argument("--out", help="run directory (default runs/AGENT-SPLIT-TIME)")
    e.add_argument("--resume", action="store_true", help="continue the run in --out")
    e.add_argument("--agent-base-url", help="OpenAI-compatible base URL for the agent")
    e.add_argument("--human-base-url", help="OpenAI-compatible base URL for the human")
    e.add_argument("--base-url", help="OpenAI-compatible base URL for both roles, one server serving both models "
                                      "(--agent-base-url / --human-base-url override it)")
    e.add_argument("--task-ids", type=_task_ids, action="extend", metavar="ID[,ID...]",
                   help="only these tasks, in the task file's order (then --limit)")
    e.add_argument("--episode-timeout", type=_seconds, metavar="SECONDS",
                   help="wall time per dialogue (scoring not included); an episode past it ends as an error, "
                        "which --resume runs again")
    e.add_argument("--max-retries", type=_non_negative_int, metavar="N",
                   help="retries per model call on 429, 5xx, timeouts and dropped connections, for both roles' "
                        "OpenAI-compatible models (default: the model definition's, else 5)")
    e.add_argument("--seed", type=int, default=0, help="run seed (per-episode seeds derive from it)")
    e.add_argument("--sandbox", choices=["docker", "process"], default="docker")
    e.add_argument("--compat", choices=["sweet_rl"], help="score with the original research checker")
    e.add_argument("--protocol", choices=list(PROTOCOLS), default=DEFAULT_PROTOCOL,
                   help="sweet_rl (default): the original ColBench's prompts (read from $COLBENCH_DATA_DIR/prompts, "
                        "verified; `colbench tasks download` fetches them), sampling, answers, checker and page "
                        "rules, numbers comparable with the paper; colbench: our own wording, no official files")
    for who in ("agent", "human"):
        e.add_argument(f"--{who}-temperature", type=_non_negative_float,
                       help=f"the {who} model's sampling temperature (default: the protocol's or its definition's)")
        e.add_argument(f"--{who}-max-tokens", type=_positive_int,
                       help=f"the {who} model's max_tokens (default: the protocol's or its definition's)")
        e.add_argument(f"--{who}-top-p", type=_top_p,
                       help=f"the {who} model's top_p, in (0, 1] (default: the protocol's or its definition's)")
    e.add_argument("--timeout", type=_time_limit, default=TEST_TIMEOUT_S, help=TIMEOUT_HELP)
    e.add_argument("--reference-timeout", type=_time_limit, default=REFERENCE_TIMEOUT_S, help=REFERENCE_TIMEOUT_HELP)
    e.add_argument("--clip-model", help="frontend: CLIP model, a local directory or a cached hub id "
                                        f"(default {CLIP_MODEL})")
    e.add_argument("--allow-network", action="store_true",
                   help="frontend: let pages load from the network (default: offline, deterministic)")
    e.add_argument("--baseline", help="a run directory to report the win rate against")
    e.add_argument("--max-episode-tokens", type=_positive_int, help="end an episode as an error once its agent has "
                   "used more prompt + completion tokens than this (--resume runs it again)")
    e.add_argument("--max-error-rate", type=_rate, default=0.0,
                   help="exit 0 when at most this share of episodes ended in an error (0..1, default 0: exit 1 "
                        "when any did; --resume re-runs them)")
    e.set_defaults(func=cmd_eval)

    x = sub.add_parser("export", help="write a run in another tool's format")
    x.add_argument("run_dir")
    x.add_argument("--format", required=True, choices=["sweet_rl", "parquet"],
                   help="sweet_rl: the original research code's trajectories (JSONL); parquet: one row per episode, "
                        "the columns of colbench.read_run")
    x.add_argument("--out", required=True, help="output path (a .jsonl file for sweet_rl, a .parquet file for parquet)")
    x.set_defaults(func=cmd_export)

    rp = sub.add_parser("report", help="write RUN_DIR/report.html: summary, sortable table, transcripts; with a "
                        "second run, a page comparing the two task by task")
    rp.add_argument("run_dir")
    rp.add_argument("run_b", nargs="?", metavar="RUN_B",
                    help="a second run of the same split: compare RUN_DIR (A) with it task by task, with the paired "
                         "statistics of `colbench regress`")
    rp.add_argument("--out", help="where to write the HTML (default RUN_DIR/report.html; with RUN_B, "
                                  "RUN_B/compare-<RUN_DIR's name>.html)")
    rp.set_defaults(func=cmd_report)

    tr = sub.add_parser("train", help="SWEET-RL training stages")
    trs = tr.add_subparsers(dest="stage", required=True, parser_class=_Parser)
    pr = trs.add_parser("prefs", help="trajectory preference pairs from a run with K samples per task")
    pr.add_argument("run_dir")
    pr.add_argument("--out", required=True, help="output JSONL of pairs")
    pr.add_argument("--min-gap", type=_non_negative_float, default=0.1,
                    help="frontend: least similarity gap of a pair (default 0.1, the original's)")
    pr.add_argument("--frontend-pairs", choices=["all", "best"], default="all",
                    help="frontend: all: every two trajectories of a task at least --min-gap apart (default, the "
                         "original's); best: the best against each worse one")
    pr.set_defaults(func=cmd_train_prefs)
    cr = trs.add_parser("critic", help="train the critic (Bradley-Terry over trajectory pairs)")
    cr.add_argument("--pairs", required=True, help="pairs JSONL from `colbench train prefs`")
    _train_flags(cr, epochs=4, batch_size=8, max_length=CRITIC_MAX_LENGTH, beta=0.1)
    cr.add_argument("--critic-score", dest="score", choices=["token_mean", "turn_means"], default="token_mean",
                    help="a trajectory's score: token_mean (default, the released trainer's): one mean log-ratio "
                         "over all agent tokens; turn_means (the paper's text): the sum of per-turn means")
    cr.add_argument("--critic-input", dest="input_format", choices=["chat", "plain"], default="chat",
                    help="chat (default, the released trainer's): the dialogue in the model's chat template with "
                         "the agent's system prompt, after the reference solution; plain: a plain transcript")
    cr.set_defaults(func=cmd_train_critic)
    sa = trs.add_parser("sample", help="policy candidates for a fraction of a run's agent turns")
    sa.add_argument("run_dir")
    sa.add_argument("--policy", required=True, help="the policy checkpoint that writes the candidates")
    sa.add_argument("--reference", help="reference model for the critic's log-ratio (default: the policy)")
    sa.add_argument("--out", required=True, help="output JSONL of sampled turns and candidates")
    sa.add_argument("--candidates", type=_positive_int, default=16)
    sa.add_argument("--fraction", type=_positive_float, default=0.1, help="fraction of the turns (default 0.1)")
    sa.add_argument("--temperature", type=_non_negative_float, default=1.0)
    sa.add_argument("--top-p", type=_positive_float, default=1.0)
    sa.add_argument("--max-new-tokens", type=_positive_int, default=1024, help="per candidate (default 1024, the "
                    "released scripts')")
    sa.add_argument("--max-length", type=_positive_int, default=CRITIC_MAX_LENGTH)
    sa.add_argument("--rank-reference", choices=["policy", "critic_input"], default="policy",
                    help="what ranking subtracts from the critic: policy (default, the released scripts'): the "
                         "reference model on the policy's own prompt, without the reference solution; "
                         "critic_input: the reference model on the critic's input")
    sa.add_argument("--critic-input", dest="input_format", choices=["chat", "plain"], default="chat",
                    help="the critic's input format, for --rank-reference critic_input")
    sa.add_argument("--engine", choices=["auto", "transformers", "vllm"], default="auto",
                    help="generation engine (auto: vLLM when installed and on GPU)")
    sa.add_argument("--seed", type=int, default=0)
    sa.set_defaults(func=cmd_train_sample)
    ra = trs.add_parser("rank", help="rank candidates with the critic into per-turn action pairs")
    ra.add_argument("candidates", help="JSONL from `colbench train sample`")
    ra.add_argument("--critic", required=True, help="critic checkpoint from `colbench train critic`")
    ra.add_argument("--out", required=True, help="output JSONL of action pairs")
    ra.add_argument("--pairs-per-turn", type=_positive_int, default=4)
    ra.add_argument("--beta", type=_positive_float, default=0.1)
    ra.add_argument("--max-length", type=_positive_int, default=CRITIC_MAX_LENGTH,
                    help="the critic's input budget, for critics that do not record theirs (default "
                         f"{CRITIC_MAX_LENGTH})")
    ra.add_argument("--seed", type=int, default=0)
    ra.set_defaults(func=cmd_train_rank)
    ac = trs.add_parser("actor", help="train the actor: DPO with an NLL term on per-turn action pairs")
    ac.add_argument("--pairs", required=True, help="action pairs JSONL from `colbench train rank`")
    _train_flags(ac, epochs=1, batch_size=8, max_length=ACTOR_MAX_LENGTH, beta=0.1, nll=0.01)
    ac.set_defaults(func=cmd_train_policy, kind="actor")
    dp = trs.add_parser("dpo", help="baseline: multi-turn DPO on trajectory pairs")
    dp.add_argument("--pairs", required=True, help="trajectory pairs JSONL from `colbench train prefs`")
    _train_flags(dp, epochs=1, batch_size=8, max_length=ACTOR_MAX_LENGTH, beta=0.1, nll=0.01)
    dp.set_defaults(func=cmd_train_policy, kind="dpo")
    rf = trs.add_parser("rft", help="baseline: rejection fine-tuning (SFT on successful trajectories)")
    rf.add_argument("run_dir")
    rf.add_argument("--min-score", type=_finite_float, help="frontend: keep trajectories scoring at least this")
    _train_flags(rf, epochs=1, batch_size=32, max_length=ACTOR_MAX_LENGTH)
    rf.set_defaults(func=cmd_train_policy, kind="rft")
    pl = trs.add_parser("pipeline", help="run every stage from a TOML config (collect ... evaluate)")
    pl.add_argument("config", help="pipeline TOML (see configs/train/)")
    pl.set_defaults(func=cmd_train_pipeline)
    im = trs.add_parser("import", help="import trajectories in the published sweet_rl format as a run")
    im.add_argument("path", help="JSONL of {task, dialogue_history, answer, reward} lines")
    im.add_argument("--out", required=True, help="run directory to create")
    im.add_argument("--protocol", choices=list(PROTOCOLS), default="sweet_rl",
                    help="the protocol the dialogues were held under, which training then shows the agent "
                         "(default sweet_rl: the released data came from the original code)")
    im.set_defaults(func=cmd_train_import)

    su = sub.add_parser("submit", help="check a run on the official test set and write a leaderboard submission")
    su.add_argument("run_dir")
    su.add_argument("--name", help="submission name (default AGENT-SPLIT); the file is DIR/submissions/NAME.json")
    su.add_argument("--dir", default="leaderboard", help="leaderboard directory (default leaderboard)")
    su.add_argument("--force", action="store_true", help="replace an existing submission of that name")
    su.set_defaults(func=cmd_submit)

    lb = sub.add_parser("leaderboard", help="build the leaderboard from the submissions")
    lbs = lb.add_subparsers(dest="action", required=True, parser_class=_Parser)
    lbb = lbs.add_parser("build", help="validate submissions, write README.md and site/index.html")
    lbb.add_argument("--dir", default="leaderboard", help="leaderboard directory (default leaderboard)")
    lbb.set_defaults(func=cmd_leaderboard_build)

    rg = sub.add_parser("regress", help="fail (exit 1) when a candidate run is worse than a baseline beyond a drop")
    rg.add_argument("--baseline", required=True, help="a run directory or a submission JSON file")
    rg.add_argument("--candidate", required=True, help="a run directory (or a submission JSON file)")
    rg.add_argument("--metric", required=True, choices=["score", "success"])
    rg.add_argument("--max-drop", required=True, type=float,
                    help="largest allowed drop, in the metric's units (0.02 = 2 points)")
    rg.add_argument("--confidence", type=float, default=0.95, help="one-sided confidence level (default 0.95)")
    rg.add_argument("--subset", action="store_true",
                    help="compare on the shared tasks even if the candidate lacks some of the baseline's")
    rg.set_defaults(func=cmd_regress)

    sb = sub.add_parser("sandbox", help="build or inspect the sandbox image")
    sbs = sb.add_subparsers(dest="action", required=True, parser_class=_Parser)
    b = sbs.add_parser("build", help="build the sandbox image from Debian packages (if missing)")
    b.add_argument("--force", action="store_true", help="rebuild even if the image exists")
    b.add_argument("--mirror", help="Debian mirror URL (default: deb.debian.org or COLBENCH_DEBIAN_MIRROR)")
    b.set_defaults(func=cmd_sandbox_build)
    st = sbs.add_parser("status", help="engine, image and running sandbox containers")
    st.set_defaults(func=cmd_sandbox_status)

    t = sub.add_parser("tasks", help="list or show tasks")
    ts = t.add_subparsers(dest="action", required=True, parser_class=_Parser)
    tl = ts.add_parser("list", help="list the tasks of a task set")
    tl.add_argument("--tasks", default="bundled", help="bundled | colbench | PATH (default bundled)")
    tl.add_argument("--split", choices=["backend", "frontend"], default="backend")
    tl.set_defaults(func=cmd_tasks_list)
    tsh = ts.add_parser("show", help="show one task")
    tsh.add_argument("task_id")
    tsh.add_argument("--tasks", default="bundled", help="bundled | colbench | PATH (default bundled)")
    tsh.add_argument("--split", choices=["backend", "frontend"], default="backend")
    tsh.set_defaults(func=cmd_tasks_show)
    td = ts.add_parser("download", help="fetch the official ColBench files (online): the original prompts, the "
                       "backend tasks, the frontend tasks (built from WebSight v0.2) and the photo they show")
    td.add_argument("--dest", help="where to put them (default: $COLBENCH_DATA_DIR or ~/.cache/colbench/data)")
    td.add_argument("--split", choices=["backend", "frontend"],
                    help="only the tasks of one split (default: both; the prompt files always)")
    td.add_argument("--offline-data", action="store_true",
                    help="also the released 15k offline trajectories (436 MB)")
    td.set_defaults(func=cmd_tasks_download)
    return p


def _console():
    from rich.console import Console
    return Console()


def cmd_score(args: argparse.Namespace) -> int:
    from colbench.scoring.answers import score_file
    from colbench.tasks import load_tasks

    tasks = load_tasks(args.tasks, args.split)
    progress, bar = _progress("scoring")
    try:
        summary = score_file(tasks, args.answers, args.out, sandbox=args.sandbox, compat=args.compat,
                             timeout=args.timeout, reference_timeout=args.reference_timeout,
                             concurrency=args.concurrency, progress=progress,
                             clip_model=args.clip_model, allow_network=args.allow_network)
    finally:
        if bar is not None:
            bar.stop()
    from rich.table import Table
    from colbench.sandbox.guest import HASH_SEED
    mode = f", compat {args.compat}" if args.compat else ""
    setting = f"{args.sandbox} sandbox{mode}, hash seed {HASH_SEED}" if tasks.tasks[0].split == "backend" else "frontend"
    table = Table(title=f"colbench score ({setting})")
    for col in ("answers", "tasks", "n", "mean score", "success rate", "seconds"):
        table.add_column(col)
    rate = "-" if summary.success_rate is None else f"{summary.success_rate:.3f}"
    table.add_row(str(args.answers), tasks.source, str(summary.answers), f"{summary.mean_score:.3f}",
                  rate, f"{summary.seconds:.1f}")
    _console().print(table)
    print(f"scored lines written to {summary.out}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import asyncio

    from colbench.humans.registry import DEFAULT_HUMAN
    from colbench.runner import EvalConfig, default_run_dir, evaluate

    if args.resume and not args.out:
        raise ColbenchError("--resume needs --out, the run directory to continue")
    out = args.out or default_run_dir(args.agent, args.split)
    cfg = EvalConfig(agent=args.agent, human=args.human or DEFAULT_HUMAN[args.split], split=args.split, tasks=args.tasks, out=out,
                     limit=args.limit, samples=args.samples, concurrency=args.concurrency, seed=args.seed,
                     sandbox=args.sandbox, compat=args.compat, timeout=args.timeout,
                     reference_timeout=args.reference_timeout, protocol=args.protocol,
                     agent_temperature=args.agent_temperature, agent_max_tokens=args.agent_max_tokens,
                     human_temperature=args.human_temperature, human_max_tokens=args.human_max_tokens,
                     agent_base_url=args.agent_base_url, human_base_url=args.human_base_url,
                     clip_model=args.clip_model, allow_network=args.allow_network,
                     max_episode_tokens=args.max_episode_tokens, agent_top_p=args.agent_top_p,
                     human_top_p=args.human_top_p, base_url=args.base_url, task_ids=args.task_ids,
                     episode_timeout=args.episode_timeout, max_retries=args.max_retries)

    async def main() -> dict:
        from colbench.report import live_report  # rewrites report.html as episodes finish

        bar, update = _eval_progress()
        try:
            return await evaluate(cfg, resume=args.resume, on_progress=live_report(out, update), baseline=args.baseline,
                                  on_start=lambda where: print(f"colbench: {where}", file=sys.stderr))
        finally:
            if bar is not None:
                bar.stop()

    summary = asyncio.run(main())
    from colbench.report import write_report

    write_report(out)  # a run directory carries its report.html
    _print_eval_table(summary, out)
    return _eval_exit_status(summary, args.max_error_rate)


def cmd_train_prefs(args: argparse.Namespace) -> int:
    from colbench.train.prefs import write_preference_pairs

    n = write_preference_pairs(args.run_dir, args.out, min_gap=args.min_gap, frontend_pairs=args.frontend_pairs)
    print(f"wrote {n} preference pairs to {args.out}")
    return 0


def _main_process() -> bool:
    """Under `accelerate launch` every process runs the command; one of them reports."""
    return os.environ.get("RANK", "0") == "0"


def cmd_train_critic(args: argparse.Namespace) -> int:
    from colbench.train.critic import CriticConfig, train_critic

    losses = train_critic(args.pairs, args.model, args.out, _train_config(CriticConfig, args))
    if _main_process():
        print(f"critic saved to {args.out}: {len(losses)} steps, loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    return 0


def cmd_train_sample(args: argparse.Namespace) -> int:
    from colbench.train.sample import SampleConfig, sample_candidates

    n = sample_candidates(args.run_dir, args.policy, args.out, _train_config(SampleConfig, args),
                          reference=args.reference)
    print(f"wrote {args.candidates} candidates for each of {n} turns to {args.out}")
    return 0


def cmd_train_rank(args: argparse.Namespace) -> int:
    from colbench.train.sample import rank_candidates

    n = rank_candidates(args.candidates, args.critic, args.out, pairs_per_turn=args.pairs_per_turn, beta=args.beta,
                        max_length=args.max_length, seed=args.seed)
    print(f"wrote {n} action pairs to {args.out}")
    return 0


def cmd_train_policy(args: argparse.Namespace) -> int:
    from colbench.train import policy

    if args.kind == "rft":
        rows = policy.train_rft(args.run_dir, args.model, args.out, _train_config(policy.SFTConfig, args),
                                min_score=args.min_score)
    else:
        train = policy.train_actor if args.kind == "actor" else policy.train_multiturn_dpo
        rows = train(args.pairs, args.model, args.out, _train_config(policy.DPOConfig, args))
    first, last = rows[0], rows[-1]
    extra = f", margin {first['margin']:.4f} -> {last['margin']:.4f}" if "margin" in last else ""
    if _main_process():
        print(f"{args.kind} checkpoint saved to {args.out}: {len(rows)} steps, "
              f"loss {first['loss']:.4f} -> {last['loss']:.4f}{extra}")
    return 0


def cmd_train_pipeline(args: argparse.Namespace) -> int:
    from colbench.train.pipeline import run_pipeline

    result = run_pipeline(args.config, progress=print)
    print(f"pipeline done: checkpoint {result['checkpoint']}")
    if result.get("eval"):
        ev = result["eval"]
        print(f"evaluation ({ev['run']}): score {_fmt_metric(ev['score'])}, success {_fmt_metric(ev['success'])}")
    return 0


def cmd_train_import(args: argparse.Namespace) -> int:
    from colbench.interop import import_sweet_rl

    n = import_sweet_rl(args.path, args.out, protocol=args.protocol)
    print(f"imported {n} trajectories into {args.out}")
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    from colbench.leaderboard import submit

    path, sub = submit(args.run_dir, name=args.name, root=args.dir, force=args.force)
    metrics = ", ".join(f"{k} {_fmt_metric(v)}" for k, v in sub["metrics"].items())
    print(f"submission {sub['name']} ({sub['split']}, {sub['tasks']['count']} tasks): {metrics}")
    print(f"written to {path}; run `colbench leaderboard build --dir {args.dir}` to update the leaderboard")
    return 0


def cmd_leaderboard_build(args: argparse.Namespace) -> int:
    from colbench.leaderboard import build_leaderboard

    result = build_leaderboard(args.dir)
    counts = ", ".join(f"{split}: {int((t['source'] == 'reproduced').sum())} entries" for split, t in result.tables.items())
    print(f"leaderboard built ({counts}): {result.readme}, {result.site}")
    return 0


def cmd_regress(args: argparse.Namespace) -> int:
    from colbench.regress import regress, render_markdown

    result = regress(args.baseline, args.candidate, metric=args.metric, max_drop=args.max_drop,
                     confidence=args.confidence, subset=args.subset)
    print(render_markdown(result), end="")
    return 1 if result.regressed else 0


def cmd_export(args: argparse.Namespace) -> int:
    if args.format == "parquet":
        from colbench.api import export_parquet

        print(f"wrote {export_parquet(args.run_dir, args.out)} episodes to {args.out}")
        return 0
    from colbench.interop import export_run

    n = export_run(args.run_dir, args.format, args.out)
    print(f"wrote {n} trajectories to {args.out}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from colbench.report import write_comparison, write_report

    if args.run_b is not None:
        print(f"comparison written to {write_comparison(args.run_dir, args.run_b, args.out)}")
        return 0
    print(f"report written to {write_report(args.run_dir, args.out)}")
    return 0


def _fmt_metric(m: dict) -> str:
    if m.get("mean") is None:
        return "-"
    lo, hi = m["ci95"]
    return f"{m['mean']:.3f} [{lo:.3f}, {hi:.3f}]"


def _eval_exit_status(summary: dict, max_error_rate: float) -> int:
    """1, with one sentence, when more episodes than allowed ended in an error (after the
    model calls' retries): a CI job then fails instead of passing on a partial run."""
    errors, episodes = summary.get("errors", 0), summary.get("episodes", 0)
    if not errors or errors / episodes <= max_error_rate:
        return 0
    allowed = f", more than --max-error-rate {max_error_rate:g} allows" if max_error_rate else ""
    print(f"colbench: {errors} of {episodes} episodes ended in an error{allowed}; run the same command with "
          "--resume to re-run them", file=sys.stderr)
    return 1


def _print_eval_table(summary: dict, out: str) -> None:
    from rich.table import Table
    table = Table(title=f"colbench eval ({summary['split']}, tasks: {summary['tasks']})")
    for col in ("agent", "human", "episodes", "errors", "score [95% CI]", "success [95% CI]"):
        # Names are never cut: in a narrow terminal they fold rather than end in an ellipsis.
        table.add_column(col, no_wrap=col in ("agent", "human"), overflow="fold")
    table.add_row(summary["agent"], summary["human"], str(summary["episodes"]), str(summary["errors"]),
                  _fmt_metric(summary["score"]), _fmt_metric(summary["success"]))
    _print_table(table)
    k = summary.get("samples_per_task", 1)
    extra = [(f"best-of-{k} {name}", summary[key]) for key, name in
             (("best_of_k_score", "score"), ("best_of_k_success", "success")) if key in summary]
    extra += [(key, m) for key, m in summary.items() if key.startswith("pass@")]
    if extra:
        print(f"{k} samples per task (intervals resample tasks): "
              + "; ".join(f"{name} {_fmt_metric(m)}" for name, m in extra))
    if "win_rate" in summary:
        w = summary["win_rate"]
        print(f"win rate against {w['baseline']} on {w['tasks']} shared tasks: {_fmt_metric(w)}")
    if summary.get("usage"):
        print("model usage: " + "; ".join(f"{role} {_fmt_usage(u)}" for role, u in summary["usage"].items()))
    print(f"run directory: {out}")


def _fmt_usage(usage: dict) -> str:
    """One role's usage totals in a few words: calls, tokens (prompt + completion), seconds, cost."""
    calls = usage.get("calls", 0)
    parts = [f"{calls} call{'s' if calls != 1 else ''}"]
    if "prompt_tokens" in usage or "completion_tokens" in usage:
        prompt, completion = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
        parts.append(f"{prompt + completion:,} tokens ({prompt:,} prompt + {completion:,} completion)")
    parts.append(f"{usage.get('seconds', 0.0):.1f} s")
    if "cost" in usage:
        cost = usage["cost"]
        parts.append(f"cost {cost:,.2f}" if cost >= 1 else f"cost {cost:.3g}")
    return ", ".join(parts)


def _print_table(table: Any) -> None:
    """A rich table on stdout; when stdout is no terminal (a CI log, a file) at its natural
    width, so no cell is wrapped or cut to fit a width that is not there."""
    from rich.measure import Measurement

    console = _console()
    if not console.is_terminal:
        natural = Measurement.get(console, console.options.update_width(10_000), table).maximum
        console.width = max(console.width, natural)
    console.print(table)


def _eval_progress():
    if not sys.stderr.isatty():  # a CI log or a file: plain lines, not a bar's redraws
        return None, _progress_lines()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    bar = Progress("episodes", BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                   TimeRemainingColumn(), transient=True)
    bar.start()
    task = bar.add_task("", total=None)

    def update(p) -> None:
        rate = p.successes / max(1, p.done - p.errors)
        bar.update(task, completed=p.done, total=p.total,
                   description=f"success {rate:.2f}" + (f", {p.errors} errors" if p.errors else ""))

    return bar, update


PROGRESS_EVERY_S = 60.0


def _progress_lines(every_s: float = PROGRESS_EVERY_S):
    """Progress as plain lines on stderr: one each time another tenth of the episodes is done
    or `every_s` seconds have passed since the last line, and one for the last episode."""
    import time

    last = {"at": time.monotonic(), "tenth": 0}

    def update(p) -> None:
        tenth, now = 10 * p.done // max(1, p.total), time.monotonic()
        if p.done < p.total and tenth <= last["tenth"] and now - last["at"] < every_s:
            return
        last.update(at=now, tenth=tenth)
        rate = p.successes / max(1, p.done - p.errors)
        print(f"colbench: {p.done}/{p.total} episodes, success {rate:.2f}, {p.errors} errors", file=sys.stderr,
              flush=True)

    return update


def _progress(label: str):
    if not sys.stderr.isatty():
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
    bar = Progress(label, BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
    bar.start()
    task = bar.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return update, bar


def cmd_sandbox_build(args: argparse.Namespace) -> int:
    from colbench.sandbox.docker_backend import build_sandbox_image

    tag, built = build_sandbox_image(mirror=args.mirror, force=args.force,
                                     announce=lambda msg: print(f"colbench: {msg}", file=sys.stderr))
    print(f"sandbox image {tag} {'built' if built else 'is up to date'}")
    return 0


def cmd_sandbox_status(args: argparse.Namespace) -> int:
    from colbench.sandbox.docker_backend import sandbox_status

    st = sandbox_status()
    print(f"engine: Docker {st.engine_version}, reachable")
    if not st.built:
        print(f"image: {st.wanted} not built (run `colbench sandbox build`)")
    else:
        print(f"image: {st.wanted}, {st.size_mb:.0f} MB, created {st.created}")
    print(f"sandbox containers running: {st.running}")
    return 0 if st.built else 1


def cmd_tasks_list(args: argparse.Namespace) -> int:
    from colbench.tasks import load_tasks

    ts = load_tasks(args.tasks, args.split)
    for t in ts.tasks:
        first = t.problem_description.strip().splitlines()[0]
        print(f"{t.task_id}\t{first[:100]}")
    print(f"{len(ts.tasks)} {args.split} tasks from {ts.path}", file=sys.stderr)
    return 0


def cmd_tasks_download(args: argparse.Namespace) -> int:
    from pathlib import Path

    from colbench.download import download_official

    splits = (args.split,) if args.split else ("backend", "frontend")
    files = download_official(Path(args.dest) if args.dest else None, splits=splits, offline_data=args.offline_data)
    print(f"{len(files)} official files in place")
    return 0


def cmd_tasks_show(args: argparse.Namespace) -> int:
    import json

    from colbench.tasks import load_tasks

    ts = load_tasks(args.tasks, args.split)
    task = ts.by_id().get(args.task_id)
    if task is None:
        raise ColbenchError(f"no task {args.task_id!r} in {ts.path}")
    print(json.dumps({"task_id": task.task_id, "problem_description": task.problem_description,
                      "ground_truth": task.ground_truth, "test_cases": task.test_cases}, indent=2))
    return 0


def _tolerant_output() -> None:
    """Text from models and task files can hold lone surrogates, which a strict UTF-8 stdout
    refuses: print them as escapes instead of failing after the work is done."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a closed or unusual stream: leave it as it is
                pass


def main(argv: Sequence[str] | None = None) -> int:
    _tolerant_output()
    parser = build_parser()
    debug = bool(os.environ.get("COLBENCH_DEBUG"))
    try:
        args = parser.parse_args(argv)
        # Our own messages at WARNING (INFO with -v); other libraries' only when they are errors.
        logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, format="%(name)s: %(message)s")
        ours = logging.getLogger("colbench")
        ours.setLevel(logging.INFO if args.verbose else logging.WARNING)
        for old in [h for h in ours.handlers if getattr(h, "_colbench_cli", False)]:
            ours.removeHandler(old)  # main() run again in one process (tests): one handler, today's stderr
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("colbench: %(message)s"))
        handler._colbench_cli = True  # type: ignore[attr-defined]
        ours.addHandler(handler)
        ours.propagate = False
        if not args.verbose:  # model loading and saving bars from transformers / huggingface_hub
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        return args.func(args)
    except ColbenchError as exc:
        if debug:
            raise
        print(f"colbench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("colbench: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # the file system said no (disk full, permissions, a path that changed under us)
        if debug:
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"colbench: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug of ours: still one sentence, with a way to see more
        if debug:
            raise
        print(f"colbench: internal error: {type(exc).__name__}: {exc} (set COLBENCH_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
