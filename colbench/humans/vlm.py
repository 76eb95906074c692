"""The VLM-simulated human for frontend tasks (ColBench semantics).

The model is shown two images, as in ColBench: the agent's rendered page (or a note that
there is none) and the reference page the user wants, and describes the differences that
matter most, in a few sentences, without writing code.
"""

from __future__ import annotations

import base64

from colbench.humans.base import Turn
from colbench.llm.base import ChatClient
from colbench.render import PageSnapshot
from colbench.tasks import Task

HUMAN_DESIGN_PROMPT = """\
You are role-playing a human user who asked an LLM agent to build a web page: \
"{problem_description}". You will see the page the agent made (if it made one) and the \
page you actually want. Tell the agent, in at most a few short sentences, the most \
important differences (layout, colours, sizes, text, images) so its next version gets \
closer to what you want. Describe what you see in plain words; never write HTML, CSS or \
code. If the agent asked a question, answer it from the page you want."""


def _image(png: bytes) -> dict:
    return {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode()}}


class VLMDesignHuman:
    def __init__(self, client: ChatClient):
        self.client = client
        self.name = f"vlm-human:{client.name}"

    async def respond(self, task: Task, dialogue: list[Turn], agent_page: PageSnapshot | None,
                      reference_page: PageSnapshot, *, seed: int | None = None) -> str:
        content: list[dict] = [{"type": "text", "text": HUMAN_DESIGN_PROMPT.format(
            problem_description=task.problem_description)}]
        last = dialogue[-1]["content"] if dialogue else ""
        content.append({"type": "text", "text": f"The agent's latest message:\n{last}"})
        if agent_page is not None and agent_page.error is None:
            content += [{"type": "text", "text": "Below is the design the agent is referring to."}, _image(agent_page.png)]
        else:
            content.append({"type": "text", "text": "The agent did not provide any visualization."})
        content += [{"type": "text", "text": "Below is the ground truth design that the human user wants."},
                    _image(reference_page.png)]
        return await self.client.chat([{"role": "user", "content": content}], seed=seed)  # type: ignore[dict-item]

    async def aclose(self) -> None:
        await self.client.aclose()
