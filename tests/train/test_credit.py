"""Synthetic credit assignment that needs the reference solution.

Each task's reference solution names one of two kinds of day (Q or X). Every trajectory has
three agent turns: two filler questions and, at a random position, the deciding turn, which
names a kind of day. A success names the reference's kind, a failure the other one; a pair's
two trajectories differ in that one word. Without the reference the deciding turns of
successes and failures look alike (each kind is as common in both), so only a critic that
compares the turn with the reference can credit it. The critic sees trajectory-level
preferences only.

Afterwards, on new tasks, the deciding turn must earn more advantage when it names the
reference's kind than when it names the other (the same dialogue otherwise).
`benchmarks/credit_seeds.py` runs this for ten seeds, and with
the reference withheld from the critic (then it must fail).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest
from helpers import tiny_causal_lm

from colbench.train.common import load_model
from colbench.train.critic import CriticConfig, train_critic, turn_advantages_of

KINDS = ("Q", "X")
FILLERS = ["What should happen for empty input?", "Should the list be sorted?", "Do you want two decimals?",
           "What is the input type?", "Can values be negative?", "Should I return a string?"]
PROBLEM = "Write water(weight)."
PAIRS, EPOCHS, HELD_OUT = 96, 12, 60


def reference(kind: str) -> str:
    return f"def water(weight):\n    return weight * 0.033 + 0.5  # more on days of kind {kind}\n"


def dialogue(fillers: list[str], decisive: int, kind: str) -> list[dict[str, str]]:
    agent = list(fillers)
    agent.insert(decisive, kind)
    turns = []
    for text in agent:
        turns += [{"role": "agent", "content": text}, {"role": "human", "content": "I don't know."}]
    return turns


def task(rng: random.Random) -> tuple[str, list[dict], list[dict], int]:
    """A task's kind, a success, a failure (the same dialogue but for the deciding turn) and
    the deciding turn's index."""
    kind, fillers, decisive = rng.choice(KINDS), rng.sample(FILLERS, 2), rng.randrange(3)
    other = next(k for k in KINDS if k != kind)
    return kind, dialogue(fillers, decisive, kind), dialogue(fillers, decisive, other), decisive


def credit(tmp: Path, seed: int, *, with_reference: bool = True) -> dict[str, Any]:
    """Trains a critic on one seed's pairs; measures its credit on held-out tasks."""
    rng = random.Random(seed)
    shown = reference if with_reference else (lambda kind: reference("?"))
    lines = []
    for i in range(PAIRS):
        kind, good, bad, _ = task(rng)
        lines.append({"task_id": f"t{i}", "split": "backend", "problem_description": PROBLEM,
                      "reference": shown(kind), "chosen": {"sample": 0, "score": 1.0, "turns": good},
                      "rejected": {"sample": 1, "score": 0.0, "turns": bad}})
    pairs = tmp / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(l) + "\n" for l in lines))
    base = tiny_causal_lm(tmp / "base", hidden=64, heads=4)
    train_critic(pairs, str(base), tmp / "critic", CriticConfig(lr=3e-3, epochs=EPOCHS, batch_size=8, beta=1.0,
                                                                seed=seed))
    critic, tok = load_model(str(tmp / "critic"))
    frozen, _ = load_model(str(base))
    held = [task(random.Random(10_000 * (seed + 1) + i)) for i in range(HELD_OUT)]
    rows = [{"reference": shown(kind), "problem_description": PROBLEM, "turns": turns}
            for kind, good, bad, _ in held for turns in (good, bad)]
    adv = turn_advantages_of(critic, tok, frozen, rows, beta=1.0)
    good_adv, bad_adv = adv[0::2], adv[1::2]
    matched = sum(g[d] > b[d] for g, b, (*_, d) in zip(good_adv, bad_adv, held))
    return {"matched_above_other": matched / len(held)}


@pytest.mark.parametrize("seed", [int(s) for s in os.environ.get("COLBENCH_CREDIT_SEEDS", "0").split(",")])
def test_the_deciding_turn_is_credited_only_by_comparing_it_with_the_reference(tmp_path, seed):
    found = credit(tmp_path, seed)
    print(f"seed {seed}: {found}")
    # Chance is 1/2: the two kinds are equally likely in successes and failures.
    assert found["matched_above_other"] >= 0.8, found
