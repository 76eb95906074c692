"""The backend human of the original ColBench protocol (`--protocol sweet_rl`).

Its request is built as facebookresearch/sweet_rl at 38daf2a builds it
(environments/human_interaction_env.py): a fixed system message, then one user message, the
original human prompt file (read at run time, verified by sha256) with its three fields
filled by str.format: the problem description, the hidden information (the task's
ground_truth, which is what the original passes), and the dialogue history. The history
lists every entry, the problem description first as the user's, each as
`role:content` followed by four newlines (roles `user` and `assistant`, agent messages as
they counted, human replies as cut), and ends with `agent:`. Sampled at temperature 0 with
4096 new tokens unless overridden; a request refused with HTTP 400 (a prompt over the
server's context, typically) is answered "No response." after that one request, and the
dialogue goes on, as in the original.
"""

from __future__ import annotations

from colbench.humans.base import Turn
from colbench.llm.base import ChatClient, RequestRefused
from colbench.tasks import Task

SYSTEM = "You are a helpful assistant."
NO_RESPONSE = "No response."
_ROLES = {"agent": "assistant", "human": "user"}


def dialogue_history(problem_description: str, dialogue: list[Turn]) -> str:
    entries = [("user", problem_description)] + [(_ROLES[t["role"]], t["content"]) for t in dialogue]
    return "".join(f"{role}:{content}\n\n\n\n" for role, content in entries) + "agent:"


def human_request(template: str, task: Task, dialogue: list[Turn]) -> list[dict[str, str]]:
    """The messages of the original human's request for the dialogue so far."""
    user = template.format(problem_description=str(task.problem_description),
                           hidden_information=str(task.ground_truth),
                           dialogue_history=dialogue_history(task.problem_description, dialogue))
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


class SweetRLCodeHuman:
    def __init__(self, client: ChatClient, template: str):
        self.client = client
        self.template = template
        self.name = f"sweet_rl-human:{client.name}"

    async def respond(self, task: Task, dialogue: list[Turn]) -> str:
        try:
            return await self.client.chat(human_request(self.template, task, dialogue))
        except RequestRefused as exc:
            if exc.status == 400:
                return NO_RESPONSE
            raise

    async def aclose(self) -> None:
        close = getattr(self.client, "aclose", None)
        if close is not None:
            await close()
