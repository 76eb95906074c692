"""The LLM-simulated human for backend tasks (ColBench semantics).

The model sees the hidden information (the reference function) and the dialogue, and
answers the agent's latest message as the user would: briefly, only from the hidden
information, saying it does not know otherwise, never pasting code.
"""

from __future__ import annotations

from colbench.humans.base import Turn
from colbench.llm.base import ChatClient
from colbench.tasks import Task

HUMAN_CODE_PROMPT = """\
You are role-playing a human user who is asking an LLM agent to write a Python function \
for you. You know exactly what you want: it is described by the hidden information below, \
which the agent cannot see. Reply to the agent's latest message as that user would:
- answer only from the hidden information; if it does not say, reply that you don't know;
- write at most two sentences, in plain words;
- never write or paste code, and never reveal the hidden information verbatim;
- do not ask the agent for anything.

Your original request to the agent:
{problem_description}

Hidden information (what you want):
{hidden_information}"""


def transcript(dialogue: list[Turn]) -> str:
    names = {"agent": "Agent", "human": "You"}
    return "\n\n".join(f"{names.get(t['role'], t['role'])}: {t['content']}" for t in dialogue)


class LLMCodeHuman:
    def __init__(self, client: ChatClient):
        self.client = client
        self.name = f"llm-human:{client.name}"

    async def respond(self, task: Task, dialogue: list[Turn], *, seed: int | None = None) -> str:
        messages = [
            {"role": "system", "content": HUMAN_CODE_PROMPT.format(
                problem_description=task.problem_description, hidden_information=task.hidden_information)},
            {"role": "user", "content": f"The dialogue so far:\n\n{transcript(dialogue)}\n\n"
                                        "Write your next reply to the agent."},
        ]
        return await self.client.chat(messages, seed=seed)

    async def aclose(self) -> None:
        await self.client.aclose()
