"""The humans of the original ColBench protocol (`--protocol sweet_rl`).

Backend: the request is built as facebookresearch/sweet_rl at 38daf2a builds it
(environments/human_interaction_env.py): a fixed system message, then one user message, the
original human prompt file (read at run time, verified by sha256) with its three fields
filled by str.format: the problem description, the hidden information (the task's
ground_truth, which is what the original passes), and the dialogue history. The history
lists every entry, the problem description first as the user's, each as
`role:content` followed by four newlines (roles `user` and `assistant`, agent messages as
they counted, human replies as cut), and ends with `agent:`. Sampled at temperature 0 with
4096 new tokens unless overridden, and with no seed: the original's human requests carried
none, and these are the original's field for field (the episode's human seed is taken, as
every human takes it, and not sent). A request refused with HTTP 400 (a prompt over the
server's context, typically) is answered "No response." after that one request, and the
dialogue goes on, as in the original.

Frontend (environments/human_design_interaction_env.py): see design_request; the same
sampling and the same "No response." rule.
"""

from __future__ import annotations

import base64

from colbench.humans.base import Turn
from colbench.humans.llm import LLMCodeHuman
from colbench.llm.base import ChatClient, RequestRefused
from colbench.render import PageSnapshot
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


class SweetRLCodeHuman(LLMCodeHuman):
    """The original's human over the same chat client (and its aclose) as ours."""

    def __init__(self, client: ChatClient, template: str):
        super().__init__(client)
        self.template = template
        self.name = f"sweet_rl-human:{client.name}"

    async def respond(self, task: Task, dialogue: list[Turn], *, seed: int | None = None) -> str:
        return await self._ask(human_request(self.template, task, dialogue))  # no seed: see the module's docstring

    async def _ask(self, messages: list) -> str:
        try:
            return await self.client.chat(messages)
        except RequestRefused as exc:
            if exc.status == 400:
                return NO_RESPONSE
            raise


# The original's fixed texts around the two images of a frontend request.
AGENT_PAGE = "Below is the design the agent is referring to."
NO_AGENT_PAGE = "The agent did not provide any visualization."
REFERENCE_PAGE = "Below is the ground truth design that the human user wants."


def _image(png: bytes) -> dict:
    # The original's data URL names no image subtype.
    return {"type": "image_url", "image_url": {"url": "data:image;base64," + base64.b64encode(png).decode()}}


def design_request(prompt: str, agent_page: PageSnapshot | None, reference_page: PageSnapshot) -> list[dict]:
    """The original frontend human's request: one user message, no system message, and no
    dialogue text: the prompt file's text, the agent's page of the current message (or a
    note that there is none), and the reference page."""
    content: list[dict] = [{"type": "text", "text": prompt}]
    if agent_page is not None and agent_page.error is None:
        content += [{"type": "text", "text": AGENT_PAGE}, _image(agent_page.png)]
    else:
        content.append({"type": "text", "text": NO_AGENT_PAGE})
    content += [{"type": "text", "text": REFERENCE_PAGE}, _image(reference_page.png)]
    return [{"role": "user", "content": content}]


class SweetRLDesignHuman(SweetRLCodeHuman):
    async def respond(self, task: Task, dialogue: list[Turn], agent_page: PageSnapshot | None,  # type: ignore[override]
                      reference_page: PageSnapshot, *, seed: int | None = None) -> str:
        return await self._ask(design_request(self.template, agent_page, reference_page))  # no seed, as above
