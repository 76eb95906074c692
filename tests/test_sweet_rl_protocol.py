"""`eval --protocol sweet_rl`: requests and rewards as the original ColBench's.

The expected requests are built here from the original's documented format
(docs/original-protocol.md, read from facebookresearch/sweet_rl at 38daf2a) and the real
prompt files of the sample (COLBENCH_SAMPLE_DIR/prompts), independently of colbench's own
code, and compared with what a recording OpenAI-compatible server received.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Fault, Scripted
from PIL import Image

COLBENCH = [sys.executable, "-m", "colbench.cli"]
REFERENCE = "def f(x):\n    return 3 * x + 1\n"
PROBLEM = "Task t: write f for me."


@pytest.fixture
def data_dir(tmp_path, sample_dir) -> Path:
    """A data directory holding the four original prompt files, as `tasks download` makes it."""
    d = tmp_path / "data"
    shutil.copytree(sample_dir / "prompts", d / "prompts")
    return d


def write_tasks(path: Path, calls=("f(2)", "f(5)")) -> Path:
    path.write_text(json.dumps({"task_id": "t", "problem_description": PROBLEM, "ground_truth": REFERENCE,
                                "hidden_information": "NOT SENT BY THE ORIGINAL",
                                "test_cases": {f"c{i}": c for i, c in enumerate(calls)}}) + "\n")
    return path


def run(*args, data_dir: Path, timeout=300):
    env = dict(os.environ, COLBENCH_DATA_DIR=str(data_dir))
    return subprocess.run(COLBENCH + [str(a) for a in args], capture_output=True, text=True, timeout=timeout, env=env)


def episodes(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines() if line.strip()]


def eval_args(tmp_path, server, *extra):
    return ["eval", "--protocol", "sweet_rl", "--agent", "openai:agent", "--human", "openai:human",
            "--split", "backend", "--tasks", write_tasks(tmp_path / "tasks.jsonl"), "--out", tmp_path / "run",
            "--sandbox", "process", "--agent-base-url", server.base_url, "--human-base-url", server.base_url,
            *extra]


# The original's documented format, written out independently of colbench's code.
def original_human_messages(template: str, history: list[tuple[str, str]]) -> list[dict]:
    text = "".join(f"{role}:{content}\n\n\n\n" for role, content in [("user", PROBLEM), *history]) + "agent:"
    user = (template.replace("{problem_description}", PROBLEM).replace("{hidden_information}", REFERENCE)
            .replace("{dialogue_history}", text))
    return [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": user}]


def original_agent_messages(system: str, history: list[tuple[str, str]], problem: str = PROBLEM) -> list[dict]:
    return [{"role": "system", "content": system}, {"role": "user", "content": problem},
            *({"role": role, "content": content} for role, content in history)]


AGENT_REPLIES = [
    "Let me think.\nOUTPUT: What should f return for 2?",
    "OUTPUT: And is it linear? OUTPUT: this part is never shown",
    "I WANT TO ANSWER:\n```python\ndef f(x):\n    return 3 * x + 1\n```\n",
]
HUMAN_REPLIES = ["It should return 7.", "Yes, " + "z" * 600]


def test_requests_are_the_originals_byte_for_byte(tmp_path, data_dir, sample_dir):
    with FakeOpenAI(Scripted({"agent": AGENT_REPLIES, "human": HUMAN_REPLIES})) as server:
        proc = run(*eval_args(tmp_path, server), data_dir=data_dir)
        sent = list(server.requests)
    assert proc.returncode == 0, proc.stderr
    agent_system = (sample_dir / "prompts" / "llm_agent_code_prompt.txt").read_text(encoding="utf-8")
    human_template = (sample_dir / "prompts" / "human_simulator_code_prompt.txt").read_text(encoding="utf-8")
    assert agent_system.rstrip().endswith("{dialogue_history}")  # left as it is, as the original does

    # What counted of each agent message (the text between the first and second OUTPUT:),
    # and human replies cut to 400 characters.
    shown = [" What should f return for 2?", " And is it linear? ", AGENT_REPLIES[2]]
    history = [("assistant", shown[0]), ("user", HUMAN_REPLIES[0]), ("assistant", shown[1]),
               ("user", HUMAN_REPLIES[1][:400])]
    agents = [r for r in sent if r["model"] == "agent"]
    humans = [r for r in sent if r["model"] == "human"]
    assert [r["messages"] for r in agents] == [original_agent_messages(agent_system, history[:k]) for k in (0, 2, 4)]
    assert [r["messages"] for r in humans] == [original_human_messages(human_template, history[:k] + [(
        "assistant", shown[k // 2])]) for k in (0, 2)]
    # Sampling: the original's, and no field it did not send (a per-request seed aside).
    for r in agents:
        assert (r["temperature"], r["max_tokens"]) == (1.0, 1024)
        assert set(r) - {"_index"} <= {"model", "messages", "temperature", "max_tokens", "seed"}
    for r in humans:
        assert (r["temperature"], r["max_tokens"]) == (0, 4096)
        assert set(r) - {"_index"} == {"model", "messages", "temperature", "max_tokens"}
    assert all(set(m) == {"role", "content"} for r in sent for m in r["messages"])

    (ep,) = episodes(tmp_path / "run")
    assert ep["status"] == "ok" and ep["success"]
    assert ep["answer"] == AGENT_REPLIES[2].split("I WANT TO ANSWER:")[1]  # raw, fences and all
    config = json.loads((tmp_path / "run" / "run.json").read_text())
    assert config["protocol"] == "sweet_rl" and config["compat"] == "sweet_rl"
    assert config["prompts_sha256"] == {
        "llm_agent_code_prompt.txt": "429c1c5ae65a2488ee8cb37058b9aff91341b2390de3beb934dd52a7580cdce3",
        "human_simulator_code_prompt.txt": "0f522a5f95d06d7b1305ddb8850164d57eeef1a13114207261cd46f23e73928c"}


def test_a_human_request_refused_with_400_is_no_response_after_one_request(tmp_path, data_dir):
    replies = {"agent": ["OUTPUT: question one?", "OUTPUT: question two?",
                         "I WANT TO ANSWER:\ndef f(x):\n    return 3 * x + 1\n"],
               "human": [Fault.status(400, message="This model's maximum context length is 16384 tokens"),
                         "It is 3x+1."]}

    with FakeOpenAI(Scripted(replies)) as server:
        proc = run(*eval_args(tmp_path, server), data_dir=data_dir)
        humans = [r for r in server.requests if r["model"] == "human"]
    assert proc.returncode == 0, proc.stderr
    assert len(humans) == 2  # one request for the refused turn: no retry
    (ep,) = episodes(tmp_path / "run")
    assert ep["status"] == "ok" and ep["success"]
    assert [t["content"] for t in ep["turns"] if t["role"] == "human"] == ["No response.", "It is 3x+1."]
    assert "user:No response.\n\n\n\nassistant: question two?\n\n\n\nagent:" in humans[1]["messages"][1]["content"]


# Final messages whose reward differs between the two protocols, with the original's.
FINALS = {
    # The answer begins with the space after the marker: an IndentationError in the original.
    "same_line": ("I WANT TO ANSWER: def f(x):\n    return 3 * x + 1\n", 0.0, 1.0),
    # The blocklist reads the raw answer, prose included.
    "prose_exit": ("I WANT TO ANSWER:\n```python\ndef f(x):\n    return 3 * x + 1\n```\nNo exit() needed.",
                   0.0, 1.0),
    # The answer ends at a second marker in the original.
    "two_markers": ("I WANT TO ANSWER:\ndef f(x):\n    return 3 * x + 1\nI WANT TO ANSWER: done", 1.0, 0.0),
    # A helper at top level is invisible to the function in the original's exec.
    "helper": ("I WANT TO ANSWER:\ndef g(x):\n    return 3 * x\ndef f(x):\n    return g(x) + 1\n", 0.0, 1.0),
    "plain": ("I WANT TO ANSWER:\ndef f(x):\n    return 3 * x + 1\n", 1.0, 1.0),
}


@pytest.mark.parametrize("name", sorted(FINALS))
def test_rewards_are_the_original_checkers(tmp_path, data_dir, name):
    final, original, ours = FINALS[name]
    scores = {}
    for protocol in ("sweet_rl", "colbench"):
        with FakeOpenAI(lambda req: final) as server:
            (tmp_path / protocol).mkdir()
            args = eval_args(tmp_path / protocol, server)
            args[args.index("--protocol") + 1] = protocol
            proc = run(*args, data_dir=data_dir)
        assert proc.returncode == 0, proc.stderr
        (ep,) = episodes(tmp_path / protocol / "run")
        scores[protocol] = ep["score"]
    assert scores == {"sweet_rl": original, "colbench": ours}


def test_missing_or_altered_prompt_files_are_one_sentence_before_any_request(tmp_path, data_dir):
    (data_dir / "prompts" / "human_simulator_code_prompt.txt").write_text("my own words {dialogue_history}")
    with FakeOpenAI(lambda req: "I WANT TO ANSWER: x") as server:
        proc = run(*eval_args(tmp_path, server), data_dir=data_dir)
        assert server.requests == []
    assert proc.returncode == 2
    assert "human_simulator_code_prompt.txt is not the original ColBench prompt file" in proc.stderr
    assert "Traceback" not in proc.stderr
    shutil.rmtree(data_dir / "prompts")
    with FakeOpenAI(lambda req: "I WANT TO ANSWER: x") as server:
        args = eval_args(tmp_path, server)
        del args[args.index("--protocol"):args.index("--protocol") + 2]  # sweet_rl is the default
        proc = run(*args, data_dir=data_dir)
        assert server.requests == []
    assert proc.returncode == 2 and "is missing" in proc.stderr and "Traceback" not in proc.stderr
    assert "run `colbench tasks download`" in proc.stderr and "or pass --protocol colbench" in proc.stderr
    assert not (tmp_path / "run").exists()  # a failed start leaves nothing in the way of the retry


def test_a_run_is_resumed_only_under_its_own_protocol(tmp_path, data_dir):
    with FakeOpenAI(lambda req: "I WANT TO ANSWER:\ndef f(x):\n    return 3 * x + 1\n") as server:
        args = eval_args(tmp_path, server)
        del args[args.index("--protocol"):args.index("--protocol") + 2]  # sweet_rl is the default
        assert run(*args, data_dir=data_dir).returncode == 0
        args = eval_args(tmp_path, server, "--resume")
        args[args.index("--protocol") + 1] = "colbench"
        proc = run(*args, data_dir=data_dir)
    assert proc.returncode == 2 and "its protocol was 'sweet_rl', now 'colbench'" in proc.stderr


def test_the_trainer_and_export_show_the_agent_what_the_runs_protocol_showed_it(tmp_path, data_dir, sample_dir,
                                                                                  monkeypatch):
    """What is trained is what was evaluated: every stage that rebuilds an agent prompt from
    a run (sample, actor, rft, multi-turn DPO, export) uses the run's protocol."""
    from colbench.train import policy
    from colbench.train.sample import turn_contexts

    with FakeOpenAI(Scripted({"agent": AGENT_REPLIES, "human": HUMAN_REPLIES})) as server:
        assert run(*eval_args(tmp_path, server), data_dir=data_dir).returncode == 0
    monkeypatch.setenv("COLBENCH_DATA_DIR", str(data_dir))
    agent_system = (sample_dir / "prompts" / "llm_agent_code_prompt.txt").read_text(encoding="utf-8")
    out = tmp_path / "run"

    contexts = turn_contexts(out, 1.0, 0)
    assert len(contexts) == 3 and {c["protocol"] for c in contexts} == {"sweet_rl"}
    (kept,) = policy.successful_trajectories(out)
    seen = []
    monkeypatch.setattr(policy, "encode_action", lambda tok, messages, completion, n: seen.append(messages))
    policy.trajectory_example(None, kept["split"], kept["problem_description"], kept["turns"], 100, kept["protocol"])
    assert len(seen) == 3 and all(m[0] == {"role": "system", "content": agent_system} for m in seen)
    assert seen[2][1:] == [{"role": "user", "content": PROBLEM}] + [
        {"role": "assistant" if t["role"] == "agent" else "user", "content": t["content"]} for t in kept["turns"][:4]]

    proc = run("export", out, "--format", "sweet_rl", "--out", tmp_path / "traj.jsonl", data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    (line,) = [json.loads(x) for x in (tmp_path / "traj.jsonl").read_text().splitlines()]
    first = next(h for h in line["dialogue_history"] if h["role"] == "assistant")
    assert first["input"].startswith(f"system: {agent_system}\n\nuser: {PROBLEM}")


# --- frontend ------------------------------------------------------------------------------

FRONT_PROBLEM = "A landing page for a bakery."
FRONT_REFERENCE = "<html><body><h1>Bakery</h1><img src='https://picsum.photos/200/100'></body></html>"


def write_front_tasks(path: Path) -> Path:
    path.write_text(json.dumps({"task_id": "p", "problem_description": FRONT_PROBLEM,
                                "ground_truth": FRONT_REFERENCE}) + "\n")
    return path


def front_args(tmp_path, server, clip_dir):
    return ["eval", "--protocol", "sweet_rl", "--agent", "openai:agent", "--human", "openai:human",
            "--split", "frontend", "--tasks", write_front_tasks(tmp_path / "front.jsonl"), "--out", tmp_path / "run",
            "--clip-model", clip_dir, "--agent-base-url", server.base_url, "--human-base-url", server.base_url]


def png_of(part: dict) -> bytes:
    url = part["image_url"]["url"]
    assert url.startswith("data:image;base64,")  # the original names no image subtype
    return base64.b64decode(url.split(",", 1)[1])


def test_page_rules_are_the_originals():
    from colbench.protocol import sweet_rl_extract_html, sweet_rl_photo_urls

    assert sweet_rl_photo_urls("https://source.unsplash.com/random/800x600/?nature,x") == \
        "https://picsum.photos/id/48/800/600,x"
    assert sweet_rl_photo_urls("https://picsum.photos/200/300?grayscale") == "https://picsum.photos/id/48/200/300?grayscale"
    for kept in ("https://picsum.photos/id/12/200/300", "http://picsum.photos/200/300",
                 "https://source.unsplash.com/800x600/?x"):
        assert sweet_rl_photo_urls(kept) == kept
    # Case-sensitive, the first page, <html...> before <body...>, rewritten.
    assert sweet_rl_extract_html("<HTML><body>a</body></HTML>") == "<body>a</body>"
    assert sweet_rl_extract_html("x <html lang=en><img src=https://picsum.photos/9/8></html> <html>b</html>") == \
        "<html lang=en><img src=https://picsum.photos/id/48/9/8></html>"
    assert sweet_rl_extract_html("<Body>no</Body>") is None


def test_frontend_requests_are_the_originals(tmp_path, data_dir, sample_dir):
    from helpers import tiny_clip

    clip_dir = tiny_clip(tmp_path / "clip")
    replies = {"agent": ["Drafting. OUTPUT: A draft: <html><body><img src=\"https://picsum.photos/300/200\">"
                         "<p>x</p></body></html>",
                         "OUTPUT: Which colour should the title be?",
                         "I WANT TO ANSWER: <HTML><body><h1>Bakery</h1></body></HTML>"],
               "human": ["Make the title bigger.", Fault.status(400, message="too many tokens")]}
    with FakeOpenAI(Scripted(replies)) as server:
        proc = run(*front_args(tmp_path, server, clip_dir), data_dir=data_dir)
        sent = list(server.requests)
    assert proc.returncode == 0, proc.stderr
    prompts = sample_dir / "prompts"
    agent_system = (prompts / "llm_agent_html_prompt.txt").read_text(encoding="utf-8")
    human_prompt = (prompts / "human_simulator_html_prompt.txt").read_text(encoding="utf-8")
    agents = [r for r in sent if r["model"] == "agent"]
    humans = [r for r in sent if r["model"] == "human"]
    shown = [" A draft: <html><body><img src=\"https://picsum.photos/300/200\"><p>x</p></body></html>",
             " Which colour should the title be?"]
    history = [("assistant", shown[0]), ("user", "Make the title bigger."), ("assistant", shown[1]),
               ("user", "No response.")]
    assert [r["messages"] for r in agents] == [original_agent_messages(agent_system, history[:k], FRONT_PROBLEM)
                                              for k in (0, 2, 4)]
    for r in agents:
        assert (r["temperature"], r["max_tokens"]) == (1.0, 1024)
    # The human: one user message, no system message, no dialogue text; the page of the
    # current message only (none in the second), then the reference.
    assert len(humans) == 2  # the refused one was sent once
    for r in humans:
        assert (r["temperature"], r["max_tokens"]) == (0, 4096)
        assert set(r) - {"_index"} == {"model", "messages", "temperature", "max_tokens"}
        assert len(r["messages"]) == 1 and set(r["messages"][0]) == {"role", "content"}
        assert r["messages"][0]["role"] == "user"
    first, second = (r["messages"][0]["content"] for r in humans)
    texts = lambda parts: [p.get("text") for p in parts]  # noqa: E731
    assert texts(first) == [human_prompt, "Below is the design the agent is referring to.", None,
                            "Below is the ground truth design that the human user wants.", None]
    assert texts(second) == [human_prompt, "The agent did not provide any visualization.",
                             "Below is the ground truth design that the human user wants.", None]
    assert all(set(p) == {"type", "text"} or set(p) == {"type", "image_url"} for p in first + second)
    agent_png, reference_png = png_of(first[2]), png_of(first[4])
    assert Image.open(io.BytesIO(agent_png)).size[0] == 1366  # the original's window width
    assert png_of(second[3]) == reference_png

    (ep,) = episodes(tmp_path / "run")
    assert ep["status"] == "ok" and ep["answer"] == "<body><h1>Bakery</h1></body>"  # case-sensitive
    config = json.loads((tmp_path / "run" / "run.json").read_text())
    assert config["viewport"] == [1366, 768] and config["picsum_photo"] == "placeholder"
    assert set(config["prompts_sha256"]) == {"llm_agent_html_prompt.txt", "human_simulator_html_prompt.txt"}


def test_the_downloaded_photo_is_the_one_pages_show(tmp_path, data_dir):
    from helpers import tiny_clip

    photo = Image.new("RGB", (600, 300), "red")
    photo.paste("yellow", (300, 150, 600, 300))
    (data_dir / "photos").mkdir()
    photo.save(data_dir / "photos" / "picsum-48.jpg", quality=95)
    clip_dir = tiny_clip(tmp_path / "clip")
    page = "<html><body style='margin:0'><img style='display:block' src='https://picsum.photos/300/200'></body></html>"
    with FakeOpenAI(Scripted({"agent": [f"OUTPUT: {page}", f"I WANT TO ANSWER: {page}"],
                              "human": ["Looks right."]})) as server:
        proc = run(*front_args(tmp_path, server, clip_dir), data_dir=data_dir)
        (human,) = [r for r in server.requests if r["model"] == "human"]
    assert proc.returncode == 0, proc.stderr
    shown = Image.open(io.BytesIO(png_of(human["messages"][0]["content"][2]))).convert("RGB")
    # 300x200 out of 600x300: scaled to 400x200 and cropped in the middle, as picsum does.
    assert all(abs(a - b) < 40 for a, b in zip(shown.getpixel((75, 50)), (255, 0, 0)))
    assert all(abs(a - b) < 40 for a, b in zip(shown.getpixel((225, 150)), (255, 255, 0)))
    config = json.loads((tmp_path / "run" / "run.json").read_text())
    digest = hashlib.sha256((data_dir / "photos" / "picsum-48.jpg").read_bytes()).hexdigest()
    assert config["picsum_photo"] == f"picsum id 48, sha256 {digest}"


def test_a_frontend_answer_without_a_page_is_scored_as_a_black_image(tmp_path, data_dir):
    import asyncio

    from helpers import tiny_clip

    from colbench.render import Renderer
    from colbench.scoring.clip import ClipScorer
    from colbench.scoring.frontend import black_png

    clip_dir = tiny_clip(tmp_path / "clip")
    with FakeOpenAI(Scripted({"agent": ["I WANT TO ANSWER: I cannot make pages."]})) as server:
        proc = run(*front_args(tmp_path, server, clip_dir), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    (ep,) = episodes(tmp_path / "run")

    async def reference():
        async with Renderer(viewport=(1366, 768)) as r:
            return (await r.render(FRONT_REFERENCE, elements=False)).png

    (expected,) = ClipScorer(str(clip_dir)).similarity([(black_png(), asyncio.run(reference()))])
    assert ep["status"] == "ok" and ep["answer"] is None
    assert ep["score"] == pytest.approx(expected, abs=1e-5) and ep["score"] != 0.0


def test_imported_trajectories_are_trained_under_the_protocol_they_were_held_under(tmp_path, data_dir):
    line = {"task": {"problem_description": PROBLEM, "ground_truth": REFERENCE, "test_cases": {"c": "f(2)"}},
            "dialogue_history": [{"role": "user", "content": PROBLEM}, {"role": "assistant", "content": "What is x?"},
                                 {"role": "user", "content": "2"}],
            "answer": REFERENCE, "reward": 1.0}
    released = tmp_path / "released.jsonl"
    released.write_text(json.dumps(line) + "\n")
    for extra, protocol in (((), "sweet_rl"), (("--protocol", "colbench"), "colbench")):
        out = tmp_path / f"imported-{protocol}"
        proc = run("train", "import", released, "--out", out, *extra, data_dir=data_dir)
        assert proc.returncode == 0, proc.stderr
        assert json.loads((out / "run.json").read_text())["protocol"] == protocol
        # What the trainer shows the agent: the original system prompt for the released data.
        proc = run("export", out, "--format", "sweet_rl", "--out", tmp_path / f"{protocol}.jsonl", data_dir=data_dir)
        assert proc.returncode == 0, proc.stderr
        exported = json.loads((tmp_path / f"{protocol}.jsonl").read_text().splitlines()[0])
        agent_input = json.dumps(next(m for m in exported["dialogue_history"] if m["role"] == "assistant")["input"])
        original = (data_dir / "prompts" / "llm_agent_code_prompt.txt").read_text(encoding="utf-8")
        assert (json.dumps(original)[1:-1][:200] in agent_input) == (protocol == "sweet_rl")
