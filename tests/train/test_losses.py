"""The SWEET-RL losses against values computed by hand on small tensors."""

from __future__ import annotations

import math

import torch

from colbench.train.losses import (bradley_terry_loss, dpo_loss, sequence_logp, token_logps, trajectory_scores,
                                   turn_means, turn_sums)


def sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_token_logps_gathers_the_label_log_probability():
    logits = torch.tensor([[[0.0, math.log(3.0)], [math.log(4.0), 0.0]]])  # p = [1/4, 3/4], [4/5, 1/5]
    labels = torch.tensor([[1, 0]])
    assert torch.allclose(token_logps(logits, labels), torch.tensor([[math.log(0.75), math.log(0.8)]]))


def test_per_turn_mean_log_ratio_ignores_non_agent_tokens():
    logps = torch.tensor([[-1.0, -2.0, -3.0, -4.0, -5.0, -9.0]])
    ref = torch.tensor([[-1.5, -1.0, -3.5, -4.0, -4.0, -1.0]])
    # tokens: prompt, turn 1, turn 1, human reply, turn 2, padding
    turn_ids = torch.tensor([[0, 1, 1, 0, 2, 0]])
    sums, counts = turn_sums(logps, turn_ids, 3)
    ref_sums, _ = turn_sums(ref, turn_ids, 3)
    means, present = turn_means(sums - ref_sums, counts)
    # turn 1: ((-2+1) + (-3+3.5)) / 2 = -0.25; turn 2: (-5+4) = -1; turn 3 absent
    assert torch.allclose(means, torch.tensor([[-0.25, -1.0, 0.0]]))
    assert present.tolist() == [[True, True, False]]
    assert torch.allclose(0.1 * means, torch.tensor([[-0.025, -0.1, 0.0]]))


def test_trajectory_scores_token_weighted_mean_and_sum_of_turn_means():
    # Two agent turns: 3 tokens and 1 token. Per-turn sums of log p, critic and reference.
    sums = torch.tensor([[-3.0, -2.0]])
    ref_sums = torch.tensor([[-6.0, -1.0]])
    counts = torch.tensor([[3.0, 1.0]])
    # Released trainer: one mean over all 4 agent tokens: ((-3 + 6) + (-2 + 1)) / 4 = 0.5.
    assert torch.allclose(trajectory_scores(sums, ref_sums, counts, beta=0.1, score="token_mean"),
                          torch.tensor([0.05]))
    # Paper: per-turn means summed: (3 / 3) + (-1 / 1) = 0.
    assert torch.allclose(trajectory_scores(sums, ref_sums, counts, beta=0.1, score="turn_means"),
                          torch.tensor([0.0]))
    # An absent turn (no tokens) adds nothing to either.
    padded = [torch.cat([t, torch.zeros(1, 1)], dim=1) for t in (sums, ref_sums, counts)]
    for score in ("token_mean", "turn_means"):
        assert torch.allclose(trajectory_scores(*padded, beta=0.1, score=score),
                              trajectory_scores(sums, ref_sums, counts, beta=0.1, score=score))


def test_bradley_terry_over_trajectory_scores():
    chosen, rejected = torch.tensor([0.3, 0.3]), torch.tensor([0.0, 0.5])
    expected = (-math.log(sig(0.3)) - math.log(sig(-0.2))) / 2
    assert math.isclose(bradley_terry_loss(chosen, rejected).item(), expected, rel_tol=1e-6)


def test_dpo_with_nll_term():
    pc, pr = torch.tensor([-4.0]), torch.tensor([-6.0])
    rc, rr = torch.tensor([-5.0]), torch.tensor([-5.0])
    n = torch.tensor([2.0])
    loss, margin = dpo_loss(pc, pr, rc, rr, n, beta=0.1, nll=0.01)
    # margin = 0.1 * ((-4 + 5) - (-6 + 5)) = 0.2; nll = 0.01 * (4 / 2) = 0.02
    assert math.isclose(margin.item(), 0.2, rel_tol=1e-6)
    assert math.isclose(loss.item(), -math.log(sig(0.2)) + 0.02, rel_tol=1e-6)


def test_sequence_logp_masks_non_action_tokens():
    logps = torch.tensor([[-1.0, -2.0, -3.0], [-0.5, -0.5, -9.0]])
    mask = torch.tensor([[0, 1, 1], [1, 1, 0]])
    total, count = sequence_logp(logps, mask)
    assert total.tolist() == [-5.0, -1.0] and count.tolist() == [2.0, 2.0]


def test_token_logps_matches_the_plain_formula_in_value_and_gradient(monkeypatch):
    import colbench.train.losses as losses

    monkeypatch.setattr(losses, "LOGP_CHUNK", 7)  # pieces that do not divide the positions
    torch.manual_seed(0)
    for dtype, tol in ((torch.float32, 1e-5), (torch.bfloat16, 1e-4)):
        full = (torch.randn(3, 30, 50) * 4).to(dtype).requires_grad_()
        logits = full[:, :-1]  # a view, as the trainers pass it
        labels = torch.randint(0, 50, (3, 29))
        weights = torch.randn(3, 29)
        got = token_logps(logits, labels)
        (got * weights).sum().backward()
        got_grad, full.grad = full.grad.clone(), None
        plain = torch.gather(torch.log_softmax(logits.float(), dim=-1), 2, labels.unsqueeze(-1)).squeeze(-1)
        (plain * weights).sum().backward()
        assert got.dtype == torch.float32 and got_grad.dtype == dtype
        assert torch.allclose(got, plain, atol=tol)
        assert torch.allclose(got_grad.float(), full.grad.float(), atol=tol)
