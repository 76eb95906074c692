"""Resolving a human SPEC: `offline`, or a model SPEC (`openai:MODEL`, `hf:PATH`, a TOML file or a
name in agents/) resolved by colbench.llm.specs, as agents' are.

Backend humans answer from the reference function (LLM or offline); frontend humans
compare the agent's rendered page with the reference page (VLM or offline)."""

from __future__ import annotations

from colbench.humans.base import Human

DEFAULT_HUMAN = {"backend": "llama-3.1-70b-instruct", "frontend": "qwen2-vl-72b-instruct"}


def resolve_human(spec: str | None, split: str, *, base_url: str | None = None) -> Human:
    spec = spec or DEFAULT_HUMAN[split]
    if spec == "offline":
        if split == "frontend":
            from colbench.humans.offline.design import OfflineDesignHuman
            return OfflineDesignHuman()
        from colbench.humans.offline import OfflineCodeHuman
        return OfflineCodeHuman()
    from colbench.llm.specs import resolve_client
    client = resolve_client(spec, base_url=base_url, what="human")
    if split == "frontend":
        from colbench.humans.vlm import VLMDesignHuman
        return VLMDesignHuman(client)
    from colbench.humans.llm import LLMCodeHuman
    return LLMCodeHuman(client)
