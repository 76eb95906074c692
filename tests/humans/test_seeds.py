"""Seeds reach every player: the model-backed humans sample with the episode's human seed,
which differs from the agent's and from episode to episode (the sweet_rl humans take it and
send none, as the original's requests had none)."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from helpers import backend_task

from colbench.agents import LLMAgent
from colbench.episode import human_seed, run_episode
from colbench.humans.llm import LLMCodeHuman
from colbench.humans.offline import OfflineCodeHuman, OfflineDesignHuman
from colbench.humans.sweet_rl import SweetRLCodeHuman, SweetRLDesignHuman
from colbench.humans.vlm import VLMDesignHuman
from colbench.render import PageSnapshot

TASK = backend_task("def f(x):\n    return x + 1\n", ["f(1) == 2"])


class Recording:
    """A chat client that records each call's seed and answers from a list (the last repeats)."""

    def __init__(self, replies: list[str]):
        self.name = "recording"
        self.replies = replies
        self.seeds: list[int | None] = []
        self.closed = False

    async def chat(self, messages, *, seed=None) -> str:
        self.seeds.append(seed)
        return self.replies[min(len(self.seeds), len(self.replies)) - 1]

    async def check_reachable(self) -> None:
        pass

    async def aclose(self) -> None:
        self.closed = True


def play(seed: int) -> tuple[Recording, Recording]:
    agent_client = Recording(["What should f(0) return?", "I WANT TO ANSWER: def f(x):\n    return x + 1\n"])
    human_client = Recording(["It should return 1."])
    ep = asyncio.run(run_episode(TASK, LLMAgent(agent_client), LLMCodeHuman(human_client), seed=seed))
    assert ep.status == "ok" and ep.answered
    return agent_client, human_client


def test_the_llm_human_samples_with_the_episodes_human_seed():
    seen = {}
    for seed in (11, 12):
        agent_client, human_client = play(seed)
        assert agent_client.seeds == [seed, seed]
        assert human_client.seeds == [human_seed(seed)]
        assert human_seed(seed) != seed  # never the agent's
        seen[seed] = human_client.seeds[0]
    assert seen[11] != seen[12]  # another episode, another seed
    assert play(11)[1].seeds == [seen[11]]  # stable: a resumed episode gets the same


def test_human_seeds_differ_from_the_agents_and_stay_32_bit():
    for seed in (0, 1, 2**32 - 1, 2**31, 123456789):
        assert human_seed(seed) != seed and 0 <= human_seed(seed) < 2**32
    assert len({human_seed(s) for s in range(1000)}) == 1000


PAGE = PageSnapshot(png=b"\x89PNG", width=1, height=1, page_height=1)


def test_the_vlm_human_passes_the_seed():
    client = Recording(["Make it blue."])
    human = VLMDesignHuman(client)
    assert asyncio.run(human.respond(TASK, [{"role": "agent", "content": "<html></html>"}], PAGE, PAGE,
                                     seed=5)) == "Make it blue."
    assert client.seeds == [5]
    asyncio.run(human.aclose())
    assert client.closed


def test_the_sweet_rl_humans_take_the_seed_and_send_none_as_the_original():
    client = Recording(["Yes."])
    code = SweetRLCodeHuman(client, "{problem_description} {hidden_information} {dialogue_history}")
    asyncio.run(code.respond(TASK, [{"role": "agent", "content": "Really?"}], seed=9))
    design = SweetRLDesignHuman(client, "Make the page like this.")
    asyncio.run(design.respond(TASK, [{"role": "agent", "content": "<html></html>"}], PAGE, PAGE, seed=9))
    assert client.seeds == [None, None]


@pytest.mark.parametrize("cls", [LLMCodeHuman, VLMDesignHuman, SweetRLCodeHuman, SweetRLDesignHuman,
                                 OfflineCodeHuman, OfflineDesignHuman])
def test_every_human_takes_a_seed_and_closes(cls):
    seed = inspect.signature(cls.respond).parameters["seed"]
    assert seed.kind is inspect.Parameter.KEYWORD_ONLY and seed.default is None
    assert inspect.iscoroutinefunction(cls.aclose)


def test_the_offline_human_ignores_the_seed():
    dialogue = [{"role": "agent", "content": "What should f(1) return?"}]
    replies = {asyncio.run(OfflineCodeHuman().respond(TASK, dialogue, **kw)) for kw in ({}, {"seed": 1}, {"seed": 2})}
    assert len(replies) == 1
