"""What the training stages share: loading a checkpoint for training (LoRA optional),
the accelerate set-up (bf16 and gradient checkpointing on GPU; DeepSpeed / FSDP through
`accelerate launch --config_file configs/accelerate/...`), saving a checkpoint that
`colbench eval --agent hf:DIR` loads, the step log, and batched log-probabilities.

The frozen reference model of every stage is the starting checkpoint itself: its
log-probabilities are computed once, before the first update, and kept. The same numbers
as a second frozen copy, without holding one in memory (which also makes ZeRO-3 and LoRA
simple: nothing but the trained model is ever sharded or adapted).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from colbench.defaults import has_gpu, torch_device
from colbench.errors import ColbenchError
from colbench.jsonl import parse_object, read_lines



# Token budgets of the released trainer (collab_openrlhf): the critic's input (reference
# solution and dialogue) and the actor's (prompt and reply).
CRITIC_MAX_LENGTH = 8192
ACTOR_MAX_LENGTH = 16384


@dataclass
class TrainConfig:
    """Settings every training stage shares. `batch_size` is the global batch per optimizer
    step; `micro_batch_size` is what one process runs at once (gradients accumulate)."""
    lr: float = 2e-7
    epochs: int = 1
    batch_size: int = 8
    micro_batch_size: int = 0  # 0: the whole batch at once
    max_length: int = ACTOR_MAX_LENGTH
    seed: int = 0
    lora_r: int = 0  # 0: full fine-tuning; > 0: LoRA adapters of this rank (peft), merged on save
    lora_alpha: int = 16
    gradient_checkpointing: str = "auto"  # auto: on when training on a GPU
    precision: str = "auto"  # auto: bf16 on GPU (or what `accelerate launch` set), fp32 on CPU
    # "released" (the released trainer): AdamW with betas (0.9, 0.95) and no weight decay, a
    # cosine schedule from 3% warm-up steps down to 0.1 x lr, gradients clipped to norm 1.0;
    # "constant": AdamW with torch's defaults at a constant lr, no clipping.
    optimizer: str = "released"


OPTIMIZERS = ("released", "constant")


def load_jsonl(path: str | Path, what: str) -> list[dict[str, Any]]:
    _, lines = read_lines(Path(path), what)
    rows = [parse_object(l, f"{path} line {n}") for n, l in enumerate(lines, 1) if l.strip()]
    if not rows:
        raise ColbenchError(f"{what} {path} is empty")
    return rows


def task_with_reference(tasks: dict[str, Any], task_id: str, run_dir: Any, config: dict[str, Any]) -> Any:
    """A run's task, which must carry its reference solution: the critic's training-time input."""
    task = tasks.get(task_id)
    if task is None or not task.ground_truth.strip():
        raise ColbenchError(f"task {task_id!r} of {run_dir} has no reference solution in {config['tasks_path']}")
    return task


def load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ColbenchError(f"cannot read the checkpoint {path}: {_first_line(exc)}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    return tokenizer


def load_model(path: str, *, dtype: Any = None) -> tuple[Any, Any]:
    """A causal LM and its tokenizer from a local checkpoint; one sentence when unreadable."""
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(path)
    try:
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True,
                                                     **({"dtype": dtype} if dtype is not None else {}))
    except (OSError, ValueError, RuntimeError) as exc:
        raise ColbenchError(f"cannot read the checkpoint {path}: {_first_line(exc)}") from exc
    return model, tokenizer


def scoring_model(path: str) -> tuple[Any, Any]:
    """A checkpoint loaded to score text (no training): on the GPU in bf16 when there is
    one, in fp32 on the CPU; in eval mode."""
    import torch

    model, tokenizer = load_model(path, dtype=torch.bfloat16 if has_gpu() else None)
    return model.to(torch_device()).eval(), tokenizer


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def make_accelerator(cfg: TrainConfig) -> tuple[Any, int]:
    """The Accelerator, and the micro-batch per process. `batch_size` stays the global batch
    per optimizer step whatever the number of processes: gradients accumulate to reach it."""
    from accelerate import Accelerator, PartialState

    precision = cfg.precision
    if precision == "auto":
        # `accelerate launch` passes its config's precision through the environment.
        precision = os.environ.get("ACCELERATE_MIXED_PRECISION") or ("bf16" if has_gpu() else "no")
    # Several processes (torchrun) without a GPU are DDP over gloo: accelerate needs telling
    # (else each process thinks it is alone). One process picks its device as accelerate does.
    cpu = int(os.environ.get("WORLD_SIZE", "1")) > 1 and not has_gpu()
    processes = PartialState(cpu=cpu).num_processes
    micro = min(cfg.micro_batch_size or cfg.batch_size, max(1, cfg.batch_size // processes))
    accumulation = max(1, cfg.batch_size // (micro * processes))
    return Accelerator(cpu=cpu, mixed_precision=precision, gradient_accumulation_steps=accumulation), micro


def prepare_model(path: str, cfg: TrainConfig, accelerator: Any) -> tuple[Any, Any]:
    """The model to train (LoRA-wrapped when asked), gradient checkpointing on GPU."""

    model, tokenizer = load_model(path)
    checkpointing = cfg.gradient_checkpointing == "on" or (cfg.gradient_checkpointing == "auto"
                                                           and has_gpu())
    if checkpointing:
        model.gradient_checkpointing_enable()
        model.config.use_cache = False
        if cfg.lora_r > 0:  # frozen embeddings: reentrant checkpointing (older transformers) needs this
            model.enable_input_require_grads()
    if cfg.lora_r > 0:
        try:
            from peft import LoraConfig, get_peft_model
        except ImportError as exc:
            raise ColbenchError("LoRA needs peft: pip install 'colbench[train]'") from exc
        model = get_peft_model(model, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, task_type="CAUSAL_LM",
                                                 target_modules="all-linear"))
    return model, tokenizer


def save_checkpoint(accelerator: Any, model: Any, tokenizer: Any, out: Path, *, base_path: str, lora: bool) -> None:
    """A plain transformers checkpoint (LoRA adapters merged into the base), so the result is
    an agent as it is: `colbench eval --agent hf:OUT`."""
    accelerator.wait_for_everyone()
    unwrapped = accelerator.unwrap_model(model)
    state = accelerator.get_state_dict(model)  # gathered across processes under ZeRO-3 / FSDP
    if not lora:
        unwrapped.save_pretrained(out, is_main_process=accelerator.is_main_process, save_function=accelerator.save,
                                  state_dict=state)
    else:
        adapter = out / "adapter"
        unwrapped.save_pretrained(adapter, is_main_process=accelerator.is_main_process,
                                  save_function=accelerator.save, state_dict=state)
        if accelerator.is_main_process:
            from peft import PeftModel

            base, _ = load_model(base_path)
            PeftModel.from_pretrained(base, adapter).merge_and_unload().save_pretrained(out)
    if accelerator.is_main_process:
        tokenizer.save_pretrained(out)
    accelerator.wait_for_everyone()


class Training:
    """One stage's training run: the model (LoRA and checkpointing as configured), AdamW and
    a sharded loader of example indices, prepared by accelerate. `fit(step)` runs the epochs
    (step: a micro-batch of indices -> loss and values to log), logs every optimizer step to
    `<stage>_log.jsonl`, and saves the checkpoint."""

    def __init__(self, base_model: str, cfg: TrainConfig, n_examples: int, out_dir: str | Path, stage: str):
        import torch

        if cfg.optimizer not in OPTIMIZERS:
            raise ColbenchError(f"unknown optimizer recipe {cfg.optimizer!r}; use {' or '.join(OPTIMIZERS)}")
        self.cfg, self.base_model = cfg, base_model
        self.accelerator, self.micro = make_accelerator(cfg)
        torch.manual_seed(cfg.seed)
        model, self.tokenizer = prepare_model(base_model, cfg, self.accelerator)
        params = [p for p in model.parameters() if p.requires_grad]
        released = cfg.optimizer == "released"
        optim = (torch.optim.AdamW(params, lr=cfg.lr, betas=(0.9, 0.95), weight_decay=0.0) if released
                 else torch.optim.AdamW(params, lr=cfg.lr))
        self.model, self.optim, self.loader = self.accelerator.prepare(
            model, optim, index_loader(n_examples, self.micro, cfg.seed))
        self.clip = 1.0 if released else None
        # Stepped here once per optimizer step (not handed to accelerate, which would step it
        # once per process), sized on the optimizer steps as they will run: this process's
        # micro-batches over the accumulation (which need not divide batch_size exactly).
        per_epoch = math.ceil(len(self.loader) / self.accelerator.gradient_accumulation_steps)
        self.schedule = lr_schedule(self.optim, cfg.epochs * per_epoch, released)
        self.last_lr = cfg.lr  # the learning rate of the optimizer step just taken
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.log_path = self.out / f"{stage}_log.jsonl"

    def frozen(self, n: int, rows: Any) -> Any:
        """The frozen reference: `rows(indices)` (a tensor, one row per index) for indices
        0..n-1 with the starting weights and no gradients. Each process computes an equal
        share, in micro-batches (under ZeRO-3 every process must run as many forward passes),
        and the shares are gathered, so every process holds all n rows."""
        import torch

        acc = self.accelerator
        mine = list(share(n, acc.process_index, acc.num_processes))
        per = math.ceil(n / acc.num_processes)
        mine += [mine[-1] if mine else 0] * (per - len(mine))  # padding rows, dropped below
        self.model.eval()
        with torch.no_grad():
            computed = torch.cat([rows(part) for part in chunks(mine, self.micro)])
        self.model.train()
        return acc.gather(computed)[:n] if acc.num_processes > 1 else computed

    def update(self, loss_fn: Any) -> Any:
        """One micro-batch: `loss_fn()` -> (loss, extra), backward, and the optimizer step
        once gradients have accumulated over the batch."""
        acc = self.accelerator
        with acc.accumulate(self.model):
            loss, extra = loss_fn()
            acc.backward(loss)
            if acc.sync_gradients and self.clip is not None:
                acc.clip_grad_norm_(self.model.parameters(), self.clip)
            self.optim.step()
            self.optim.zero_grad()
            if acc.sync_gradients:
                self.last_lr = self.schedule.get_last_lr()[0]
                self.schedule.step()
        return loss, extra

    def fit(self, step: Any) -> list[dict[str, Any]]:
        acc = self.accelerator
        steps = StepLog(self.log_path, enabled=acc.is_main_process)
        pending: list[dict[str, float]] = []
        for epoch in range(self.cfg.epochs):
            for idx in self.loader:
                loss, extra = self.update(lambda: step(idx))
                values = {"loss": loss, **extra}
                pending.append({k: acc.gather(v.detach().reshape(-1)).float().mean().item() for k, v in values.items()})
                if acc.sync_gradients:  # one log line per optimizer step, averaged over its micro-batches
                    steps.write(epoch=epoch, step=len(steps.rows) + 1, lr=self.last_lr,
                                **{k: sum(p[k] for p in pending) / len(pending) for k in pending[0]})
                    pending = []
        steps.close()
        save_checkpoint(acc, self.model, self.tokenizer, self.out, base_path=self.base_model, lora=self.cfg.lora_r > 0)
        return steps.rows


def lr_schedule(optim: Any, steps: int, released: bool) -> Any:
    """The released trainer's schedule (transformers' cosine_with_min_lr: linear warm-up over
    ceil(3%) of the steps, then a half cosine down to 0.1 x lr), or a constant lr."""
    from transformers import get_scheduler

    if not released:
        return get_scheduler("constant", optim)
    return get_scheduler("cosine_with_min_lr", optim, num_warmup_steps=math.ceil(0.03 * steps),
                         num_training_steps=steps, scheduler_specific_kwargs={"min_lr_rate": 0.1})


class StepLog:
    """`<stage>_log.jsonl` in the output directory: one line per optimizer step."""

    def __init__(self, path: Path, enabled: bool = True):
        self.path = path
        self.rows: list[dict[str, Any]] = []
        self._file = open(path, "w", encoding="utf-8") if enabled else None

    def write(self, **row: Any) -> None:
        self.rows.append(row)
        if self._file is not None:
            self._file.write(json.dumps(row) + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def index_loader(n: int, micro_batch: int, seed: int) -> Any:
    """Shuffled batches of example indices (a new order each epoch, the same for a seed);
    prepared with the model, so accelerate shards them across processes and DeepSpeed
    learns the micro-batch size from it."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    indices: Any = list(range(n))  # a list is a map-style dataset to DataLoader
    return torch.utils.data.DataLoader(indices, batch_size=micro_batch, shuffle=True, generator=gen,
                                       collate_fn=list)


def share(n: int, k: int, parts: int) -> range:
    """The k-th of `parts` contiguous shares of 0..n-1, all of ceil(n / parts) but the last."""
    per = math.ceil(n / parts)
    return range(min(n, k * per), min(n, (k + 1) * per))


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def padded_token_logps(model: Any, sequences: list[tuple[list[int], list[int]]], pad_id: int) -> tuple[Any, Any]:
    """Right-padded forward pass: (B, T-1) log p of each token given the ones before it, and
    the marks (B, T-1) of the predicted tokens (0 on padding and unmarked tokens)."""
    import torch

    from colbench.train.losses import token_logps

    device = next(model.parameters()).device
    width = max(len(ids) for ids, _ in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    marks = torch.zeros((len(sequences), width), dtype=torch.long)
    attn = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, (x, m) in enumerate(sequences):
        ids[i, : len(x)] = torch.tensor(x)
        marks[i, : len(m)] = torch.tensor(m)
        attn[i, : len(x)] = 1
    ids, marks, attn = ids.to(device), marks.to(device), attn.to(device)
    logits = model(input_ids=ids, attention_mask=attn).logits[:, :-1]
    return token_logps(logits, ids[:, 1:]), marks[:, 1:] * attn[:, 1:]
