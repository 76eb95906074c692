"""Resolving a human SPEC: `offline`, `openai:MODEL`, a TOML file or a name in agents/.

Backend humans answer from the reference function (LLM or offline); frontend humans
compare the agent's rendered page with the reference page (VLM or offline)."""

from __future__ import annotations

from typing import Any

DEFAULT_HUMAN = {"backend": "llama-3.1-70b-instruct", "frontend": "qwen2-vl-72b-instruct"}


def resolve_human(spec: str | None, split: str, *, base_url: str | None = None) -> Any:
    spec = spec or DEFAULT_HUMAN[split]
    if spec == "offline":
        if split == "frontend":
            from colbench.humans.offline.design import OfflineDesignHuman
            return OfflineDesignHuman()
        from colbench.humans.offline import OfflineCodeHuman
        return OfflineCodeHuman()
    from colbench.agents import resolve_client
    client = resolve_client(spec, base_url=base_url, what="human")
    if split == "frontend":
        from colbench.humans.vlm import VLMDesignHuman
        return VLMDesignHuman(client)
    from colbench.humans.llm import LLMCodeHuman
    return LLMCodeHuman(client)
