"""The original prompt files: read from the data directory, verified by sha256."""

from __future__ import annotations

import shutil

import pytest

from colbench.errors import ColbenchError
from colbench.official import PROMPT_FILES, load_prompts


@pytest.fixture()
def prompts(sample_dir, tmp_path):
    folder = tmp_path / "prompts"
    shutil.copytree(sample_dir / "prompts", folder)
    return folder


@pytest.mark.parametrize("split", ["backend", "frontend"])
def test_the_original_prompt_files_load_verified(prompts, split):
    got = load_prompts(split, prompts)
    agent_file, _ = PROMPT_FILES[(split, "agent")]
    human_file, _ = PROMPT_FILES[(split, "human")]
    assert got.agent == (prompts / agent_file).read_text(encoding="utf-8")
    assert got.human == (prompts / human_file).read_text(encoding="utf-8")
    assert set(got.sha256) == {agent_file, human_file}


def test_a_missing_prompt_file_is_one_sentence_naming_it_and_the_fix(prompts):
    (prompts / "human_simulator_code_prompt.txt").unlink()
    with pytest.raises(ColbenchError) as err:
        load_prompts("backend", prompts)
    text = str(err.value)
    assert "human_simulator_code_prompt.txt" in text and "is missing" in text
    assert "colbench tasks download" in text and "--protocol colbench" in text


def test_an_altered_prompt_file_is_refused(prompts):
    path = prompts / "llm_agent_html_prompt.txt"
    path.write_bytes(path.read_bytes() + b" ")
    with pytest.raises(ColbenchError, match="is not the original ColBench prompt file"):
        load_prompts("frontend", prompts)
