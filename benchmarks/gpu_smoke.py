"""GPU smoke test of the SWEET-RL stages at a real model size, with no download.

`benchmarks/gpu_smoke.sh` drives it: `prepare` builds a random-weight Llama of about 0.5B
parameters from a config (a 32000-token BPE tokenizer trained on the fly, with a chat
template) and synthetic inputs; then each stage runs in its own process and prints one JSON
line: tokens it processed, seconds, tokens/s and peak GPU memory.

    python benchmarks/gpu_smoke.py prepare DIR [--size 0.5b|tiny]
    python benchmarks/gpu_smoke.py critic|sample|rank|actor DIR

critic and actor train through colbench.train (bf16, gradient checkpointing; under
`accelerate launch` with the DeepSpeed ZeRO-3 config when DeepSpeed is installed); sample
generates candidates with the trainer's generator (vLLM when installed) and scores them as
the ranking reference; rank scores them with the critic. `tiny` runs the same on a CPU in a
minute, to check the script itself.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = {  # hidden, layers, intermediate, heads, vocabulary
    "0.5b": (1024, 24, 4096, 16, 32000),
    "tiny": (64, 2, 128, 4, 2000),
}
CHAT = ("{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}</s>{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")
WORDS = ("the function should return a sorted list of integers when the input is empty or holds negative values "
         "round to two decimals and ignore duplicates please ask me about edge cases before you answer").split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def dialogue(rng: random.Random, turns: int, words: int) -> list[dict[str, str]]:
    out = []
    for _ in range(turns):
        out += [{"role": "agent", "content": sentence(rng, words)}, {"role": "human", "content": sentence(rng, words)}]
    return out


def prepare(d: Path, size: str) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    hidden, layers, inter, heads, vocab = SIZES[size]
    rng = random.Random(0)
    corpus = [sentence(rng, 40) for _ in range(2000)] + ["def f(x):\n    return sorted(x)\n"] * 50
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<unk>", "<pad>", "</s>"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="</s>")
    fast.chat_template = CHAT
    base = d / "base"
    fast.save_pretrained(base)
    config = LlamaConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=heads, max_position_embeddings=16384,
                         pad_token_id=fast.pad_token_id, eos_token_id=fast.eos_token_id)
    model = LlamaForCausalLM(config)
    model.save_pretrained(base)
    n_params = sum(p.numel() for p in model.parameters())
    long = size != "tiny"
    turns, words = (8, 60) if long else (3, 8)
    pairs, actions, contexts = [], [], []
    for i in range(32 if long else 4):
        common = {"task_id": f"t{i}", "split": "backend", "protocol": "colbench",
                  "problem_description": sentence(rng, 80 if long else 10), "reference": corpus[-1]}
        pairs.append({**common, "chosen": {"sample": 0, "score": 1.0, "turns": dialogue(rng, turns, words)},
                      "rejected": {"sample": 1, "score": 0.0, "turns": dialogue(rng, turns, words)}})
        context = dialogue(rng, turns // 2, words)
        reply = 200 if long else 8
        actions.append({**common, "sample": 0, "turn": 1, "context": context, "chosen": sentence(rng, reply),
                        "rejected": sentence(rng, reply)})
        contexts.append({**common, "sample": 0, "turn": 1, "context": context})
    for name, rows in (("pairs", pairs), ("actions", actions), ("contexts", contexts)):
        (d / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(json.dumps({"stage": "prepare", "parameters": n_params, "size": size}))


class Meter:
    def __init__(self, stage: str):
        import torch

        self.stage, self.cuda = stage, torch.cuda.is_available()
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
        self.start = time.monotonic()

    def report(self, tokens: int, **extra: object) -> None:
        import torch

        seconds = time.monotonic() - self.start
        peak = torch.cuda.max_memory_allocated() / 2**30 if self.cuda else None
        if os.environ.get("RANK", "0") == "0":
            print(json.dumps({"stage": self.stage, "tokens": tokens, "seconds": round(seconds, 1),
                              "tokens_per_s": round(tokens / seconds, 1), "peak_gib": peak and round(peak, 2),
                              **extra}), flush=True)


def count_tokens(seqs: list[tuple[list[int], list[int]]]) -> int:
    return sum(len(ids) for ids, _ in seqs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["prepare", "critic", "sample", "rank", "actor"])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--size", choices=list(SIZES), default="0.5b")
    args = parser.parse_args()
    d = args.dir
    d.mkdir(parents=True, exist_ok=True)
    if args.stage == "prepare":
        prepare(d, args.size)
        return 0
    from colbench.train.common import load_jsonl, load_tokenizer

    base = str(d / "base")
    tok = load_tokenizer(base)
    meter = Meter(args.stage)
    if args.stage == "critic":
        from colbench.train.critic import CriticConfig, encode_row, train_critic

        cfg = CriticConfig(lr=2e-7, epochs=1, batch_size=8, micro_batch_size=1, gradient_checkpointing="auto")
        losses = train_critic(d / "pairs.jsonl", base, d / "critic", cfg)
        seqs = [encode_row(tok, p, p[s]["turns"], cfg.max_length, cfg.input_format)
                for p in load_jsonl(d / "pairs.jsonl", "pairs") for s in ("chosen", "rejected")]
        meter.report(count_tokens(seqs) * cfg.epochs, steps=len(losses))
    elif args.stage == "actor":
        from colbench.train.policy import DPOConfig, train_actor

        cfg = DPOConfig(lr=2e-7, epochs=1, batch_size=8, micro_batch_size=1)
        rows = train_actor(d / "actions.jsonl", base, d / "actor", cfg)
        # forward tokens: both sequences of every pair
        from colbench.protocol import agent_messages
        from colbench.train.policy import encode_action

        tokens = sum(len(encode_action(tok, agent_messages("backend", a["problem_description"], a["context"]),
                                       a[side], cfg.max_length)[0])
                     for a in load_jsonl(d / "actions.jsonl", "actions") for side in ("chosen", "rejected"))
        meter.report(tokens * cfg.epochs, steps=len(rows))
    elif args.stage == "sample":
        from colbench.protocol import agent_messages
        from colbench.train.common import scoring_model
        from colbench.train.generate import make_generator
        from colbench.train.sample import prompt_mean_logps

        contexts = load_jsonl(d / "contexts.jsonl", "contexts")
        gen = make_generator(base, "auto", seed=0, batch_size=8)
        texts = gen.generate([agent_messages("backend", c["problem_description"], c["context"]) for c in contexts],
                             n=16, temperature=1.0, top_p=1.0, max_new_tokens=int(os.environ.get("SMOKE_NEW", 1024)),
                             seed=0)
        gen.close()
        generated = sum(len(tok(t, add_special_tokens=False)["input_ids"]) for ts in texts for t in ts)
        meter.report(generated, engine=type(gen).__name__, what="generated tokens")
        flat = [{**c, "text": t} for c, ts in zip(contexts, texts) for t in ts]
        (d / "candidates.jsonl").write_text("".join(json.dumps(r) + "\n" for r in flat))
        meter = Meter("sample: reference scores")
        model, tok = scoring_model(base)
        prompt_mean_logps(model, tok, flat, max_length=8192, batch_size=8)
        meter.report(generated, what="candidate tokens scored")
    elif args.stage == "rank":
        from colbench.train.common import scoring_model
        from colbench.train.critic import candidate_mean_logps, critic_settings

        flat = load_jsonl(d / "candidates.jsonl", "candidates")
        model, tok = scoring_model(str(d / "critic"))
        candidate_mean_logps(model, tok, flat, input_format=critic_settings(d / "critic")["input_format"],
                             batch_size=8)
        meter.report(sum(len(tok(r["text"], add_special_tokens=False)["input_ids"]) for r in flat),
                     what="candidate tokens scored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
