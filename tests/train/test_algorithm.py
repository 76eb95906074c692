"""The parts of SWEET-RL that a wrong algorithm would get wrong, each checked against an
independent computation. `benchmarks/trainer_mutations.py` breaks each on purpose and shows
that the suite fails for every one."""

from __future__ import annotations

import json
import math

import torch
from helpers import tiny_causal_lm

from colbench.train.common import load_model, padded_token_logps
from colbench.train.critic import CriticConfig, train_critic


def test_marked_log_probabilities_are_those_of_the_marked_tokens(tmp_path):
    model, tok = load_model(str(tiny_causal_lm(tmp_path / "base")))
    ids = tok("user: hi\nassistant: add two\nuser: ok\n", add_special_tokens=False)["input_ids"]
    marks = [0] * len(ids)
    for j in range(4, 9):  # some tokens in the middle belong to agent turn 1
        marks[j] = 1
    logps, got_marks = padded_token_logps(model, [(ids, marks), (ids[:6], marks[:6])], tok.pad_token_id)
    with torch.no_grad():
        for row, n in ((0, len(ids)), (1, 6)):
            expected = []
            for j in range(1, n):  # independently: log p(token j | tokens before j), one prefix at a time
                if marks[j]:
                    out = model(input_ids=torch.tensor([ids[:j]])).logits[0, -1].float().log_softmax(-1)
                    expected.append(out[ids[j]].item())
            got = [v for v, m in zip(logps[row].tolist(), got_marks[row].tolist()) if m]
            assert len(got) == len(expected) > 0
            assert torch.allclose(torch.tensor(got), torch.tensor(expected), atol=1e-4)


def test_the_critic_starts_neutral_as_its_own_reference(tmp_path):
    # Before any update the critic equals the frozen reference, so every advantage is 0 and
    # the first step's Bradley-Terry loss is log 2, whatever the pairs say.
    lines = [{"task_id": f"t{i}", "split": "backend", "problem_description": "Write f.",
              "reference": f"def f(x):\n    return x + {i}\n",
              "chosen": {"sample": 0, "score": 1.0, "turns": [{"role": "agent", "content": f"Add {i}? Yes, {i}."}]},
              "rejected": {"sample": 1, "score": 0.0, "turns": [{"role": "agent", "content": "I WANT TO ANSWER: x"}]}}
             for i in range(4)]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(line) + "\n" for line in lines))
    losses = train_critic(pairs, str(tiny_causal_lm(tmp_path / "base")), tmp_path / "critic",
                          CriticConfig(lr=1e-3, epochs=1, batch_size=4, beta=1.0, max_length=24))
    assert math.isclose(losses[0], math.log(2), rel_tol=1e-4)
    # Every input was longer than 24 tokens: all lost their middle, and the record says so.
    inputs = json.loads((tmp_path / "critic" / "critic_inputs.json").read_text())
    assert (inputs["inputs"], inputs["cut"], inputs["max_length"]) == (8, 8, 24) and inputs["longest"] > 24


def test_ranking_prefers_what_the_critic_raises_above_the_reference(tmp_path, monkeypatch):
    import colbench.train.common as common
    import colbench.train.critic as critic
    from colbench.train.sample import rank_candidates

    # (critic mean log-prob, reference mean log-prob): the advantage is their difference.
    logps = {"A": (-1.0, -3.0), "B": (-0.5, -0.4), "C": (-2.0, -2.5), "D": (-0.8, -0.2)}
    row = {"task_id": "t", "sample": 0, "turn": 1, "split": "backend", "problem_description": "Write f.",
           "reference": "def f(): pass", "context": [],
           "candidates": [{"text": t, "ref_mean_logp": r} for t, (_, r) in logps.items()]}
    cands = tmp_path / "cands.jsonl"
    cands.write_text(json.dumps(row) + "\n")

    class Loaded:
        def to(self, device):
            return self

        def eval(self):
            return self

    monkeypatch.setattr(common, "load_model", lambda path, **kw: (Loaded(), None))
    monkeypatch.setattr(critic, "candidate_mean_logps", lambda m, t, rows, **kw: [logps[r["text"]][0] for r in rows])
    out = tmp_path / "actions.jsonl"
    assert rank_candidates(cands, "critic", out, pairs_per_turn=4, beta=0.1) == 4
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    # Advantages: A +0.2, C +0.05, B -0.01, D -0.06: A and C are chosen, B and D rejected.
    assert {p["chosen"] for p in pairs} == {"A", "C"} and {p["rejected"] for p in pairs} == {"B", "D"}
    for p in pairs:
        c, r = logps[p["chosen"]], logps[p["rejected"]]
        assert math.isclose(p["chosen_advantage"], 0.1 * (c[0] - c[1]))
        assert math.isclose(p["rejected_advantage"], 0.1 * (r[0] - r[1]))


def test_the_released_recipe_warms_up_then_decays_to_a_tenth_and_constant_stays(tmp_path):
    lines = [{"task_id": f"t{i}", "split": "backend", "problem_description": "Write f.", "reference": "def f(): pass",
              "chosen": {"sample": 0, "score": 1.0, "turns": [{"role": "agent", "content": f"Yes {i}"}]},
              "rejected": {"sample": 1, "score": 0.0, "turns": [{"role": "agent", "content": "No"}]}}
             for i in range(8)]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(line) + "\n" for line in lines))
    base = str(tiny_causal_lm(tmp_path / "base"))

    def lrs(recipe: str, batch_size: int = 1, micro: int = 0) -> list[float]:
        out = tmp_path / f"{recipe}-{batch_size}-{micro}"
        train_critic(pairs, base, out, CriticConfig(lr=1e-3, epochs=5, batch_size=batch_size, micro_batch_size=micro,
                                                    optimizer=recipe))
        return [json.loads(line)["lr"] for line in (out / "critic_log.jsonl").read_text().splitlines()]

    released = lrs("released")
    # 40 steps: ceil(3%) = 2 warm-up steps from 0, then a half cosine down to 0.1 x lr.
    assert len(released) == 40 and released[:3] == [0.0, 5e-4, 1e-3]
    assert all(a >= b for a, b in zip(released[2:], released[3:]))
    expected_last = 1e-3 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 37 / 38)))
    assert math.isclose(released[-1], expected_last, rel_tol=1e-6) and released[-1] < 0.11e-3
    assert set(lrs("constant")) == {1e-3}
    # Micro-batches of 3 for a batch of 4: 3 examples per step, 3 steps an epoch, not 2. The
    # schedule is sized on the steps that run, so it still ends at its floor, never rising.
    odd = lrs("released", batch_size=4, micro=3)
    assert len(odd) == 15 and all(a >= b for a, b in zip(odd[1:], odd[2:])) and odd[-1] < 0.12e-3


def test_the_ranking_reference_is_the_policy_on_its_own_prompt_without_the_reference_solution(tmp_path):
    from colbench.llm.hf import render_prompt
    from colbench.protocol import agent_messages
    from colbench.train.critic import candidate_mean_logps
    from colbench.train.sample import prompt_mean_logps

    model, tok = load_model(str(tiny_causal_lm(tmp_path / "base")))
    context = [{"role": "agent", "content": "What input?"}, {"role": "human", "content": "A list."}]
    row = {"split": "backend", "protocol": "colbench", "problem_description": "Write f.", "context": context,
           "reference": "def f(x):\n    return sorted(x)\n", "text": "Sorted ascending?"}
    [got] = prompt_mean_logps(model, tok, [row], max_length=4096, batch_size=2)
    # Independently: the reply and end-of-sequence after the prompt the policy answered.
    text, special = render_prompt(tok, agent_messages("backend", "Write f.", context))
    prompt = tok(text, add_special_tokens=special)["input_ids"]
    reply = tok("Sorted ascending?", add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([prompt + reply])).logits[0].float().log_softmax(-1)
    expected = sum(logits[len(prompt) + j - 1, t].item() for j, t in enumerate(reply)) / len(reply)
    assert math.isclose(got, expected, rel_tol=1e-4)
    # The reference solution plays no part in it, unlike in the critic's input.
    other = dict(row, reference="def f(x):\n    return x\n")
    assert prompt_mean_logps(model, tok, [other], max_length=4096, batch_size=2) == [got]
    assert candidate_mean_logps(model, tok, [row]) != candidate_mean_logps(model, tok, [other])
