"""The SWEET-RL losses, on token log-probabilities.

Shapes: B sequences, T tokens. `turn_ids` (B, T) marks each token with the 1-based index of
the agent turn it belongs to, and 0 for every other token (system prompt, the user's
request, human replies, padding): only agent tokens carry credit.

- Critic (Bradley-Terry over trajectory pairs): loss = -log sigmoid(s_chosen - s_rejected),
  where a trajectory's score s is, by `score`:
  - "token_mean" (the released trainer, which produced the paper's Table 2): beta x the mean
    of log p_critic - log p_reference over all agent tokens of the trajectory (a long turn
    weighs more);
  - "turn_means" (the paper's text): the sum over agent turns of the per-turn advantage,
    beta x the mean of that log-ratio over the turn's tokens.
  Either way the per-turn advantage used to inspect credit is the per-turn mean.
- Actor (DPO on per-turn action pairs, with a small NLL term): with pi and ref the summed
  log-probabilities of an action's tokens under the policy and the frozen reference,
  loss = -log sigmoid(beta x ((pi_c - ref_c) - (pi_r - ref_r))) + nll x (-pi_c / len_c).
"""

from __future__ import annotations

from typing import Any, Iterator

import torch
import torch.nn.functional as F


# Positions per piece when token_logps works through the vocabulary in fp32.
LOGP_CHUNK = 1024


class _TokenLogps(torch.autograd.Function):
    """log_softmax(logits)[label] in fp32, a piece of the positions at a time, keeping only
    the logits (as they came: bf16 under autocast) and one log-sum-exp per position for the
    backward pass. The plain formula keeps an fp32 copy of the logits and of their
    log-softmax (B x T x V each: 17 GB apiece for two 16k-token sequences of a 128k
    vocabulary); the gradient is the same: g x (onehot(label) - softmax). Works on views
    (the trainers pass logits[:, :-1]) without copying them."""

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        lse = torch.empty(labels.shape, dtype=torch.float32, device=logits.device)
        picked = torch.empty_like(lse)
        for b, s, e in _pieces(labels.shape):
            part = logits[b, s:e].float()
            lse[b, s:e] = torch.logsumexp(part, dim=-1)
            picked[b, s:e] = part.gather(1, labels[b, s:e, None]).squeeze(1)
        ctx.save_for_backward(logits, labels, lse)
        return picked - lse

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        logits, labels, lse = ctx.saved_tensors
        out = torch.empty_like(logits)
        for b, s, e in _pieces(labels.shape):
            g = grad[b, s:e, None].float()
            part = torch.exp(logits[b, s:e].float() - lse[b, s:e, None]).mul_(-g)
            out[b, s:e] = part.scatter_add_(1, labels[b, s:e, None], g).to(out.dtype)
        return out, None


def _pieces(shape: torch.Size) -> Iterator[tuple[int, int, int]]:
    for b in range(shape[0]):
        for s in range(0, shape[1], LOGP_CHUNK):
            yield b, s, min(s + LOGP_CHUNK, shape[1])


def token_logps(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log p(label_t | tokens before t) for each position, in fp32: logits (B, T, V) predict
    labels (B, T). Memory beyond the logits: O(B x T), not O(B x T x V)."""
    return _TokenLogps.apply(logits, labels.long())


CRITIC_SCORES = ("token_mean", "turn_means")


def turn_sums(values: torch.Tensor, turn_ids: torch.Tensor, n_turns: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, n_turns) sum of `values` over each agent turn's tokens, and their counts."""
    onehot = F.one_hot(turn_ids.long(), n_turns + 1)[..., 1:].to(values.dtype)  # drop turn 0: not agent tokens
    return torch.einsum("bt,btk->bk", values, onehot), onehot.sum(dim=1)


def turn_means(sums: torch.Tensor, counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, n_turns) per-turn means from `turn_sums` (0 where a turn is absent), and which
    turns exist. The mean of a log-ratio is the difference of the two sums over the count."""
    present = counts > 0
    return torch.where(present, sums / counts.clamp(min=1), torch.zeros_like(sums)), present


def trajectory_scores(sums: torch.Tensor, ref_sums: torch.Tensor, counts: torch.Tensor, *, beta: float,
                      score: str = "token_mean") -> torch.Tensor:
    """(B,) critic scores from per-turn sums (B, K) of the critic's and the reference's token
    log-probabilities and the turns' token counts (B, K); `score` as in the module's doc."""
    if score == "token_mean":
        return beta * (sums - ref_sums).sum(dim=-1) / counts.sum(dim=-1).clamp(min=1)
    if score == "turn_means":
        return beta * turn_means(sums - ref_sums, counts)[0].sum(dim=-1)
    raise ValueError(f"unknown critic score {score!r}")


def bradley_terry_loss(chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """Trajectory pairs: -log sigmoid(score_chosen - score_rejected), averaged over pairs."""
    return -F.logsigmoid(chosen - rejected).mean()


def sequence_logp(logps: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed log-probability of the masked tokens of each sequence, and their count."""
    mask = mask.to(logps.dtype)
    return (logps * mask).sum(dim=-1), mask.sum(dim=-1)


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
             ref_rejected: torch.Tensor, chosen_tokens: torch.Tensor, *, beta: float = 0.1,
             nll: float = 0.01) -> tuple[torch.Tensor, torch.Tensor]:
    """DPO with an NLL term on the chosen action; returns (loss, reward margin per pair)."""
    margin = beta * ((policy_chosen - ref_chosen) - (policy_rejected - ref_rejected))
    loss = -F.logsigmoid(margin) + nll * (-policy_chosen / chosen_tokens.clamp(min=1))
    return loss.mean(), margin.detach()
