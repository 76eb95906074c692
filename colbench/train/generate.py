"""Candidate generation for the sample stage: one interface, two engines.

`transformers` generates with the model in this process (batched, `num_return_sequences`);
`vllm` (when installed) runs vLLM's offline engine, much faster on GPUs. Both render the
prompt with `colbench.llm.hf.render_prompt`, the same text evaluation sends, so candidates
come from the policy as it acts in `colbench eval`.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any, Protocol

from colbench.defaults import has_gpu, torch_device
from colbench.errors import ColbenchError
from colbench.llm.base import Message

log = logging.getLogger(__name__)


class Generator(Protocol):
    def generate(self, conversations: list[list[Message]], *, n: int, temperature: float, top_p: float,
                 max_new_tokens: int, seed: int) -> list[list[str]]:
        """n replies for each conversation."""
        ...

    def close(self) -> None: ...


class TransformersGenerator:
    def __init__(self, path: str, *, batch_size: int = 4, device: str | None = None):
        import torch

        from colbench.train.common import load_model

        self.device = device or torch_device()
        model, self.tokenizer = load_model(path, dtype=torch.bfloat16 if self.device == "cuda" else None)
        self.model = model.to(self.device).eval()
        self.batch_size = batch_size

    def generate(self, conversations: list[list[Message]], *, n: int, temperature: float, top_p: float,
                 max_new_tokens: int, seed: int) -> list[list[str]]:
        from colbench.llm.hf import generate_batch
        from colbench.train.common import chunks

        out: list[list[str]] = []
        for k, part in enumerate(chunks(conversations, self.batch_size)):
            out += generate_batch(self.model, self.tokenizer, part, n=n, temperature=temperature, top_p=top_p,
                                  max_new_tokens=max_new_tokens, seed=seed + k)
        return out

    def close(self) -> None:
        self.model = None


class VLLMGenerator:
    def __init__(self, path: str, *, seed: int = 0, **engine_args: Any):
        from vllm import LLM

        from colbench.train.common import load_tokenizer

        self.tokenizer = load_tokenizer(path)
        self.llm = LLM(model=path, tokenizer=path, seed=seed, **engine_args)

    def generate(self, conversations: list[list[Message]], *, n: int, temperature: float, top_p: float,
                 max_new_tokens: int, seed: int) -> list[list[str]]:
        from vllm import SamplingParams

        from colbench.llm.hf import render_prompt

        prompts = [render_prompt(self.tokenizer, c)[0] for c in conversations]
        params = SamplingParams(n=n, temperature=temperature, top_p=top_p, max_tokens=max_new_tokens, seed=seed)
        results = self.llm.generate(prompts, params, use_tqdm=False)
        return [[o.text for o in r.outputs] for r in results]

    def close(self) -> None:
        self.llm = None


def make_generator(path: str, engine: str = "auto", *, seed: int = 0, batch_size: int = 4) -> Generator:
    """`auto`: vLLM when it is installed and a GPU is present, transformers otherwise."""
    if engine not in ("auto", "transformers", "vllm"):
        raise ColbenchError(f"unknown generation engine {engine!r}: use auto, transformers or vllm")
    have_vllm = importlib.util.find_spec("vllm") is not None
    if engine == "vllm" and not have_vllm:
        raise ColbenchError("the vllm engine needs vLLM installed (pip install vllm)")
    if engine == "vllm" or (engine == "auto" and have_vllm and has_gpu()):
        log.info("generating with vLLM from %s", path)
        return VLLMGenerator(path, seed=seed)
    return TransformersGenerator(path, batch_size=batch_size)
