"""Stage 3 (sample) and stage 4 (rank) of SWEET-RL's actor data.

sample: for a seeded random fraction of the agent turns in a run, the policy writes N
candidate replies to the dialogue so far (the prompt evaluation would send); each candidate
gets the reference model's mean token log-probability, which the rank stage subtracts from
the critic's. By `rank_reference`:
- "policy" (the released scripts): the reference model (the policy by default) on the
  prompt the policy answered, without the reference solution: how likely the policy found
  its own reply;
- "critic_input": the reference model on the critic's input (the reference solution first),
  so that the difference is the critic's training alone.

rank: each candidate's advantage is beta x (critic mean log-probability - reference mean
log-probability) of its tokens; candidates are sorted by it, and N pairs per turn are drawn
with chosen from the top half and rejected from the bottom half (distinct texts only).
"""

from __future__ import annotations

import logging
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from colbench.errors import ColbenchError
from colbench.jsonl import read_appended, write_jsonl_atomic
from colbench.protocol import agent_messages, agent_system_for, run_protocol
from colbench.runs import EpisodeWriter, RunDir
from colbench.train.common import CRITIC_MAX_LENGTH, load_jsonl, task_with_reference

log = logging.getLogger(__name__)

RANK_REFERENCES = ("policy", "critic_input")


@dataclass
class SampleConfig:
    candidates: int = 16
    fraction: float = 0.1
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 1024  # the released scripts' candidates and data collection
    max_length: int = CRITIC_MAX_LENGTH  # of the critic's input, as the critic saw it
    rank_reference: str = "policy"  # or "critic_input"
    input_format: str = "chat"  # of the critic's input, for rank_reference "critic_input"
    engine: str = "auto"
    batch_size: int = 4
    seed: int = 0


def turn_contexts(run_dir: str | Path, fraction: float, seed: int) -> list[dict[str, Any]]:
    """A seeded random `fraction` (at least one) of the agent turns of a run's finished
    episodes, each with the dialogue before it and the task's reference solution."""
    run = RunDir.existing(run_dir)
    config = run.read_config()
    tasks = run.taskset().by_id()
    turns = []
    for (task_id, sample), r in sorted(run.latest().items()):
        if not r.ok:
            continue
        task = task_with_reference(tasks, task_id, run_dir, config)
        agent_turn = 0
        for i, t in enumerate(r.turns):
            if t["role"] == "agent":
                agent_turn += 1
                turns.append({"task_id": task_id, "sample": sample, "turn": agent_turn, "split": task.split,
                              "protocol": run_protocol(config),
                              "problem_description": task.problem_description, "reference": task.ground_truth,
                              "context": r.turns[:i]})
    if not turns:
        raise ColbenchError(f"{run_dir} has no finished episode with an agent turn")
    k = max(1, round(fraction * len(turns)))
    picked = sorted(random.Random(seed).sample(range(len(turns)), k))
    return [turns[i] for i in picked]


def sample_candidates(run_dir: str | Path, policy: str, out: str | Path, cfg: SampleConfig | None = None, *,
                      reference: str | None = None) -> int:
    """Writes the candidates JSONL; returns how many turns it covers. The reference model
    defaults to the policy (the critic's starting checkpoint in SWEET-RL)."""

    from colbench.train.common import scoring_model
    from colbench.train.critic import candidate_mean_logps
    from colbench.train.generate import make_generator

    cfg = cfg or SampleConfig()
    if cfg.rank_reference not in RANK_REFERENCES:
        raise ColbenchError(f"unknown ranking reference {cfg.rank_reference!r}; use {' or '.join(RANK_REFERENCES)}")
    if not 0 < cfg.fraction <= 1:
        raise ColbenchError(f"the data fraction must be in (0, 1], not {cfg.fraction}")
    contexts = turn_contexts(run_dir, cfg.fraction, cfg.seed)
    # Generation is the long part: each chunk's candidates are appended to OUT.partial as
    # they come, and a re-run with the same settings continues after the last finished chunk.
    out = Path(out)
    partial = out.with_name(out.name + ".partial")
    settings = {"run": str(run_dir), "policy": policy, **asdict(cfg)}
    done = read_appended(partial, repair=True)
    if done and done[0].get("settings") != settings:
        partial.unlink()  # another configuration's candidates: start over
        done = []
    generated = {(r["task_id"], r["sample"], r["turn"]): r["texts"] for r in done[1:]}
    todo = [c for c in contexts if (c["task_id"], c["sample"], c["turn"]) not in generated]
    if todo:
        writer = EpisodeWriter(partial)
        try:
            if not done:
                writer.append({"settings": settings})
            gen = make_generator(policy, cfg.engine, seed=cfg.seed, batch_size=cfg.batch_size)
            log.info("sampling %d candidates for %d turns (%d already done)", cfg.candidates, len(contexts),
                     len(contexts) - len(todo))
            size = max(1, cfg.batch_size) * 8
            for start in range(0, len(todo), size):
                part = todo[start:start + size]
                texts = gen.generate([agent_messages(c["split"], c["problem_description"], c["context"],
                                                     agent_system_for(c["protocol"], c["split"])) for c in part],
                                     n=cfg.candidates, temperature=cfg.temperature, top_p=cfg.top_p,
                                     max_new_tokens=cfg.max_new_tokens, seed=cfg.seed + 1009 * start)
                for c, ts in zip(part, texts):
                    writer.append({"task_id": c["task_id"], "sample": c["sample"], "turn": c["turn"], "texts": ts})
                    generated[(c["task_id"], c["sample"], c["turn"])] = ts
            gen.close()
        finally:
            writer.close()
    ref_model, tokenizer = scoring_model(reference or policy)
    texts = [generated[(c["task_id"], c["sample"], c["turn"])] for c in contexts]
    flat = [{**c, "text": t} for c, ts in zip(contexts, texts) for t in ts]
    if cfg.rank_reference == "policy":
        ref = prompt_mean_logps(ref_model, tokenizer, flat, max_length=cfg.max_length, batch_size=cfg.batch_size)
    else:
        ref = candidate_mean_logps(ref_model, tokenizer, flat, max_length=cfg.max_length,
                                   input_format=cfg.input_format, batch_size=cfg.batch_size)
    rows, k = [], 0
    for c, ts in zip(contexts, texts):
        rows.append({**c, "candidates": [{"text": t, "ref_mean_logp": ref[k + j]} for j, t in enumerate(ts)]})
        k += len(ts)
    write_jsonl_atomic(out, rows)
    partial.unlink(missing_ok=True)
    return len(rows)


def prompt_mean_logps(model: Any, tokenizer: Any, rows: list[dict[str, Any]], *, max_length: int,
                      batch_size: int) -> list[float]:
    """Mean token log-probability of each candidate reply (and end-of-sequence) on the
    prompt the policy answered: no reference solution."""
    import torch

    from colbench.train.common import chunks
    from colbench.train.policy import encode_action, example_logps

    seqs = [encode_action(tokenizer, agent_messages(r["split"], r["problem_description"], r["context"],
                                                    agent_system_for(r["protocol"], r["split"])), r["text"],
                          max_length) for r in rows]
    out: list[float] = []
    with torch.no_grad():
        for part in chunks(seqs, batch_size):
            total, count = example_logps(model, [[seq] for seq in part], tokenizer.pad_token_id)
            out += (total / count.clamp(min=1)).tolist()
    return out


def pick_pairs(scored: list[tuple[float, str]], n: int, rng: random.Random) -> list[tuple[tuple[float, str], ...]]:
    """n distinct (chosen, rejected) pairs of (advantage, text): chosen from the top half by
    advantage, rejected from the bottom half, never two equal texts or equal advantages."""
    ranked = sorted(scored, key=lambda s: -s[0])
    half = len(ranked) // 2
    options = [(a, b) for a in ranked[:half] for b in ranked[len(ranked) - half:] if a[0] > b[0] and a[1] != b[1]]
    return rng.sample(options, min(n, len(options)))


def load_candidates(path: str | Path) -> list[dict[str, Any]]:
    """The sampled turns of `colbench train sample`, each with its candidates."""
    rows = load_jsonl(path, "candidates file")
    for n, r in enumerate(rows, 1):
        if not isinstance(r.get("candidates"), list) or not r.get("reference"):
            raise ColbenchError(f"{path} line {n} is not a sampled turn with its reference solution; "
                                "make the file with `colbench train sample`")
    return rows


def critic_candidate_logps(rows: list[dict[str, Any]], critic: str, *, max_length: int = CRITIC_MAX_LENGTH,
                           batch_size: int = 8, part: tuple[int, int] = (0, 1)) -> list[float]:
    """The critic's mean log-probability of each candidate of `rows` (`load_candidates`), in
    order, on its input as it was trained (its checkpoint records how, and its budget).
    `part` (k, n): only the k-th of n contiguous shares, for n processes to score one file."""
    from colbench.train.common import scoring_model, share
    from colbench.train.critic import candidate_mean_logps, critic_settings

    flat = [{**r, "text": c["text"]} for r in rows for c in r["candidates"]]
    mine = [flat[i] for i in share(len(flat), *part)]
    if not mine:
        return []
    model, tokenizer = scoring_model(critic)
    settings = critic_settings(critic)
    return candidate_mean_logps(model, tokenizer, mine, max_length=settings.get("max_length", max_length),
                                batch_size=batch_size, input_format=settings["input_format"])


def rank_candidates(candidates_path: str | Path, critic: str, out: str | Path, *, pairs_per_turn: int = 4,
                    beta: float = 0.1, max_length: int = CRITIC_MAX_LENGTH, batch_size: int = 8,
                    seed: int = 0, critic_logps: list[float] | None = None) -> int:
    """Writes the action pairs JSONL; returns how many pairs. `critic_logps`: the critic's
    scores of the candidates when already computed (by several processes)."""
    rows = load_candidates(candidates_path)
    if critic_logps is None:
        critic_logps = critic_candidate_logps(rows, critic, max_length=max_length, batch_size=batch_size)
    if len(critic_logps) != sum(len(r["candidates"]) for r in rows):
        raise ColbenchError(f"{candidates_path} changed while its candidates were being scored")
    rng = random.Random(seed)
    pairs, k = [], 0
    for r in rows:
        scored = []
        for c in r["candidates"]:
            scored.append((beta * (critic_logps[k] - c["ref_mean_logp"]), c["text"]))
            k += 1
        for chosen, rejected in pick_pairs(scored, pairs_per_turn, rng):
            pairs.append({"task_id": r["task_id"], "sample": r["sample"], "turn": r["turn"], "split": r["split"],
                          "protocol": r.get("protocol", "colbench"),
                          "problem_description": r["problem_description"], "context": r["context"],
                          "chosen": chosen[1], "rejected": rejected[1],
                          "chosen_advantage": chosen[0], "rejected_advantage": rejected[0]})
    if not pairs:
        raise ColbenchError(f"no action pairs: the candidates in {candidates_path} were all alike to the critic")
    write_jsonl_atomic(out, pairs)
    return len(pairs)
