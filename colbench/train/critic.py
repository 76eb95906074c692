"""Stage 2: the SWEET-RL critic, trained with Bradley-Terry over trajectory pairs.

The critic is a causal LM initialised from a base model; the base is the frozen reference
(its log-probabilities are computed once, before training). A trajectory's text carries the
reference solution first (training-time information), then the dialogue, by `input_format`:
- "chat" (the released trainer): the dialogue as the agent saw it, rendered with the model's
  chat template: the agent's system prompt (the protocol's), the user's request, then agent
  turns as assistant messages and human turns as user messages; an agent turn's tokens are
  its message and the template's end-of-turn marker. A tokenizer without a chat template
  gets the plain transcript;
- "plain": a plain transcript ("user: ...", "assistant: ...").
A trajectory over max_length tokens loses its middle, never the reference (up to half the
budget) or its latest turns. The loss is -log sigmoid(score_chosen - score_rejected), with
the score chosen by `score` (see colbench.train.losses: one token-weighted mean of the
log-ratio critic / reference over all agent tokens, as the released trainer, or the sum of
per-turn means, as the paper's text). Each agent turn's advantage is beta x that turn's mean
log-ratio.

Reads the pairs JSONL of `colbench train prefs`; writes a Hugging Face checkpoint (model and
tokenizer), `critic_log.jsonl` (the loss of every step), `critic_inputs.json` (input lengths)
and `colbench_critic.json` (how inputs were rendered, which ranking must repeat).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from colbench.errors import ColbenchError
from colbench.protocol import agent_messages, agent_system_for
from colbench.train.common import (CRITIC_MAX_LENGTH, TrainConfig, Training, chunks, load_jsonl, load_model,
                                   padded_token_logps)
from colbench.train.losses import CRITIC_SCORES

log = logging.getLogger(__name__)

CRITIC_PREFIX = "In light that the final answer is: {reference}."
INPUT_FORMATS = ("chat", "plain")
SETTINGS_FILE = "colbench_critic.json"


@dataclass
class CriticConfig(TrainConfig):
    beta: float = 0.1
    epochs: int = 4
    max_length: int = CRITIC_MAX_LENGTH
    score: str = "token_mean"  # or "turn_means" (the paper's text)
    input_format: str = "chat"  # or "plain"


def check_critic_settings(score: str, input_format: str) -> None:
    if score not in CRITIC_SCORES:
        raise ColbenchError(f"unknown critic score {score!r}; use {' or '.join(CRITIC_SCORES)}")
    if input_format not in INPUT_FORMATS:
        raise ColbenchError(f"unknown critic input format {input_format!r}; use {' or '.join(INPUT_FORMATS)}")


def critic_settings(path: str | Path) -> dict[str, Any]:
    """How a critic checkpoint renders its input (critics from before this record: plain)."""
    file = Path(path) / SETTINGS_FILE
    settings = {"input_format": "plain", "score": "turn_means"}
    if file.is_file():
        settings.update(json.loads(file.read_text(encoding="utf-8")))
    return settings


def _renders_chat(tokenizer: Any, input_format: str) -> bool:
    """Whether the input is the chat template's rendering (a bare tokenizer has none)."""
    return input_format == "chat" and bool(getattr(tokenizer, "chat_template", None))


def _plain_segments(problem: str, turns: list[dict[str, Any]]) -> list[tuple[str, int]]:
    segments = [("\nuser: " + problem + "\n", 0)]
    agent_turn = 0
    for t in turns:
        if t["role"] == "agent":
            agent_turn += 1
            segments.append(("assistant: " + t["content"] + "\n", agent_turn))
        else:
            segments.append(("user: " + t["content"] + "\n", 0))
    return segments


def _chat_segments(tokenizer: Any, problem: str, turns: list[dict[str, Any]], split: str,
                   system: str | None) -> list[tuple[str, int]]:
    """The chat-template rendering cut at the edges of each agent turn (its message and the
    template's end-of-turn marker), found by rendering the conversation one message longer
    at a time."""
    messages = agent_messages(split, problem, turns, system)

    def render(upto: int, generation: bool) -> str:
        return tokenizer.apply_chat_template(messages[:upto], tokenize=False, add_generation_prompt=generation)

    segments: list[tuple[str, int]] = []
    done, agent_turn = "", 0
    for k, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        agent_turn += 1
        before, after = render(k, True), render(k + 1, False)
        if not (before.startswith(done) and after.startswith(before)):
            raise ColbenchError("the model's chat template does not render a conversation as the one before it "
                                "plus the new message; train the critic with --critic-input plain")
        segments += [(before[len(done):], 0), (after[len(before):], agent_turn)]
        done = after
    full = render(len(messages), False)
    if not full.startswith(done):
        raise ColbenchError("the model's chat template renders a conversation's end differently; "
                            "train the critic with --critic-input plain")
    return segments + [(full[len(done):], 0)]


def _tokenize_segments(tokenizer: Any, segments: list[tuple[str, int]]) -> tuple[list[int], list[int]]:
    """Token ids of the segments' text, each token marked with its segment's turn. A fast
    tokenizer reads the text whole (as the model would), tokens placed by character offsets;
    a slow one reads segment by segment."""
    text = "".join(t for t, _ in segments)
    if getattr(tokenizer, "is_fast", False):
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        bounds, pos = [], 0
        for piece, turn in segments:
            bounds.append((pos, pos + len(piece), turn))
            pos += len(piece)
        marks, k = [], 0
        for start, end in enc["offset_mapping"]:
            if end == start and start > 0:  # offsets trimmed to nothing: placed by the character before
                start -= 1
            while k < len(bounds) - 1 and start >= bounds[k][1]:
                k += 1
            marks.append(bounds[k][2])
        return list(enc["input_ids"]), marks
    ids: list[int] = []
    marks = []
    for piece, turn in segments:
        got = tokenizer(piece, add_special_tokens=False)["input_ids"]
        ids += got
        marks += [turn] * len(got)
    return ids, marks


def encode_dialogue(tokenizer: Any, head: str, problem: str, turns: list[dict[str, Any]], max_length: int,
                    lengths: list[int] | None = None, *, split: str = "backend", system: str | None = None,
                    input_format: str = "chat") -> tuple[list[int], list[int]]:
    """Token ids of `head` then the dialogue (the chat template, or a plain transcript), and
    each token's agent-turn number (0: not agent). Over max_length tokens the middle goes:
    the head and the request (at most half the budget) and the latest turns stay. `lengths`,
    when given, gets the length before any cut."""
    if _renders_chat(tokenizer, input_format):
        segments = [(head, 0)] + _chat_segments(tokenizer, problem, turns, split, system)
    else:
        segments = [(head, 0)] + _plain_segments(problem, turns)
    ids, turn_ids = _tokenize_segments(tokenizer, segments)
    first = next((i for i, t in enumerate(turn_ids) if t), len(ids))  # everything before the first agent token
    if lengths is not None:
        lengths.append(len(ids))
    if len(ids) > max_length:
        first = min(first, max_length // 2)
        tail = max_length - first
        ids, turn_ids = ids[:first] + ids[-tail:], turn_ids[:first] + turn_ids[-tail:]
    return ids, turn_ids


def encode_trajectory(tokenizer: Any, reference: str, problem: str, turns: list[dict[str, Any]],
                      max_length: int, lengths: list[int] | None = None, *, split: str = "backend",
                      system: str | None = None, input_format: str = "chat") -> tuple[list[int], list[int]]:
    """The critic's input: the reference solution first (what the critic exists to see, kept
    when the input is cut), then the dialogue; `system` is the agent's system prompt (None:
    ours for the split)."""
    return encode_dialogue(tokenizer, CRITIC_PREFIX.format(reference=reference), problem, turns, max_length, lengths,
                           split=split, system=system, input_format=input_format)


def last_turn_as_written(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A dialogue as the released trainer reads a trajectory: up to its last agent turn, that
    turn as the agent wrote it (`raw`), the earlier ones as the agent saw them afterwards
    (their counted part)."""
    last = max((i for i, t in enumerate(turns) if t["role"] == "agent"), default=None)
    if last is None:
        return list(turns)
    kept = list(turns[: last + 1])
    kept[-1] = dict(kept[-1], content=kept[-1].get("raw") or kept[-1]["content"])
    return kept


def encode_row(tokenizer: Any, row: dict[str, Any], turns: list[dict[str, Any]], max_length: int,
               input_format: str, lengths: list[int] | None = None) -> tuple[list[int], list[int]]:
    """The critic's input for a pairs or candidates row (reference, problem_description, and
    split and protocol when the row has them) with these turns (`last_turn_as_written`)."""
    turns = last_turn_as_written(turns)
    split = row.get("split", "backend")
    system = agent_system_for(row.get("protocol"), split) if _renders_chat(tokenizer, input_format) else None
    return encode_trajectory(tokenizer, row["reference"], row["problem_description"], turns, max_length, lengths,
                             split=split, system=system, input_format=input_format)


def record_lengths(path: Path, lengths: list[int], max_length: int, write: bool) -> dict[str, Any]:
    """How long the critic's inputs were and how many lost their middle: written beside the
    checkpoint and logged, since a cut input ranks on less than the whole dialogue."""
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


def turn_logp_sums(model: Any, sequences: list[tuple[list[int], list[int]]], pad_id: int,
                   n_turns: int) -> tuple[Any, Any]:
    """(B, n_turns) summed token log-probability of each agent turn, and its token count."""
    from colbench.train.losses import turn_sums

    logps, marks = padded_token_logps(model, sequences, pad_id)
    return turn_sums(logps, marks, n_turns)


def train_critic(pairs_path: str | Path, base_model: str, out_dir: str | Path,
                 cfg: CriticConfig | None = None) -> list[float]:
    """Trains and saves the critic; returns the per-step losses."""
    import torch

    cfg = cfg or CriticConfig()
    check_critic_settings(cfg.score, cfg.input_format)
    pairs = load_pairs(pairs_path)
    run = Training(base_model, cfg, len(pairs), out_dir, "critic")
    tok, pad = run.tokenizer, run.tokenizer.pad_token_id
    lengths: list[int] = []
    encoded = [tuple(encode_row(tok, p, p[side]["turns"], cfg.max_length, cfg.input_format, lengths)
                     for side in ("chosen", "rejected")) for p in pairs]
    main = run.accelerator.is_main_process
    record_lengths(run.out / "critic_inputs.json", lengths, cfg.max_length, main)
    if main:
        (run.out / SETTINGS_FILE).write_text(json.dumps({"input_format": cfg.input_format, "score": cfg.score,
                                                         "beta": cfg.beta, "max_length": cfg.max_length}) + "\n")
    n_turns = max(max(c[1] + r[1]) for c, r in encoded) or 1
    flat = [seq for pair in encoded for seq in pair]  # chosen, rejected, chosen, ...
    # The reference: the base model's per-turn sums, before any update.
    ref = run.frozen(len(flat), lambda idx: turn_logp_sums(run.model, [flat[i] for i in idx], pad, n_turns)[0])

    def step(idx: list[int]) -> tuple[Any, dict[str, Any]]:
        rows = torch.tensor([2 * i for i in idx] + [2 * i + 1 for i in idx])
        return critic_pair_loss(run.model, [encoded[i][0] for i in idx] + [encoded[i][1] for i in idx], ref[rows],
                                pad, n_turns, cfg.beta, cfg.score), {}

    return [r["loss"] for r in run.fit(step)]


def critic_pair_loss(model: Any, sequences: list[tuple[list[int], list[int]]], ref_sums: Any, pad_id: int,
                     n_turns: int, beta: float, score: str = "token_mean") -> Any:
    """Bradley-Terry loss of k pairs: `sequences` are the k chosen then the k rejected
    trajectories, `ref_sums` (2k, n_turns) the reference's per-turn log-probability sums."""
    from colbench.train.losses import bradley_terry_loss, trajectory_scores

    sums, counts = turn_logp_sums(model, sequences, pad_id, n_turns)
    scores = trajectory_scores(sums, ref_sums.to(sums.device), counts, beta=beta, score=score)
    k = len(sequences) // 2
    return bradley_terry_loss(scores[:k], scores[k:])


def turn_advantages_of(model: Any, tokenizer: Any, reference_model: Any, rows: list[dict[str, Any]], *,
                       beta: float = 0.1, max_length: int = CRITIC_MAX_LENGTH, input_format: str = "chat",
                       batch_size: int = 8) -> list[list[float]]:
    """Per-turn advantages (beta x mean log-ratio critic / reference) of whole trajectories:
    rows carry reference, problem_description and turns (and split and protocol)."""
    import torch

    from colbench.train.losses import turn_means

    seqs = [encode_row(tokenizer, r, r["turns"], max_length, input_format) for r in rows]
    out = []
    with torch.no_grad():
        for part in chunks(seqs, batch_size):
            n_turns = max(max(m) for _, m in part) or 1
            sums, counts = turn_logp_sums(model, part, tokenizer.pad_token_id, n_turns)
            ref_sums, _ = turn_logp_sums(reference_model, part, tokenizer.pad_token_id, n_turns)
            for seq, d in zip(part, turn_means(sums - ref_sums, counts)[0].tolist()):
                out.append([beta * v for v in d[: max(seq[1])]])
    return out


def candidate_mean_logps(model: Any, tokenizer: Any, rows: list[dict[str, Any]], *,
                         max_length: int = CRITIC_MAX_LENGTH, input_format: str = "chat",
                         batch_size: int = 8) -> list[float]:
    """Mean token log-probability, under the critic's input (reference solution first), of a
    candidate agent reply after its context: rows carry reference, problem_description,
    context (the turns before) and text (the reply as the policy wrote it, scored whole)."""
    import torch

    from colbench.train.losses import turn_means

    # The candidate as the policy wrote it, as the released ranking scores it (and as the
    # ranking reference scores it).
    seqs = [encode_row(tokenizer, r, r["context"] + [{"role": "agent", "content": r["text"]}], max_length, input_format)
            for r in rows]
    out: list[float] = []
    with torch.no_grad():
        for part in chunks(seqs, batch_size):
            n_turns = max(max(m) for _, m in part)
            means, _ = turn_means(*turn_logp_sums(model, part, tokenizer.pad_token_id, n_turns))
            out += [means[i, max(seq[1]) - 1].item() for i, seq in enumerate(part)]
    return out


__all__ = ["CRITIC_PREFIX", "CriticConfig", "candidate_mean_logps", "critic_settings", "encode_trajectory",
           "load_model", "load_pairs", "train_critic", "turn_advantages_of"]
