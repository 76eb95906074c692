"""Synthetic credit assignment: one identifiable turn decides success.

Every trajectory has three agent turns. Two are filler questions drawn at random from the
same pool for successes and failures; the deciding turn (at a random position) asks the
question that uncovers the hidden requirement in successes and an irrelevant one in
failures. The critic only ever sees trajectory-level preferences. Afterwards, on new
successful trajectories, the deciding turn should carry the largest advantage far more often
than chance (1 in 3).
"""

from __future__ import annotations

import json
import random

from helpers import tiny_causal_lm

from colbench.train.common import load_model
from colbench.train.critic import CriticConfig, train_critic, turn_advantages_of

REFERENCE = "def water(weight):\n    return weight * 0.033 + 0.5  # half a litre more on hot days\n"
FILLERS = ["What should happen for empty input?", "Should the list be sorted?", "Do you want two decimals?",
           "What is the input type?", "Can values be negative?", "Should I return a string?"]
DECIDING = {True: "Should hot days add half a litre?", False: "Do you like the colour blue?"}


def trajectory(rng: random.Random, success: bool) -> tuple[list[dict], int]:
    agent = rng.sample(FILLERS, 2)
    decisive = rng.randrange(3)
    agent.insert(decisive, DECIDING[success])
    turns = []
    for text in agent:
        turns += [{"role": "agent", "content": text}, {"role": "human", "content": "I don't know."}]
    return turns, decisive


def test_the_deciding_turn_gets_the_largest_advantage(tmp_path):
    rng = random.Random(0)
    lines = []
    for i in range(48):
        good, _ = trajectory(rng, True)
        bad, _ = trajectory(rng, False)
        lines.append({"task_id": f"t{i}", "split": "backend", "problem_description": "Write water(weight).",
                      "reference": REFERENCE, "chosen": {"sample": 0, "score": 1.0, "turns": good},
                      "rejected": {"sample": 1, "score": 0.0, "turns": bad}})
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(l) + "\n" for l in lines))
    base = tiny_causal_lm(tmp_path / "base")
    train_critic(pairs, str(base), tmp_path / "critic", CriticConfig(lr=2e-3, epochs=4, batch_size=8, beta=1.0))

    critic, tok = load_model(str(tmp_path / "critic"))
    reference, _ = load_model(str(base))
    held_out = [trajectory(random.Random(1000 + i), True) for i in range(60)]
    rows = [{"reference": REFERENCE, "problem_description": "Write water(weight).", "turns": t} for t, _ in held_out]
    advantages = turn_advantages_of(critic, tok, reference, rows, beta=1.0)
    assert all(len(a) == 3 for a in advantages)
    top = sum(max(range(3), key=a.__getitem__) == decisive for a, (_, decisive) in zip(advantages, held_out))
    rate = top / len(held_out)
    print(f"deciding turn ranked first in {top}/{len(held_out)} held-out trajectories ({rate:.0%}; chance 33%)")
    assert rate >= 0.8
