"""Stage 2: critic training on a tiny model built from a config (no download)."""

from __future__ import annotations

import json
import statistics

import pytest
import torch
from helpers import tiny_causal_lm

from colbench.train.critic import CriticConfig, encode_trajectory, load_model, train_critic


def pairs_file(path, n=8):
    lines = []
    for i in range(n):
        ref = f"def f(x):\n    return x + {i}\n"
        good = [{"role": "agent", "content": "What should I add?"}, {"role": "human", "content": f"Add {i}."},
                {"role": "agent", "content": f"I WANT TO ANSWER: def f(x): return x + {i}"}]
        bad = [{"role": "agent", "content": "I WANT TO ANSWER: def f(x): return x"}]
        lines.append({"task_id": f"t{i}", "split": "backend", "problem_description": "Write f.", "reference": ref,
                      "chosen": {"sample": 0, "score": 1.0, "turns": good},
                      "rejected": {"sample": 1, "score": 0.0, "turns": bad}})
    path.write_text("".join(json.dumps(l) + "\n" for l in lines))
    return path


def test_agent_tokens_are_marked_by_turn(tmp_path):
    _, tok = load_model(str(tiny_causal_lm(tmp_path / "base")))
    turns = [{"role": "agent", "content": "Q?"}, {"role": "human", "content": "A."}, {"role": "agent", "content": "X"}]
    ids, marks = encode_trajectory(tok, "def f(): pass", "Write f.", turns, max_length=4096)
    assert len(ids) == len(marks) and set(marks) == {0, 1, 2}
    # The reference solution and the request come first and carry no credit.
    assert marks[: marks.index(1)] == [0] * marks.index(1)
    assert tok.decode([i for i, m in zip(ids, marks) if m == 2]).strip() == "assistant: X"


def test_a_long_trajectory_loses_its_middle_not_the_reference_or_the_last_turn(tmp_path):
    _, tok = load_model(str(tiny_causal_lm(tmp_path / "base")))
    reference = "def f(x):\n    return x * 7 + 3\n"
    turns = []
    for k in range(40):
        turns += [{"role": "agent", "content": f"Question {k} about the input format and the edge cases?"},
                  {"role": "human", "content": f"Answer {k}: it is a list of integers, possibly empty."}]
    turns.append({"role": "agent", "content": "I WANT TO ANSWER: def f(x): return x * 7 + 3"})
    full, full_marks = encode_trajectory(tok, reference, "Write f.", turns, max_length=100_000)
    ids, marks = encode_trajectory(tok, reference, "Write f.", turns, max_length=256)
    assert len(full) > 1000 and len(ids) == len(marks) == 256
    assert reference in tok.decode(ids)  # the training-time information survives
    assert ids[-40:] == full[-40:] and max(marks) == 41 == marks[-1]  # the last turn, whole, with its number
    last = [i for i, m in zip(ids, marks) if m == 41]
    assert last == [i for i, m in zip(full, full_marks) if m == 41]


def test_critic_loss_falls_and_the_checkpoint_differs_from_the_base(tmp_path):
    base = tiny_causal_lm(tmp_path / "base")
    out = tmp_path / "critic"
    losses = train_critic(pairs_file(tmp_path / "pairs.jsonl"), str(base), out,
                          CriticConfig(lr=3e-3, epochs=6, batch_size=4, beta=1.0))
    first, last = statistics.mean(losses[:2]), statistics.mean(losses[-2:])
    assert last < first, losses
    assert len((out / "critic_log.jsonl").read_text().splitlines()) == len(losses)
    inputs = json.loads((out / "critic_inputs.json").read_text())
    assert inputs["inputs"] == 16 and inputs["cut"] == 0 and inputs["max_length"] == 8192  # the released trainer's
    trained, _ = load_model(str(out))
    original, _ = load_model(str(base))
    assert any(not torch.equal(a, b) for a, b in zip(trained.parameters(), original.parameters()))


def test_critic_cli_and_an_unreadable_checkpoint(tmp_path):
    import subprocess
    import sys

    pairs = pairs_file(tmp_path / "pairs.jsonl", n=2)
    base = tiny_causal_lm(tmp_path / "base")
    ok = subprocess.run([sys.executable, "-m", "colbench.cli", "train", "critic", "--pairs", str(pairs), "--model",
                         str(base), "--out", str(tmp_path / "c"), "--epochs", "1", "--lr", "0.001"],
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "c" / "config.json").is_file()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    bad = subprocess.run([sys.executable, "-m", "colbench.cli", "train", "critic", "--pairs", str(pairs), "--model",
                          str(tmp_path / "broken"), "--out", str(tmp_path / "c2")],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    lines = [l for l in bad.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "cannot read the checkpoint" in lines[0]


CHAT = ("{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}</s>{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def test_the_chat_input_is_the_dialogue_as_the_agent_saw_it_after_the_reference(tmp_path):
    from colbench.protocol import agent_messages

    _, tok = load_model(str(tiny_causal_lm(tmp_path / "base")))
    tok.chat_template = CHAT
    turns = [{"role": "agent", "content": "Q?"}, {"role": "human", "content": "A."}, {"role": "agent", "content": "X"}]
    ids, marks = encode_trajectory(tok, "def f(): pass", "Write f.", turns, max_length=4096, system="SYS",
                                   input_format="chat")
    assert len(ids) == len(marks)
    # The released trainer's text: the reference sentence, then the chat as the agent saw it.
    chat = tok.apply_chat_template(agent_messages("backend", "Write f.", turns, "SYS"), tokenize=False)
    assert tok.decode(ids) == "In light that the final answer is: def f(): pass." + chat
    # An agent turn's tokens: its message and the template's end-of-turn marker, nothing else.
    assert tok.decode([i for i, m in zip(ids, marks) if m == 1]) == "Q?</s>"
    assert tok.decode([i for i, m in zip(ids, marks) if m == 2]) == "X</s>"
    assert "SYS" in tok.decode(ids[: marks.index(1)])
    # As the released trainer reads a trajectory: its last agent turn as written (raw), the
    # earlier ones as counted, nothing after the last agent turn.
    from colbench.train.critic import encode_row

    row = {"reference": "def f(): pass", "problem_description": "Write f.", "split": "backend"}
    written = turns[:2] + [{"role": "agent", "content": "X", "raw": "THOUGHT: hm. X"},
                           {"role": "human", "content": "thanks"}]
    ids, marks = encode_row(tok, row, written, 4096, "chat")
    assert tok.decode([i for i, m in zip(ids, marks) if m == 2]) == "THOUGHT: hm. X</s>"
    assert "thanks" not in tok.decode(ids)
    # The plain transcript, and what a tokenizer without a chat template gets.
    plain_ids, plain_marks = encode_trajectory(tok, "def f(): pass", "Write f.", turns, max_length=4096,
                                               input_format="plain")
    assert tok.decode([i for i, m in zip(plain_ids, plain_marks) if m == 2]).strip() == "assistant: X"
    tok.chat_template = None
    assert encode_trajectory(tok, "def f(): pass", "Write f.", turns, max_length=4096,
                             input_format="chat") == (plain_ids, plain_marks)


def test_a_chat_template_that_rewrites_earlier_messages_is_one_sentence(tmp_path):
    from colbench.errors import ColbenchError

    _, tok = load_model(str(tiny_causal_lm(tmp_path / "base")))
    # Marks the last message specially: a longer conversation renders earlier ones differently.
    tok.chat_template = ("{% for m in messages %}{% if loop.last %}LAST {% endif %}{{ m.content }}</s>"
                         "{% endfor %}")
    turns = [{"role": "agent", "content": "Q?"}, {"role": "human", "content": "A."}]
    with pytest.raises(ColbenchError, match="--critic-input plain"):
        encode_trajectory(tok, "r", "p", turns, max_length=4096, input_format="chat")
