"""Model SPECs resolve in one place (colbench.llm.specs), for agents and humans alike, to
clients that implement the whole ChatClient protocol."""

from __future__ import annotations

import inspect

import pytest

from colbench.agents import LLMAgent, resolve_agent
from colbench.errors import ColbenchError
from colbench.humans.llm import LLMCodeHuman
from colbench.humans.registry import resolve_human
from colbench.llm.base import ChatClient
from colbench.llm.hf import HFChat
from colbench.llm.openai_client import OpenAIChat
from colbench.llm.specs import client_from_toml, expand_env, resolve_client


@pytest.mark.parametrize("cls", [OpenAIChat, HFChat])
def test_every_client_implements_the_chat_client_protocol(cls):
    for method in ("chat", "check_reachable", "aclose"):
        assert inspect.iscoroutinefunction(getattr(cls, method)), f"{cls.__name__}.{method}"
    protocol = {n for n in vars(ChatClient) if not n.startswith("_")}
    assert protocol == {"chat", "check_reachable", "aclose"}


def test_agents_and_humans_resolve_the_same_definition(tmp_path, monkeypatch):
    monkeypatch.setenv("SPEC_TEST_MODEL", "served-model")
    toml = tmp_path / "m.toml"
    toml.write_text('name = "mine"\n[model]\nkind = "openai"\nname = "${SPEC_TEST_MODEL}"\n'
                    'base_url = "${SPEC_TEST_URL:-http://127.0.0.1:9/v1}"\n[sampling]\ntemperature = 0.5\n')
    agent = resolve_agent(str(toml))
    human = resolve_human(str(toml), "backend")
    assert isinstance(agent, LLMAgent) and isinstance(human, LLMCodeHuman)
    for client in (agent.client, human.client, resolve_client(str(toml)), client_from_toml(toml)):
        assert isinstance(client, OpenAIChat)
        assert (client.name, client.model, client.base_url) == ("mine", "served-model", "http://127.0.0.1:9/v1")
        assert client.sampling.temperature == 0.5


def test_expand_env_and_a_bad_definition_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.delenv("SPEC_TEST_UNSET", raising=False)
    assert expand_env("${SPEC_TEST_UNSET:-dflt}/x") == "dflt/x" and expand_env(3) == 3
    bad = tmp_path / "bad.toml"
    bad.write_text('[model]\nkind = "carrier-pigeon"\n')
    with pytest.raises(ColbenchError, match="unknown model kind"):
        resolve_client(str(bad), what="human")
