"""Training the policy (the agent): SWEET-RL's actor and the two baselines.

- `actor`: DPO with a small NLL term on per-turn action pairs (`colbench train rank`).
- `dpo` (multi-turn DPO baseline): the same loss on trajectory pairs (`colbench train prefs`);
  a trajectory's log-probability is the sum over its agent turns.
- `rft` (rejection fine-tuning baseline): SFT on the agent turns of successful trajectories.

Every agent turn is encoded exactly as evaluation prompts the model (the chat template, or
the plain transcript of a bare tokenizer: `colbench.llm.hf.render_prompt`), so what is
trained is what `colbench eval --agent hf:CHECKPOINT` runs. The completion is the agent's
raw message followed by the end-of-sequence token, so the model learns to stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from colbench.errors import ColbenchError
from colbench.protocol import agent_messages, agent_system_for, run_protocol
from colbench.train.common import TrainConfig, Training, load_jsonl, load_tokenizer, padded_token_logps


Sequence = tuple[list[int], list[int]]  # token ids, and 1 on the tokens that are trained
Example = list[Sequence]  # one sequence per agent turn


@dataclass
class DPOConfig(TrainConfig):
    beta: float = 0.1
    nll: float = 0.01


@dataclass
class SFTConfig(TrainConfig):
    batch_size: int = 32


def encode_action(tokenizer: Any, messages: list[dict[str, str]], completion: str, max_length: int) -> Sequence:
    """The prompt an agent sees, then its reply (trained), then end-of-sequence (trained)."""
    from colbench.llm.hf import render_prompt

    text, special = render_prompt(tokenizer, messages)
    prompt = tokenizer(text, add_special_tokens=special)["input_ids"]
    reply = tokenizer(completion, add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None:
        reply = reply + [tokenizer.eos_token_id]
    if len(prompt) + len(reply) > max_length:  # keep the reply and the latest context
        reply = reply[: max_length // 2]
        prompt = prompt[-(max_length - len(reply)):]
    return prompt + reply, [0] * len(prompt) + [1] * len(reply)


def trajectory_example(tokenizer: Any, split: str, problem: str, turns: list[dict[str, Any]],
                       max_length: int, protocol: str | None = None) -> Example:
    """Every agent turn of a trajectory, trained on the dialogue before it (as `protocol`
    shows it to the agent). With a chat template, one packed sequence: the conversation
    rendered once, every agent message and its end-of-turn marker trained; the same numbers
    as a sequence per turn (each turn's prompt is the rendering of the turns before it) at a
    fraction of the tokens. Earlier turns are then trained as the agent saw them afterwards
    (their counted part, as the released trainer), the last as written. A bare tokenizer
    gets a sequence per turn."""
    system = agent_system_for(protocol, split)
    agent = [i for i, t in enumerate(turns) if t["role"] == "agent"]
    if not agent:
        return []
    if getattr(tokenizer, "chat_template", None):
        from colbench.train.critic import encode_dialogue, last_turn_as_written

        try:
            ids, marks = encode_dialogue(tokenizer, "", problem, last_turn_as_written(turns), max_length, split=split,
                                         system=system)
            return [(ids, [1 if m else 0 for m in marks])]
        except ColbenchError:  # a template that rewrites earlier messages: a sequence per turn
            pass
    return [encode_action(tokenizer, agent_messages(split, problem, turns[:i], system),
                          turns[i].get("raw") or turns[i]["content"], max_length) for i in agent]


def example_logps(model: Any, examples: list[Example], pad_id: int) -> tuple[Any, Any]:
    """Summed log-probability of each example's trained tokens, and their count."""
    import torch

    from colbench.train.losses import sequence_logp

    flat = [seq for ex in examples for seq in ex]
    owner = torch.tensor([i for i, ex in enumerate(examples) for _ in ex])
    seq_sum, seq_count = sequence_logp(*padded_token_logps(model, flat, pad_id))
    owner = owner.to(seq_sum.device)
    total = torch.zeros(len(examples), dtype=seq_sum.dtype, device=seq_sum.device).index_add(0, owner, seq_sum)
    count = torch.zeros(len(examples), dtype=seq_sum.dtype, device=seq_sum.device).index_add(0, owner, seq_count)
    return total, count


def train_dpo(pairs: list[tuple[Example, Example]], base_model: str, out_dir: str | Path, cfg: DPOConfig,
              *, stage: str = "actor") -> list[dict[str, Any]]:
    """DPO with an NLL term; saves the checkpoint and `<stage>_log.jsonl` (loss, margin)."""
    import torch

    run = Training(base_model, cfg, len(pairs), out_dir, stage)
    pad = run.tokenizer.pad_token_id
    chosen, rejected = [c for c, _ in pairs], [r for _, r in pairs]
    both = chosen + rejected
    ref = run.frozen(len(both), lambda idx: example_logps(run.model, [both[i] for i in idx], pad)[0])
    ref_c, ref_r = ref[:len(chosen)], ref[len(chosen):]

    def step(idx: list[int]) -> tuple[Any, dict[str, Any]]:
        ids = torch.tensor(idx)
        loss, margin = dpo_pair_loss(run.model, [chosen[i] for i in idx], [rejected[i] for i in idx], ref_c[ids],
                                     ref_r[ids], pad, beta=cfg.beta, nll=cfg.nll)
        return loss, {"margin": margin}

    return run.fit(step)


def dpo_pair_loss(model: Any, chosen: list[Example], rejected: list[Example], ref_chosen: Any, ref_rejected: Any,
                  pad_id: int, *, beta: float, nll: float) -> tuple[Any, Any]:
    """DPO + NLL of k pairs in one forward batch; returns (loss, margin per pair)."""
    from colbench.train.losses import dpo_loss

    logps, counts = example_logps(model, chosen + rejected, pad_id)
    k = len(chosen)
    return dpo_loss(logps[:k], logps[k:], ref_chosen.to(logps.device), ref_rejected.to(logps.device), counts[:k],
                    beta=beta, nll=nll)


def train_sft(examples: list[Example], base_model: str, out_dir: str | Path, cfg: SFTConfig,
              *, stage: str = "rft") -> list[dict[str, Any]]:
    """Token-mean negative log-likelihood of the trained tokens; saves the checkpoint."""
    run = Training(base_model, cfg, len(examples), out_dir, stage)

    def step(idx: list[int]) -> tuple[Any, dict[str, Any]]:
        logps, counts = example_logps(run.model, [examples[i] for i in idx], run.tokenizer.pad_token_id)
        return -logps.sum() / counts.sum().clamp(min=1), {}

    return run.fit(step)


# The three commands: read the stage's JSONL, encode, train.

def train_actor(pairs_path: str | Path, base_model: str, out_dir: str | Path,
                cfg: DPOConfig | None = None) -> list[dict[str, Any]]:
    """SWEET-RL's actor: DPO on the per-turn action pairs of `colbench train rank`."""
    cfg = cfg or DPOConfig()
    rows = load_jsonl(pairs_path, "action pairs file")
    for n, row in enumerate(rows, 1):
        if not isinstance(row.get("chosen"), str) or "context" not in row:
            raise ColbenchError(f"{pairs_path} line {n} is not an action pair (context, chosen, rejected); "
                                "make them with `colbench train rank`")
    tok = load_tokenizer(base_model)
    pairs = []
    for row in rows:
        messages = agent_messages(row["split"], row["problem_description"], row["context"],
                                  agent_system_for(row.get("protocol"), row["split"]))
        pairs.append(([encode_action(tok, messages, row["chosen"], cfg.max_length)],
                      [encode_action(tok, messages, row["rejected"], cfg.max_length)]))
    return train_dpo(pairs, base_model, out_dir, cfg, stage="actor")


def train_multiturn_dpo(pairs_path: str | Path, base_model: str, out_dir: str | Path,
                        cfg: DPOConfig | None = None) -> list[dict[str, Any]]:
    """Baseline: DPO on whole trajectories (the pairs of `colbench train prefs`)."""
    cfg = cfg or DPOConfig()
    rows = load_jsonl(pairs_path, "trajectory pairs file")
    for n, row in enumerate(rows, 1):
        if not isinstance(row.get("chosen"), dict) or "turns" not in row["chosen"]:
            raise ColbenchError(f"{pairs_path} line {n} is not a trajectory pair; make them with `colbench train prefs`")
    tok = load_tokenizer(base_model)
    pairs = []
    for row in rows:
        c = trajectory_example(tok, row["split"], row["problem_description"], row["chosen"]["turns"], cfg.max_length,
                               row.get("protocol"))
        r = trajectory_example(tok, row["split"], row["problem_description"], row["rejected"]["turns"],
                               cfg.max_length, row.get("protocol"))
        if c and r:
            pairs.append((c, r))
    if not pairs:
        raise ColbenchError(f"{pairs_path} has no pair in which both trajectories have an agent turn")
    return train_dpo(pairs, base_model, out_dir, cfg, stage="dpo")


def successful_trajectories(run_dir: str | Path, *, min_score: float | None = None) -> list[dict[str, Any]]:
    """Backend: the episodes that passed every test; frontend: those scoring >= min_score."""
    from colbench.runs import RunDir

    run = RunDir.existing(run_dir)
    tasks = run.taskset().by_id()
    protocol = run_protocol(run.read_config())
    out = []
    for (task_id, _), r in sorted(run.latest().items()):
        if not r.ok or r.score is None or task_id not in tasks:
            continue
        good = r.success is True if min_score is None else r.score >= min_score
        if good:
            task = tasks[task_id]
            out.append({"split": task.split, "protocol": protocol, "problem_description": task.problem_description,
                        "turns": r.turns})
    return out


def train_rft(run_dir: str | Path, base_model: str, out_dir: str | Path, cfg: SFTConfig | None = None,
              *, min_score: float | None = None) -> list[dict[str, Any]]:
    """Baseline: rejection fine-tuning, SFT on the agent turns of successful trajectories."""
    cfg = cfg or SFTConfig()
    kept = successful_trajectories(run_dir, min_score=min_score)
    if not kept:
        raise ColbenchError(f"{run_dir} has no successful trajectory to fine-tune on"
                            + ("" if min_score is None else f" (score >= {min_score})"))
    tok = load_tokenizer(base_model)
    examples = [trajectory_example(tok, t["split"], t["problem_description"], t["turns"], cfg.max_length,
                                   t["protocol"]) for t in kept]
    examples = [e for e in examples if e]
    return train_sft(examples, base_model, out_dir, cfg, stage="rft")
