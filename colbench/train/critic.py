"""Stage 2: the SWEET-RL critic, trained with Bradley-Terry over trajectory pairs.

The critic is a causal LM initialised from a base model; the base is the frozen reference
(its log-probabilities are computed once, before training). A trajectory's text carries the
reference solution first (training-time information), then the user's request and the
dialogue; a trajectory over max_length tokens loses its middle, never the reference (up to
half the budget) or its latest turns. Each agent turn's advantage is beta x the mean token
log-ratio critic / reference over that turn's tokens; a trajectory's score is their sum; the loss is
-log sigmoid(score_chosen - score_rejected).

Reads the pairs JSONL of `colbench train prefs`; writes a Hugging Face checkpoint (model and
tokenizer) and `critic_log.jsonl` (the loss of every step).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from colbench.errors import ColbenchError
from colbench.protocol import read_agent_message
from colbench.train.common import (CRITIC_MAX_LENGTH, TrainConfig, Training, chunks, load_jsonl, load_model,
                                   padded_token_logps)

log = logging.getLogger(__name__)

CRITIC_PREFIX = "In light that the final answer is: {reference}."


@dataclass
class CriticConfig(TrainConfig):
    beta: float = 0.1
    epochs: int = 4
    max_length: int = CRITIC_MAX_LENGTH


def encode_trajectory(tokenizer: Any, reference: str, problem: str, turns: list[dict[str, Any]],
                      max_length: int, lengths: list[int] | None = None) -> tuple[list[int], list[int]]:
    """Token ids of the critic's input, and each token's agent-turn number (0: not agent).
    `lengths`, when given, gets the input's length before any cut."""
    ids: list[int] = []
    turn_ids: list[int] = []
    segments = [(CRITIC_PREFIX.format(reference=reference) + "\nuser: " + problem + "\n", 0)]
    agent_turn = 0
    for t in turns:
        if t["role"] == "agent":
            agent_turn += 1
            segments.append(("assistant: " + t["content"] + "\n", agent_turn))
        else:
            segments.append(("user: " + t["content"] + "\n", 0))
    head = 0  # tokens of the reference solution and the request
    for text, turn in segments:
        piece = tokenizer(text, add_special_tokens=False)["input_ids"]
        ids += piece
        turn_ids += [turn] * len(piece)
        head = head or len(ids)
    if lengths is not None:
        lengths.append(len(ids))
    if len(ids) > max_length:
        # Cut the middle: the reference solution and the request (what the critic exists to
        # see; at most half the budget) and the latest turns (the one being scored last).
        head = min(head, max_length // 2)
        tail = max_length - head
        ids, turn_ids = ids[:head] + ids[-tail:], turn_ids[:head] + turn_ids[-tail:]
    return ids, turn_ids


def record_lengths(path: Path, lengths: list[int], max_length: int, write: bool) -> dict[str, Any]:
    """How long the critic's inputs were and how many lost their middle: written beside the
    checkpoint and logged, since a cut input ranks on less than the whole dialogue."""
    import json

    cut = sum(n > max_length for n in lengths)
    summary = {"max_length": max_length, "inputs": len(lengths), "cut": cut,
               "longest": max(lengths, default=0), "median": sorted(lengths)[len(lengths) // 2] if lengths else 0}
    if cut:
        log.warning("%d of %d critic inputs were longer than max_length %d (the longest %d tokens): their middle "
                    "turns were left out", cut, len(lengths), max_length, summary["longest"])
    if write:
        path.write_text(json.dumps(summary) + "\n", encoding="utf-8")
    return summary


def load_pairs(path: str | Path) -> list[dict[str, Any]]:
    pairs = load_jsonl(path, "pairs file")
    for n, p in enumerate(pairs, 1):
        if not isinstance(p.get("chosen"), dict) or not isinstance(p.get("rejected"), dict):
            raise ColbenchError(f"{path} line {n} is not a trajectory pair; make pairs with `colbench train prefs`")
        if not p.get("reference"):
            raise ColbenchError(f"{path}: pair {n} has no reference solution; make pairs with `colbench train prefs`")
    return pairs


def turn_mean_logps(model: Any, sequences: list[tuple[list[int], list[int]]], pad_id: int, n_turns: int) -> Any:
    """(B, n_turns) mean token log-probability of each agent turn."""
    from colbench.train.losses import turn_means

    logps, marks = padded_token_logps(model, sequences, pad_id)
    return turn_means(logps, marks, n_turns)[0]


def train_critic(pairs_path: str | Path, base_model: str, out_dir: str | Path,
                 cfg: CriticConfig | None = None) -> list[float]:
    """Trains and saves the critic; returns the per-step losses."""
    import torch

    cfg = cfg or CriticConfig()
    pairs = load_pairs(pairs_path)
    run = Training(base_model, cfg, len(pairs), out_dir, "critic")
    tok, pad = run.tokenizer, run.tokenizer.pad_token_id
    lengths: list[int] = []
    encoded = [(encode_trajectory(tok, p["reference"], p["problem_description"], p["chosen"]["turns"], cfg.max_length,
                                  lengths),
                encode_trajectory(tok, p["reference"], p["problem_description"], p["rejected"]["turns"],
                                  cfg.max_length, lengths)) for p in pairs]
    record_lengths(run.out / "critic_inputs.json", lengths, cfg.max_length, run.accelerator.is_main_process)
    n_turns = max(max(c[1] + r[1]) for c, r in encoded) or 1
    flat = [seq for pair in encoded for seq in pair]  # chosen, rejected, chosen, ...
    # The reference: the base model's per-turn means, before any update.
    ref = run.frozen(lambda: torch.cat([turn_mean_logps(run.model, part, pad, n_turns) for part in chunks(flat, 2 * run.micro)]))

    def step(idx: list[int]) -> tuple[Any, dict[str, Any]]:
        rows = torch.tensor([2 * i for i in idx] + [2 * i + 1 for i in idx])
        return critic_pair_loss(run.model, [encoded[i][0] for i in idx] + [encoded[i][1] for i in idx], ref[rows],
                                pad, n_turns, cfg.beta), {}

    return [r["loss"] for r in run.fit(step)]


def critic_pair_loss(model: Any, sequences: list[tuple[list[int], list[int]]], ref_means: Any, pad_id: int,
                     n_turns: int, beta: float) -> Any:
    """Bradley-Terry loss of k pairs: `sequences` are the k chosen then the k rejected
    trajectories, `ref_means` (2k, n_turns) the reference's per-turn means for them."""
    from colbench.train.losses import bradley_terry_loss

    means = turn_mean_logps(model, sequences, pad_id, n_turns)
    adv = beta * (means - ref_means.to(means.device))  # absent turns: 0 - 0
    k = len(sequences) // 2
    return bradley_terry_loss(adv[:k], adv[k:])


def turn_advantages_of(model: Any, tokenizer: Any, reference_model: Any, rows: list[dict[str, Any]], *,
                       beta: float = 0.1, max_length: int = CRITIC_MAX_LENGTH,
                       batch_size: int = 8) -> list[list[float]]:
    """Per-turn advantages (beta x mean log-ratio critic / reference) of whole trajectories:
    rows carry reference, problem_description and turns."""
    import torch

    seqs = [encode_trajectory(tokenizer, r["reference"], r["problem_description"], r["turns"], max_length)
            for r in rows]
    out = []
    with torch.no_grad():
        for part in chunks(seqs, batch_size):
            n_turns = max(max(m) for _, m in part) or 1
            diff = turn_mean_logps(model, part, tokenizer.pad_token_id, n_turns) - \
                turn_mean_logps(reference_model, part, tokenizer.pad_token_id, n_turns)
            for seq, d in zip(part, diff.tolist()):
                out.append([beta * v for v in d[: max(seq[1])]])
    return out


def candidate_mean_logps(model: Any, tokenizer: Any, rows: list[dict[str, Any]], *,
                         max_length: int = CRITIC_MAX_LENGTH, batch_size: int = 8) -> list[float]:
    """Mean token log-probability, under the critic's input (reference solution first), of a
    candidate agent reply after its context: rows carry reference, problem_description,
    context (the turns before) and text (the reply as the policy wrote it)."""
    import torch

    seqs = []
    for r in rows:
        turn = {"role": "agent", "content": read_agent_message(r["text"]).content}
        seqs.append(encode_trajectory(tokenizer, r["reference"], r["problem_description"], r["context"] + [turn],
                                      max_length))
    out: list[float] = []
    with torch.no_grad():
        for part in chunks(seqs, batch_size):
            n_turns = max(max(m) for _, m in part)
            means = turn_mean_logps(model, part, tokenizer.pad_token_id, n_turns)
            out += [means[i, max(seq[1]) - 1].item() for i, seq in enumerate(part)]
    return out


__all__ = ["CRITIC_PREFIX", "CriticConfig", "candidate_mean_logps", "encode_trajectory", "load_model", "load_pairs",
           "train_critic", "turn_advantages_of"]
