"""The actor's inputs, the ranking rule, LoRA, the accelerate configs and bad input."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from helpers import tiny_causal_lm

from colbench.cli import main
from colbench.llm.hf import render_prompt
from colbench.protocol import agent_messages
from colbench.train.common import load_model, load_tokenizer
from colbench.train.policy import DPOConfig, encode_action, train_actor, trajectory_example
from colbench.train.sample import pick_pairs

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return tiny_causal_lm(tmp_path_factory.mktemp("tiny") / "base")


def test_the_actor_trains_on_the_reply_after_the_prompt_evaluation_sends(base):
    tok = load_tokenizer(str(base))
    messages = agent_messages("backend", "Write f.", [{"role": "agent", "content": "Q?"}, {"role": "human", "content": "A."}])
    ids, mask = encode_action(tok, messages, "I WANT TO ANSWER: def f(x): return x", 4096)
    prompt = [i for i, m in zip(ids, mask) if m == 0]
    trained = [i for i, m in zip(ids, mask) if m == 1]
    text, special = render_prompt(tok, messages)
    assert prompt == tok(text, add_special_tokens=special)["input_ids"]  # what HFChat sends
    assert trained[-1] == tok.eos_token_id  # the model learns to stop
    assert tok.decode(trained[:-1]) == "I WANT TO ANSWER: def f(x): return x"
    assert mask == [0] * len(prompt) + [1] * len(trained)


def test_a_trajectory_trains_every_agent_turn_on_its_own_context(base):
    tok = load_tokenizer(str(base))
    turns = [{"role": "agent", "content": "What sizes?"}, {"role": "human", "content": "Small ones."},
             {"role": "agent", "content": "def f(): pass", "raw": "I WANT TO ANSWER: def f(): pass"}]
    example = trajectory_example(tok, "backend", "Write f.", turns, 4096)
    assert len(example) == 2
    replies = [tok.decode([i for i, m in zip(ids, mask) if m][:-1]) for ids, mask in example]
    assert replies == ["What sizes?", "I WANT TO ANSWER: def f(): pass"]  # the raw message, as generated
    assert "Small ones." in tok.decode(example[1][0]) and "Small ones." not in tok.decode(example[0][0])


def test_long_inputs_keep_the_reply_and_the_latest_context(base):
    tok = load_tokenizer(str(base))
    messages = agent_messages("backend", "Write f. " * 200, [])
    ids, mask = encode_action(tok, messages, "short reply", 64)
    assert len(ids) == 64 and tok.decode([i for i, m in zip(ids, mask) if m][:-1]) == "short reply"


def test_pairs_come_from_the_top_and_bottom_halves():
    scored = [(float(a), f"text {a}") for a in range(16)]
    pairs = pick_pairs(scored, 4, random.Random(0))
    assert len(pairs) == 4 and len(set(pairs)) == 4
    for chosen, rejected in pairs:
        assert chosen[0] >= 8 and rejected[0] <= 7
    # Equal texts or equal advantages say nothing: no pair.
    assert pick_pairs([(1.0, "a"), (0.0, "a")], 4, random.Random(0)) == []
    assert pick_pairs([(0.5, "a"), (0.5, "b")], 4, random.Random(0)) == []
    assert len(pick_pairs(scored[:3], 4, random.Random(0))) == 1  # odd count: the middle one is left out


def action_pairs(path, n=6):
    rows = [{"task_id": f"t{i}", "sample": 0, "turn": 1, "split": "backend", "problem_description": "Write f.",
             "context": [], "chosen": f"I WANT TO ANSWER: def f(x): return x + {i}",
             "rejected": "hello world", "chosen_advantage": 0.1, "rejected_advantage": -0.1} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_lora_training_saves_a_merged_checkpoint_that_loads_as_a_plain_model(base, tmp_path):
    out = tmp_path / "lora"
    rows = train_actor(action_pairs(tmp_path / "pairs.jsonl"), str(base), out,
                       DPOConfig(lr=5e-3, epochs=3, batch_size=2, lora_r=4))
    assert rows[-1]["margin"] > rows[0]["margin"]
    trained, _ = load_model(str(out))
    original, _ = load_model(str(base))
    keys = trained.state_dict().keys()
    assert keys == original.state_dict().keys() and not any("lora" in k for k in keys)
    changed = [k for k in keys if not torch.equal(trained.state_dict()[k], original.state_dict()[k])]
    assert changed and all("proj" in k for k in changed)  # adapters touch the linear layers only


def test_the_accelerate_configs_in_the_repo_are_valid():
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DistributedType

    zero3 = load_config_from_file(str(REPO / "configs/accelerate/deepspeed_zero3.yaml"))
    assert zero3.distributed_type == DistributedType.DEEPSPEED and zero3.mixed_precision == "bf16"
    ds = json.loads((REPO / zero3.deepspeed_config["deepspeed_config_file"]).read_text())
    assert ds["zero_optimization"]["stage"] == 3
    assert ds["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True  # full checkpoint on save
    fsdp = load_config_from_file(str(REPO / "configs/accelerate/fsdp.yaml"))
    assert fsdp.distributed_type == DistributedType.FSDP
    assert fsdp.fsdp_config["fsdp_state_dict_type"] == "FULL_STATE_DICT"


@pytest.mark.parametrize("argv", [
    ["train", "actor", "--pairs", "{pairs}", "--model", "{missing}", "--out", "{out}"],
    ["train", "dpo", "--pairs", "{pairs}", "--model", "{broken}", "--out", "{out}"],
    ["train", "critic", "--pairs", "{pairs}", "--model", "{broken}", "--out", "{out}"],
    ["train", "rank", "{pairs}", "--critic", "{broken}", "--out", "{out}"],
])
def test_unreadable_checkpoints_and_wrong_files_are_one_sentence(tmp_path, capsys, argv):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    pairs = action_pairs(tmp_path / "pairs.jsonl")
    values = {"pairs": pairs, "missing": tmp_path / "nowhere", "broken": broken, "out": tmp_path / "out"}
    assert main([a.format(**values) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("colbench: ") and err.count("\n") == 1 and "Traceback" not in err
    assert ("cannot read the checkpoint" in err or "is not a trajectory pair" in err
            or "is not a sampled turn" in err)


def test_a_run_without_successes_gives_nothing_to_fine_tune_on(base, tmp_path, capsys):
    from colbench.runs import EpisodeWriter, RunDir

    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"task_id": "a", "problem_description": "Write f.", "ground_truth": "def f(): return 1",
                                 "test_cases": {"t": "f()"}}) + "\n")
    run = RunDir(tmp_path / "run")
    run.start({"split": "backend", "tasks_path": str(tasks), "samples": 1})
    writer = EpisodeWriter(run.episodes_path)
    writer.append({"task_id": "a", "sample": 0, "status": "ok", "turns": [{"role": "agent", "content": "x"}],
                   "score": 0.0, "success": False})
    writer.close()
    assert main(["train", "rft", str(run.path), "--model", str(base), "--out", str(tmp_path / "out")]) == 2
    assert "has no successful trajectory" in capsys.readouterr().err


def test_generation_gives_n_candidates_per_turn_and_vllm_is_optional(base):
    import importlib.util

    from colbench.errors import ColbenchError
    from colbench.train.generate import TransformersGenerator, make_generator

    gen = make_generator(str(base), "auto")
    assert isinstance(gen, TransformersGenerator)  # no vLLM or no GPU here
    chats = [agent_messages("backend", "Write f.", []), agent_messages("backend", "Write g.", [])]
    out = gen.generate(chats, n=3, temperature=1.0, top_p=1.0, max_new_tokens=6, seed=0)
    assert [len(c) for c in out] == [3, 3] and len({*out[0], *out[1]}) > 1
    again = make_generator(str(base), "transformers").generate(chats, n=3, temperature=1.0, top_p=1.0,
                                                                max_new_tokens=6, seed=0)
    assert again == out  # seeded
    if importlib.util.find_spec("vllm") is None:
        with pytest.raises(ColbenchError, match="needs vLLM installed"):
            make_generator(str(base), "vllm")


def test_lora_with_gradient_checkpointing_still_learns(base, tmp_path):
    rows = train_actor(action_pairs(tmp_path / "pairs.jsonl"), str(base), tmp_path / "out",
                       DPOConfig(lr=5e-3, epochs=2, batch_size=2, lora_r=4, gradient_checkpointing="on"))
    assert rows[-1]["margin"] > rows[0]["margin"]


def test_a_packed_trajectory_gives_the_numbers_of_a_sequence_per_turn(base):
    # With a chat template the baselines train one sequence per trajectory: each turn's
    # log-probability must be what the per-turn prompt (what evaluation sends) gives.
    from colbench.train.common import load_model
    from colbench.train.policy import example_logps

    model, tok = load_model(str(base))
    tok.chat_template = ("{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}</s>{% endfor %}"
                         "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")
    turns = [{"role": "agent", "content": "What sizes?"}, {"role": "human", "content": "Small ones."},
             {"role": "agent", "content": "Sorted?"}, {"role": "human", "content": "Yes, ascending."},
             {"role": "agent", "content": "def f(): pass", "raw": "I WANT TO ANSWER: def f(): pass"},
             {"role": "human", "content": "(after the answer)"}]
    packed = trajectory_example(tok, "backend", "Write f.", turns, 4096)
    assert len(packed) == 1
    per_turn = [encode_action(tok, agent_messages("backend", "Write f.", turns[:i]),
                              turns[i].get("raw") or turns[i]["content"], 4096) for i in (0, 2, 4)]
    assert sum(sum(m) for _, m in packed) == sum(sum(m) for _, m in per_turn)
    total, count = example_logps(model, [packed, per_turn], tok.pad_token_id)
    assert count[0] == count[1]
    assert torch.allclose(total[0], total[1], atol=1e-4)
    assert len(packed[0][0]) < sum(len(ids) for ids, _ in per_turn)
    # A template that renders earlier messages differently once more follow cannot be packed:
    # a sequence per turn, as before.
    tok.chat_template = ("{% for m in messages %}{% if loop.last %}LAST {% endif %}{{ m.content }}</s>{% endfor %}"
                         "{% if add_generation_prompt %}A: {% endif %}")
    assert len(trajectory_example(tok, "backend", "Write f.", turns, 4096)) == 3
