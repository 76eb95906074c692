"""A local transformers chat model: concurrent episodes share batched generation.

Every `chat` call joins a queue; one worker takes up to `max_batch` waiting requests at a
time and generates for them together (left-padded), in a thread so the event loop keeps
running the other episodes. The model loads on first use, never at import.

Seeds: a sampled reply depends only on its conversation and its seed (each episode passes
its own), never on which requests shared its batch. Greedy decoding (temperature 0) draws
nothing at random, so its requests are generated together; when sampling, a request with a
seed is generated alone, seeded with it (rows sampled together share one random stream, so
each would depend on its batch mates), and requests without one are generated together.
Sampling with a seed therefore trades batching for reproducibility.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from typing import Any

from colbench.defaults import torch_device
from colbench.errors import ColbenchError
from colbench.llm.base import LLMError, Message, cost_of, model_label, record_usage

log = logging.getLogger(__name__)

# transformers samples from torch's global random generator: one sampled generation at a time
# in this process (the agent's and the human's clients may run in two threads), so that a
# seed set for a generation is the seed it samples with.
_SAMPLING = threading.Lock()

_Request = tuple[list[Message], int | None, asyncio.Future]


class HFChat:
    def __init__(self, path: str, *, temperature: float = 0.0, max_tokens: int = 1024, top_p: float | None = None,
                 max_batch: int = 8, device: str | None = None, role: str | None = None):
        self.path = str(Path(path).expanduser()) if path.startswith("~") else path
        self.name = f"hf:{path}"
        self.role = role  # "agent" or "human": errors name it
        self.pricing: dict[str, float] | None = None  # a definition's [pricing], for the cost of calls
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.top_p = top_p
        self.max_batch = max_batch
        self.device = device
        self.batch_sizes: list[int] = []  # sizes of the batches generated so far
        self._queue: list[_Request] = []
        self._worker: asyncio.Task | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._load_lock = asyncio.Lock()

    def _who(self) -> str:
        """The start of an error message: the human model (NAME, local)."""
        return model_label(self.role, f"{self.name}, local")

    def check_local(self) -> None:
        """A one-sentence error when the path holds no model (nothing is downloaded at test time)."""
        p = Path(self.path).expanduser()
        if p.exists() and not (p / "config.json").is_file():
            raise ColbenchError(f"{self._who()}: {self.path} has no config.json, so it is not a transformers model "
                                "directory")
        looks_local = p.is_absolute() or self.path.startswith(".") or "/" not in self.path.strip("/")
        if not p.exists() and looks_local:
            raise ColbenchError(f"{self._who()}: the local model directory {self.path} does not exist")

    async def check_reachable(self) -> None:
        """Loads the model now, so a missing or broken one is one sentence before any work."""
        try:
            await self._load()
        except LLMError as exc:
            raise ColbenchError(str(exc)) from exc

    async def chat(self, messages: list[Message], *, seed: int | None = None) -> str:
        """The reply. What it cost (its prompt's tokens without padding, the tokens generated
        up to the end of sequence, the seconds from the request to its reply, the price under
        `pricing`) goes to the current meter (base.record_usage), here in the caller's task:
        the batches are generated in the worker's."""
        start = time.perf_counter()
        fut = asyncio.get_running_loop().create_future()
        self._queue.append((messages, seed, fut))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._serve())
        prompt_tokens = completion_tokens = None
        try:
            text, prompt_tokens, completion_tokens = await fut
            return text
        finally:
            record_usage(prompt_tokens, completion_tokens, time.perf_counter() - start,
                         cost=cost_of(self.pricing, prompt_tokens, completion_tokens))

    async def _serve(self) -> None:
        await self._load()
        while self._queue:
            await asyncio.sleep(0.005)  # let episodes that are about to ask join this batch
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch:]
            for group, seed in self._groups(batch):
                try:
                    texts = await asyncio.to_thread(self._generate, [m for m, _, _ in group], seed)
                except Exception as exc:  # a failed batch fails its requests, not the worker
                    for _, _, fut in group:
                        if not fut.done():
                            why = f"{type(exc).__name__}: {exc}"
                            fut.set_exception(LLMError(f"{self._who()} failed to generate: {why}"))
                    continue
                self.batch_sizes.append(len(group))
                for (_, _, fut), reply in zip(group, texts):
                    if not fut.done():
                        fut.set_result(reply)  # (text, prompt tokens, completion tokens)

    def _groups(self, batch: list[_Request]) -> list[tuple[list[_Request], int | None]]:
        """The generations that answer a batch of requests, each with the seed it samples
        with: all together when decoding is greedy; when sampling, each seeded request
        alone with its seed, and the unseeded ones together (see the module's docstring)."""
        if self.temperature <= 0:
            return [(batch, None)]
        unseeded = [r for r in batch if r[1] is None]
        return [([r], r[1]) for r in batch if r[1] is not None] + ([(unseeded, None)] if unseeded else [])

    async def _load(self) -> None:
        async with self._load_lock:
            if self._model is None:
                try:
                    self._model, self._tokenizer = await asyncio.to_thread(self._load_sync)
                except (OSError, ValueError) as exc:
                    first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
                    err = LLMError(f"{self._who()}: cannot load {self.path} ({first}); pass a local directory saved "
                                   "with save_pretrained, or download the hub model first (huggingface-cli download)")
                    for _, _, fut in self._queue:
                        if not fut.done():
                            fut.set_exception(err)
                    self._queue.clear()
                    raise err from exc

    def _load_sync(self):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        # Local files only (a directory, or the Hugging Face cache): evaluation never
        # downloads; fetch a hub model first (huggingface-cli download) if needed.
        tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        device = self.device or torch_device()
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        model = AutoModelForCausalLM.from_pretrained(self.path, dtype=dtype, local_files_only=True).to(device)
        model.eval()
        log.info("loaded %s on %s", self.path, device)
        return model, tokenizer

    def _generate(self, conversations: list[list[Message]], seed: int | None) -> list[tuple[str, int, int]]:
        counts: list[tuple[int, int]] = []
        texts = generate_batch(self._model, self._tokenizer, conversations, n=1, temperature=self.temperature,
                               top_p=self.top_p, max_new_tokens=self.max_tokens, seed=seed, token_counts=counts)
        return [(t[0], *c) for t, c in zip(texts, counts)]

    async def aclose(self) -> None:
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()


def render_prompt(tokenizer: Any, messages: list[Message]) -> tuple[str, bool]:
    """The text a local model continues for this chat, and whether tokenizing it should add
    special tokens. One home for this, so training sees exactly what evaluation sends."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True), False
    # No chat template (a bare tokenizer): a plain transcript the model continues.
    return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:", True


def generate_batch(model: Any, tokenizer: Any, conversations: list[list[Message]], *, n: int = 1,
                   temperature: float = 0.0, top_p: float | None = None, max_new_tokens: int = 1024,
                   seed: int | None = None, token_counts: list[tuple[int, int]] | None = None) -> list[list[str]]:
    """n replies per conversation, generated together (left-padded). Sampling is seeded once
    per call (`seed`), so a reply depends on the whole call: HFChat seeds a conversation by
    generating it alone. Greedy decoding (temperature 0) draws nothing at random.
    `token_counts`, when given, gets (prompt tokens without padding, tokens generated up to
    and including the first end of sequence) for each reply, in the order of the replies."""
    import torch

    rendered = [render_prompt(tokenizer, c) for c in conversations]
    padding_side, tokenizer.padding_side = tokenizer.padding_side, "left"  # generation continues on the right
    try:
        enc = tokenizer([text for text, _ in rendered], return_tensors="pt", padding=True,
                        add_special_tokens=rendered[0][1]).to(model.device)
    finally:
        tokenizer.padding_side = padding_side
    kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "pad_token_id": tokenizer.pad_token_id,
                              "num_return_sequences": n}
    if temperature > 0:
        kwargs.update(do_sample=True, temperature=temperature)
        if top_p is not None:
            kwargs["top_p"] = top_p
    else:
        kwargs["do_sample"] = False
    with torch.no_grad():
        if temperature > 0:
            with _SAMPLING:
                if seed is not None:
                    torch.manual_seed(seed)
                out = model.generate(**enc, **kwargs)
        else:
            out = model.generate(**enc, **kwargs)
    new = out[:, enc["input_ids"].shape[1]:]
    texts = [tokenizer.decode(row, skip_special_tokens=True) for row in new]
    if token_counts is not None:
        prompt_lengths, eos = enc["attention_mask"].sum(dim=1).tolist(), _eos_ids(model, tokenizer)
        token_counts.extend((int(prompt_lengths[i // n]), _generated_length(row.tolist(), eos))
                            for i, row in enumerate(new))
    return [texts[i * n:(i + 1) * n] for i in range(len(conversations))]


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    """The tokens that end a generation: the model's generation config's and the tokenizer's."""
    ids = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    found = set(ids if isinstance(ids, (list, tuple)) else [] if ids is None else [ids])
    if tokenizer.eos_token_id is not None:
        found.add(tokenizer.eos_token_id)
    return {int(i) for i in found}


def _generated_length(row: list[int], eos: set[int]) -> int:
    """Tokens a row generated: up to and including its first end of sequence (the padding
    after it, where batch mates generated on, is not the row's), else all of them."""
    return next((i + 1 for i, token in enumerate(row) if token in eos), len(row))
