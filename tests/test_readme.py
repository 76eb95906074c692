"""Every shell command in README.md runs as written.

The commands are read from the README's ```bash blocks (a line continued with a backslash is
one command; comments are dropped) and run in order, each with exit status 0, in one
temporary directory laid out as the repository root: `tasks/`, `agents/` and `configs/` link
to the repository's, `leaderboard/` is a copy (`leaderboard build` writes into it), and the
inputs the commands name are there (`runs/x`, `BASE`, `answers.jsonl`, ...; see `workspace`).
A command is skipped only when it is listed in SKIPPED with its reason (a model server, a
GPU, the network, a download), so a command added to the README is run by default.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import docker_available
from helpers import tiny_causal_lm, write_sweet_rl_trajectories

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"

# Not run, and why. Keys are the commands as the README writes them (normalised by shlex).
SKIPPED = {
    # make setup installs Debian packages and Docker as root, from the network on a fresh machine;
    # `make test` is this suite.
    "make demo": "installs system packages first (root, network)",
    "make test": "installs system packages first (root, network), then runs this suite",
    "colbench tasks download": "downloads the official files (network)",
    "colbench eval --agent sweet-llama8b --split backend": "the agent and the human are models on endpoints",
    "colbench eval --agent openai:gpt-4o --human offline --split backend --limit 50 --samples 4":
        "the agent is OpenAI's API (network)",
    "colbench eval --agent sweet-llama8b --split backend --out runs/x --resume":
        "the agent and the human are models on endpoints",
    "colbench eval --agent gpt-4o --split frontend --clip-model /models/clip-vit-base-patch32":
        "OpenAI's API and a VLM human (network), and a downloaded CLIP model",
    "colbench score --tasks tasks/frontend/dev.jsonl --answers pages.jsonl --out scored.jsonl "
    "--clip-model /models/clip-vit-base-patch32": "a downloaded CLIP model",
    "colbench eval --agent my-agent --split backend --tasks colbench --protocol sweet_rl --out runs/my-agent-backend":
        "the official test set (a download) and a model human on an endpoint",
    "colbench submit runs/my-agent-backend": "a run on the full official test set (the command before)",
    "colbench eval --agent hf:BASE --samples 3 --split backend --tasks TRAIN.jsonl --out runs/collect":
        "the default human is a model on an endpoint",
    "colbench eval --agent hf:actor --split backend --tasks colbench":
        "the official test set (a download) and a model human on an endpoint",
}

# Commands that run in the Docker sandbox (the default): skipped where Docker is not there,
# as the suite's Docker tests are (failed instead under COLBENCH_REQUIRE_DOCKER).
DOCKER = re.compile(r"^colbench (eval|score) (?!.*--sandbox process)(?!.*--split frontend)")
# The training stages under the default protocol (sweet_rl) read the original prompt files,
# which only `colbench tasks download` fetches; the tests take them from the ColBench sample.
NEEDS_PROMPTS = re.compile(r"^colbench train (critic|sample|rank|actor|rft|dpo)\b")


def readme_commands(text: str) -> list[str]:
    commands = []
    for block in re.findall(r"^```(?:bash|sh|shell)\n(.*?)^```", text, re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            tokens = shlex.split(line, comments=True)
            if tokens:
                commands.append(shlex.join(tokens))
    return commands


def _fixture_run(root: Path, name: str) -> None:
    subprocess.run([sys.executable, "-m", "colbench.cli", "eval", "--protocol", "colbench", "--agent", "reference",
                    "--human", "offline", "--split", "backend", "--tasks", "bundled", "--limit", "3",
                    "--sandbox", "process", "--out", f"runs/{name}"], cwd=root, check=True, capture_output=True)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("readme")
    for name in ("tasks", "agents", "configs"):
        (root / name).symlink_to(REPO / name)
    shutil.copytree(REPO / "leaderboard", root / "leaderboard")
    # Runs the commands read: `report runs/x`, `report runs/a runs/b`, `export runs/ref`, `regress
    # --baseline runs/baseline --candidate runs/candidate` (the same agent: no drop, exit 0).
    _fixture_run(root, "x")
    for name in ("a", "b", "ref", "baseline", "candidate"):
        shutil.copytree(root / "runs" / "x", root / "runs" / name)
    from colbench.tasks import load_tasks

    tasks = load_tasks("bundled", "backend").tasks
    with (root / "answers.jsonl").open("w") as f:  # `colbench score`
        for t in tasks[:5]:
            f.write(json.dumps({"task_id": t.task_id, "answer": t.ground_truth}) + "\n")
    # `colbench train import`: trajectories in the original format, one solved and one not per task.
    write_sweet_rl_trajectories(root / "backend_trajectories.jsonl", tasks[:3])
    tiny_causal_lm(root / "BASE", eos_bias=4.0)  # the training commands' BASE model, tiny and local
    data = root / "data"
    data.mkdir()
    sample = os.environ.get("COLBENCH_SAMPLE_DIR")
    if sample and (Path(sample) / "prompts").is_dir():
        shutil.copytree(Path(sample) / "prompts", data / "prompts")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "COLBENCH_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error"}
    return {"root": root, "env": env, "prompts": (data / "prompts").is_dir()}


def test_every_skipped_command_is_still_in_the_readme():
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert not set(SKIPPED) - set(commands), "SKIPPED lists commands the README no longer has"
    assert len(commands) - len(SKIPPED) >= 10  # most of them run


def test_the_readme_commands_run_as_written(workspace):
    root, env = workspace["root"], workspace["env"]
    assert shutil.which("colbench", path=env["PATH"]), "colbench is not installed beside this Python"
    docker_missing = docker_available()
    if docker_missing and os.environ.get("COLBENCH_REQUIRE_DOCKER"):
        pytest.fail(f"Docker sandbox required but unavailable: {docker_missing}")
    failures, ran, skipped = [], [], []
    for command in readme_commands(README.read_text(encoding="utf-8")):
        if command in SKIPPED:
            skipped.append(command)
            continue
        if docker_missing and DOCKER.match(command):
            skipped.append(command)
            continue
        if not workspace["prompts"] and NEEDS_PROMPTS.match(command):
            skipped.append(command)  # no original prompt files without COLBENCH_SAMPLE_DIR
            continue
        proc = subprocess.run(shlex.split(command), cwd=root, env=env, capture_output=True, text=True, timeout=240)
        ran.append(command)
        if proc.returncode != 0:
            failures.append(f"$ {command}\nexit {proc.returncode}\n{proc.stderr[-2000:]}")
    assert not failures, "\n\n".join(failures)
    assert ran, "no README command ran"
