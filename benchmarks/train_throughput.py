"""Training throughput: tokens/s of a SWEET-RL critic step and actor step vs. plain SFT.

On a small model of a real architecture (Llama: --hidden, --layers, 32000-token vocabulary;
random weights, saved with save_pretrained into a temporary folder and loaded back through
colbench.train.common.prepare_model, as the trainers load a checkpoint), with random token
ids (no tokenizer is needed to measure speed), it times one optimizer step (forward,
backward, AdamW step, zero_grad, and the loss read back as the trainers log it) of:

  baseline  plain causal-LM SFT: model(input_ids, attention_mask, labels=input_ids).loss,
            the Hugging Face loss over every token;
  critic    the step of colbench.train.critic.train_critic: --batch trajectory pairs,
            chosen and rejected in one forward batch, each trajectory a prefix (reference
            solution and request, 1/4 of the tokens) then --turns agent turns separated by
            user replies; per-turn log-probability sums with the trainer's own helper
            (critic.turn_logp_sums: common.padded_token_logps + losses.turn_sums) against the
            frozen reference's (computed once, before timing, as the trainer does), scored as
            the released trainer does (one token-weighted mean log-ratio, times beta) into
            losses.bradley_terry_loss (critic.critic_pair_loss);
  actor     the step of colbench.train.policy.train_dpo: --batch action pairs, chosen and
            rejected in one forward batch, the prompt (3/4 of the tokens) masked and the
            reply trained; policy.example_logps into losses.dpo_loss (beta 0.1, NLL 0.01)
            against the reference log-probabilities computed once before timing
            (policy.dpo_pair_loss).
  All three take the optimizer step the trainers take (common.Training.update).

The step bodies themselves (a few lines inside the trainers' loops) are replicated here
around those functions, under the same make_accelerator / accelerator.prepare /
accelerator.accumulate / accelerator.backward as the trainers: bf16 autocast and gradient
checkpointing on CUDA, fp32 and no checkpointing on the CPU (TrainConfig's "auto").

Training tokens = every token of the forward batch: 2 x --batch sequences of --seq-len
tokens for all three (the sequences are full length, so there is no padding; masked prompt
and non-agent tokens count). Each step sees the same number of tokens, so the ratios
critic/baseline and actor/baseline compare the cost of the steps directly.

--warmup steps of each (untimed), then --repeat rounds, interleaved (baseline, critic,
actor, baseline, ...), each round timing --steps steps of each; medians are reported. One
model and one optimizer serve all three (the step's cost does not depend on the weights).

Run from the repository root (about 70 seconds on 2 CPU cores with the defaults; CUDA is
used when available, CUDA_VISIBLE_DEVICES= forces the CPU):

    .venv/bin/python benchmarks/train_throughput.py --json benchmarks/train_throughput.json
    .venv/bin/python benchmarks/train_throughput.py --hidden 2048 --layers 16 --seq-len 2048 --batch 4 --steps 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

VOCAB = 32000
PAD, EOS = 1, 2
TOKEN_DEFINITION = ("training tokens = all tokens of the forward batch (2 x batch sequences x seq-len; "
                    "no padding; prompt and non-agent tokens included)")


def build_checkpoint(directory: Path, args: argparse.Namespace) -> Path:
    """A Llama with random weights and a stub tokenizer (pad and eos only), saved as a checkpoint."""
    import torch
    from tokenizers import Tokenizer, models
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({"<unk>": 0, "<pad>": PAD, "</s>": EOS}, unk_token="<unk>"))
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                            eos_token="</s>").save_pretrained(directory)
    intermediate = args.intermediate or int(round(args.hidden * 8 / 3 / 32)) * 32  # Llama's ~8/3 x, rounded
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=args.hidden, intermediate_size=intermediate,
                         num_hidden_layers=args.layers, num_attention_heads=args.heads,
                         num_key_value_heads=args.heads, max_position_embeddings=max(4096, args.seq_len),
                         pad_token_id=PAD, eos_token_id=EOS, bos_token_id=None)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(directory)
    return directory


def critic_marks(length: int, turns: int) -> list[int]:
    """Agent-turn number of each token: a prefix (1/4), then agent 1, user, agent 2, ..., agent K."""
    prefix = length // 4
    segments = 2 * turns - 1
    out = [0] * prefix
    for s in range(segments):
        n = (length - prefix) // segments + (1 if s < (length - prefix) % segments else 0)
        out += [s // 2 + 1 if s % 2 == 0 else 0] * n
    return out


def actor_marks(length: int) -> list[int]:
    """The prompt (3/4, masked), then the reply (trained)."""
    prompt = length - max(1, length // 4)
    return [0] * prompt + [1] * (length - prompt)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", type=int, default=512, help="hidden size (default 512)")
    ap.add_argument("--intermediate", type=int, default=0, help="MLP size (default: ~8/3 x hidden, 1376 for 512)")
    ap.add_argument("--layers", type=int, default=8, help="decoder layers (default 8)")
    ap.add_argument("--heads", type=int, default=8, help="attention heads (default 8)")
    ap.add_argument("--seq-len", type=int, default=256, help="tokens per sequence (default 256)")
    ap.add_argument("--batch", type=int, default=2,
                    help="pairs per step; the forward batch is 2 x this many sequences (default 2)")
    ap.add_argument("--turns", type=int, default=3, help="agent turns per critic trajectory (default 3)")
    ap.add_argument("--lora-r", type=int, default=0, help="LoRA rank (default 0: full fine-tuning)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps of each, first (default 1)")
    ap.add_argument("--steps", type=int, default=1, help="timed steps of each per round (default 1)")
    ap.add_argument("--repeat", type=int, default=7,
                    help="rounds, interleaved (baseline, critic, actor, ...), medians reported (default 7)")
    ap.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    args = ap.parse_args(argv)
    if args.seq_len < 4 * (2 * args.turns - 1):
        ap.error(f"--seq-len must be at least {4 * (2 * args.turns - 1)} for {args.turns} turns")

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # transformers 5 renames (gradient -> activation checkpointing), warned by prepare_model and peft
    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
    import torch
    import transformers

    from colbench.train.common import Training, TrainConfig
    from colbench.train.critic import critic_pair_loss, turn_logp_sums
    from colbench.train.policy import dpo_pair_loss, example_logps

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    cfg = TrainConfig(lr=2e-7, batch_size=args.batch, max_length=args.seq_len, lora_r=args.lora_r)
    # The trainers' own set-up and optimizer step (Training), one process: one forward batch per step.
    with tempfile.TemporaryDirectory(prefix="colbench-train-bench-") as tmp:
        run = Training(str(build_checkpoint(Path(tmp) / "model", args)), cfg, args.batch, Path(tmp) / "out", "bench")
    assert run.micro == args.batch
    accelerator, model = run.accelerator, run.model
    n_params = sum(p.numel() for p in model.parameters())
    n_trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
    device = accelerator.device
    pad = run.tokenizer.pad_token_id
    assert pad == PAD

    b, length = args.batch, args.seq_len
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(3, VOCAB, (2 * b, length), generator=gen)  # chosen 0..b-1, then rejected
    ids[:, -1] = EOS
    rows = ids.tolist()
    cmarks, amarks = critic_marks(length, args.turns), actor_marks(length)
    critic_seqs = [(r, cmarks) for r in rows]
    actor_examples = [[(r, amarks)] for r in rows]
    tokens_per_step = 2 * b * length
    beta, nll = 0.1, 0.01

    # The frozen references, computed once before training, as the trainers do.
    critic_ref = run.frozen(len(critic_seqs), lambda idx: turn_logp_sums(model, [critic_seqs[i] for i in idx], pad,
                                                                         args.turns)[0])
    actor_ref = run.frozen(len(actor_examples), lambda idx: example_logps(model, [actor_examples[i] for i in idx],
                                                                          pad)[0])
    sft_ids = ids.to(device)
    sft_mask = torch.ones_like(sft_ids)

    def baseline_step() -> float:
        return run.update(lambda: (model(input_ids=sft_ids, attention_mask=sft_mask, labels=sft_ids).loss, {}))[0].item()

    def critic_step() -> float:  # train_critic's step
        return run.update(lambda: (critic_pair_loss(model, critic_seqs, critic_ref, pad, args.turns, beta), {}))[0].item()

    def actor_step() -> float:  # train_dpo's step
        return run.update(lambda: dpo_pair_loss(model, actor_examples[:b], actor_examples[b:], actor_ref[:b],
                                                actor_ref[b:], pad, beta=beta, nll=nll))[0].item()

    methods = [("baseline", "baseline: plain SFT (HF causal-LM loss)", baseline_step),
               ("critic", "critic: Bradley-Terry, token-mean log-ratios", critic_step),
               ("actor", "actor: DPO + NLL, prompt masked", actor_step)]
    cuda = device.type == "cuda"

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    peak: dict[str, float] = {}
    for key, _, step in methods:
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        for _ in range(args.warmup):
            step()
        sync()
        if cuda:
            peak[key] = torch.cuda.max_memory_allocated() / 2**30

    times: dict[str, list[float]] = {key: [] for key, _, _ in methods}  # seconds per step, one per round
    losses: dict[str, float] = {}
    for _ in range(max(1, args.repeat)):
        for key, _, step in methods:
            sync()
            t0 = time.perf_counter()
            for _ in range(max(1, args.steps)):
                losses[key] = step()
            sync()
            times[key].append((time.perf_counter() - t0) / max(1, args.steps))

    rows_out = []
    for key, label, _ in methods:
        runs = [tokens_per_step / t for t in times[key]]
        rows_out.append({"key": key, "method": label, "tokens_per_step": tokens_per_step,
                         "seconds_per_step": statistics.median(times[key]),
                         "tokens_per_s": statistics.median(runs), "runs_tokens_per_s": runs,
                         "last_loss": losses[key], **({"peak_gib": peak[key]} if cuda else {})})
    base = rows_out[0]["tokens_per_s"]
    for r in rows_out:
        r["ratio_to_baseline"] = r["tokens_per_s"] / base
        # The same ratio within each round (its three steps ran back to back): a slow spell of
        # a shared machine that spans rounds cancels out.
        r["round_ratios"] = [tb / t for tb, t in zip(times["baseline"], times[r["key"]])]

    if cuda:
        device_name = f"cuda ({torch.cuda.get_device_name(device)}), {accelerator.mixed_precision} autocast"
    else:
        device_name = f"cpu ({torch.get_num_threads()} threads), fp32"
    # What prepare_model set (on with CUDA): the decoder's flag, found through a LoRA wrapper too.
    checkpointing = any(getattr(m, "gradient_checkpointing", False) is True
                        for m in accelerator.unwrap_model(model).modules())
    gc = "on" if checkpointing else "off"
    print(f"device: {device_name}; gradient checkpointing {gc}")
    print(f"model: Llama, hidden {args.hidden}, {args.layers} layers, vocab {VOCAB}, random weights; "
          f"{n_params / 1e6:.1f}M parameters, {n_trained / 1e6:.2f}M trained"
          + (f" (LoRA r={args.lora_r})" if args.lora_r else ""))
    print(f"step: {b} pairs = {2 * b} sequences x {length} tokens = {tokens_per_step} tokens; critic: "
          f"{args.turns} agent turns per trajectory; {args.warmup} warm-up step(s) each, then {args.repeat} "
          f"interleaved rounds of {args.steps} step(s) each; medians")
    print(TOKEN_DEFINITION)
    width = max(len(r["method"]) for r in rows_out)
    mem = "  peak GiB" if cuda else ""
    print(f"{'method':<{width}}  {'s/step':>7}  {'tokens/s':>9}  {'x baseline':>10}{mem}  runs (tokens/s)")
    for r in rows_out:
        extra = f"  {r['peak_gib']:>8.2f}" if cuda else ""
        print(f"{r['method']:<{width}}  {r['seconds_per_step']:>7.3f}  {r['tokens_per_s']:>9.1f}  "
              f"{r['ratio_to_baseline']:>9.2f}x{extra}  {', '.join(f'{x:.0f}' for x in r['runs_tokens_per_s'])}")
    by = {r["key"]: r for r in rows_out}
    print(f"critic / baseline: {by['critic']['ratio_to_baseline']:.2f}x tokens/s; "
          f"actor / baseline: {by['actor']['ratio_to_baseline']:.2f}x tokens/s")
    for key in ("critic", "actor"):
        rr = by[key]["round_ratios"]
        print(f"  {key} / baseline within each round: median {statistics.median(rr):.2f}x, "
              f"range {min(rr):.2f}x to {max(rr):.2f}x")

    if args.json:
        out = {"python": platform.python_version(), "torch": torch.__version__,
               "transformers": transformers.__version__, "cpus": os.cpu_count(),
               "torch_threads": torch.get_num_threads(), "device": device_name, "gradient_checkpointing": gc,
               "model": {"architecture": "LlamaForCausalLM", "hidden": args.hidden, "layers": args.layers,
                         "heads": args.heads, "vocab": VOCAB, "parameters": n_params, "trained": n_trained,
                         "lora_r": args.lora_r},
               "batch_pairs": b, "seq_len": length, "turns": args.turns, "tokens_per_step": tokens_per_step,
               "token_definition": TOKEN_DEFINITION, "warmup": args.warmup, "steps": args.steps,
               "repeat": args.repeat, "methods": rows_out,
               "ratios": {"critic_over_baseline": by["critic"]["ratio_to_baseline"],
                          "actor_over_baseline": by["actor"]["ratio_to_baseline"],
                          "critic_over_baseline_round_median": statistics.median(by["critic"]["round_ratios"]),
                          "actor_over_baseline_round_median": statistics.median(by["actor"]["round_ratios"])}}
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
