"""The whole SWEET-RL loop on CPU with a tiny model built from a config: collect with the
offline human, critic, sample, rank, actor, then `colbench eval` on the new checkpoint."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import tiny_causal_lm, write_sweet_rl_trajectories

from colbench.cli import main
from colbench.tasks import load_tasks
from colbench.train.common import load_model

REPO = Path(__file__).resolve().parents[2]
TASKS = load_tasks("bundled", "backend").tasks[:3]


def jsonl(path):
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def collect_script(path):
    """Sample 0 asks, then answers with the reference; sample 1 answers wrongly at once. A
    random tiny model never solves a task, so this agent collects (the base model samples)."""
    lines = []
    for t in TASKS:
        lines.append({"task_id": t.task_id, "sample": 0, "messages": [
            "What should the function return?", "I WANT TO ANSWER: ```python\n" + t.ground_truth + "\n```"]})
        lines.append({"task_id": t.task_id, "sample": 1, "messages": ["I WANT TO ANSWER: def f(): pass"]})
    path.write_text("".join(json.dumps(l) + "\n" for l in lines))
    return path


def pipeline_toml(path, work, base, script, algorithm="sweet-rl", extra=""):
    path.write_text(f'''
[pipeline]
work_dir = "{work}"
base_model = "{base}"
split = "backend"
tasks = "bundled"
human = "offline"
sandbox = "process"
protocol = "colbench"
algorithm = "{algorithm}"

[collect]
agent = "scripted:{script}"
samples = 2
limit = 3

[critic]
lr = 1e-3
epochs = 3
batch_size = 2

[sample]
candidates = 4
fraction = 0.5
max_new_tokens = 12

[rank]
pairs_per_turn = 4

[actor]
lr = 1e-3
epochs = 2
batch_size = 4

[eval]
limit = 3
max_tokens = 12
{extra}''')
    return path


@pytest.fixture(scope="module")
def sweet(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    base = tiny_causal_lm(root / "base")
    script = collect_script(root / "script.jsonl")
    config = pipeline_toml(root / "pipe.toml", root / "work", base, script)
    rc = main(["train", "pipeline", str(config)])
    return {"rc": rc, "root": root, "base": base, "work": root / "work", "config": config, "script": script}


def weights_differ(a, b) -> bool:
    ma, _ = load_model(str(a))
    mb, _ = load_model(str(b))
    sa, sb = ma.state_dict(), mb.state_dict()
    assert sa.keys() == sb.keys()
    return any(not torch.equal(sa[k], sb[k]) for k in sa)


def test_pipeline_runs_every_stage(sweet):
    work = sweet["work"]
    assert sweet["rc"] == 0
    collected = jsonl(work / "collect" / "episodes.jsonl")
    assert len(collected) == 6 and {r["success"] for r in collected} == {True, False}
    assert len(jsonl(work / "trajectory_pairs.jsonl")) == 3
    critic_loss = [r["loss"] for r in jsonl(work / "critic" / "critic_log.jsonl")]
    assert critic_loss[-1] < critic_loss[0]
    sampled = jsonl(work / "candidates.jsonl")
    agent_turns = sum(r["role"] == "agent" for e in collected for r in e["turns"])
    assert len(sampled) == round(0.5 * agent_turns)
    assert all(len(s["candidates"]) == 4 and all(c["ref_mean_logp"] < 0 for c in s["candidates"]) for s in sampled)
    pairs = jsonl(work / "action_pairs.jsonl")
    assert pairs and all(p["chosen_advantage"] > p["rejected_advantage"] for p in pairs)
    assert all(len([q for q in pairs if (q["task_id"], q["sample"], q["turn"]) == (p["task_id"], p["sample"], p["turn"])])
               <= 4 for p in pairs)
    margins = [r["margin"] for r in jsonl(work / "sweet-rl" / "actor_log.jsonl")]
    assert margins[0] == pytest.approx(0.0, abs=1e-6)  # the policy starts as its own reference
    assert margins[-1] > margins[0] and margins[-1] > 0
    assert weights_differ(sweet["base"], work / "sweet-rl")
    evaluated = jsonl(work / "eval" / "episodes.jsonl")
    assert len(evaluated) == 3 and all(r["status"] == "ok" for r in evaluated)


def test_the_checkpoint_is_an_agent(sweet, tmp_path, capsys):
    ckpt = sweet["work"] / "sweet-rl"
    rc = main(["eval", "--protocol", "colbench", "--agent", f"hf:{ckpt}", "--human", "offline", "--split", "backend", "--tasks", "bundled",
               "--limit", "1", "--sandbox", "process", "--out", str(tmp_path / "run")])
    assert rc == 0
    (record,) = jsonl(tmp_path / "run" / "episodes.jsonl")
    assert record["status"] == "ok" and record["turns"][0]["role"] == "agent"


def test_pipeline_keeps_finished_stages_and_refuses_a_changed_config(sweet, capsys):
    stamp = (sweet["work"] / "sweet-rl" / "model.safetensors").stat().st_mtime_ns
    assert main(["train", "pipeline", str(sweet["config"])]) == 0
    out = capsys.readouterr().out
    assert all(f"{stage}: kept" in out for stage in ("collect", "prefs", "critic", "sample", "rank", "actor", "eval"))
    assert (sweet["work"] / "sweet-rl" / "model.safetensors").stat().st_mtime_ns == stamp
    changed = sweet["root"] / "changed.toml"
    changed.write_text(sweet["config"].read_text().replace("epochs = 3", "epochs = 5"))
    assert main(["train", "pipeline", str(changed)]) == 2
    assert "different pipeline config" in capsys.readouterr().err


@pytest.mark.parametrize("algorithm, log_name", [("rft", "rft_log.jsonl"), ("multiturn-dpo", "dpo_log.jsonl")])
def test_baselines_train_from_the_same_collection(sweet, tmp_path, algorithm, log_name):
    """The baselines reuse the collected run (`[collect] run`): nothing is collected again."""
    config = pipeline_toml(tmp_path / "pipe.toml", tmp_path / "work", sweet["base"], sweet["script"], algorithm,
                           extra="[rft]\nlr = 1e-3\nepochs = 3\nbatch_size = 2\n"
                                 "[dpo]\nlr = 1e-3\nepochs = 3\nbatch_size = 2\n")
    text = config.read_text().replace('agent = "scripted:', f'run = "{sweet["work"] / "collect"}"\n# agent = "')
    config.write_text(text.replace("[eval]\n", "[eval]\nenabled = false\n"))
    assert main(["train", "pipeline", str(config)]) == 0
    ckpt = tmp_path / "work" / algorithm
    rows = jsonl(ckpt / log_name)
    assert rows[-1]["loss"] < rows[0]["loss"]
    if algorithm == "multiturn-dpo":
        assert rows[-1]["margin"] > 0
    assert weights_differ(sweet["base"], ckpt)
    assert not (tmp_path / "work" / "collect").exists()


@pytest.mark.parametrize("edit, message", [
    (lambda t: "\n".join(l for l in t.splitlines() if not l.startswith("base_model")), "[pipeline] needs base_model"),
    (lambda t: t.replace("[collect]\n", "[collect]\nsample = 3\n"), "[collect] has unknown settings: sample"),
    (lambda t: t + "\n[critics]\nlr = 1\n", "unknown sections: critics"),
    (lambda t: t.replace("[critic]\n", "[critic]\nlearning_rate = 1\n"), "[critic] has unknown settings: learning_rate"),
    (lambda t: t.replace('algorithm = "sweet-rl"', 'algorithm = "ppo"'), "algorithm must be one of"),
    (lambda t: t.replace("candidates = 4", 'candidates = "many"'), "[sample] candidates must be a int"),
    (lambda t: t.replace("[pipeline]", "[pipeline"), "is not valid TOML"),
    # The default protocol is the original's, whose prompt files are not there.
    (lambda t: t.replace('protocol = "colbench"\n', ""), "run `colbench tasks download`"),
])
def test_bad_pipeline_configs_are_one_sentence(tmp_path, capsys, monkeypatch, edit, message):
    monkeypatch.setenv("COLBENCH_DATA_DIR", str(tmp_path / "no-official-files"))
    base = tiny_causal_lm(tmp_path / "base")
    config = pipeline_toml(tmp_path / "pipe.toml", tmp_path / "work", base, tmp_path / "script.jsonl")
    config.write_text(edit(config.read_text()))
    capsys.readouterr()
    assert main(["train", "pipeline", str(config)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_base_model_that_is_not_a_checkpoint_is_refused(tmp_path, capsys):
    config = pipeline_toml(tmp_path / "pipe.toml", tmp_path / "work", tmp_path / "nothing", tmp_path / "s.jsonl")
    assert main(["train", "pipeline", str(config)]) == 2
    assert "is not a local checkpoint" in capsys.readouterr().err


# Two CPU processes, DDP over gloo. (`accelerate launch --cpu --num_processes 2` starts one
# process only: it has no multi-process launcher for CPUs without MPI.)
TWO_PROCESSES = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                 "-m", "colbench.cli"]


def test_two_processes_train_the_actor(sweet, tmp_path):
    """torchrun with 2 CPU processes: the batch is sharded, the log and checkpoint are
    written once, and the first step matches one process."""
    out = tmp_path / "ddp"
    cmd = [*TWO_PROCESSES, "train", "actor", "--pairs", str(sweet["work"] / "action_pairs.jsonl"), "--model", str(sweet["base"]), "--out", str(out),
           "--lr", "1e-3", "--batch-size", "4"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("actor checkpoint saved") == 1
    rows = jsonl(out / "actor_log.jsonl")
    pairs = len(jsonl(sweet["work"] / "action_pairs.jsonl"))
    assert len(rows) == -(-pairs // 4)
    assert rows[0]["margin"] == pytest.approx(0.0, abs=1e-6) and rows[-1]["margin"] > 0
    assert weights_differ(sweet["base"], out)


def test_the_whole_pipeline_under_two_processes_does_each_stage_once(sweet, tmp_path):
    """The pipeline itself under 2 processes: the main process collects, pairs, samples,
    ranks and evaluates while the other waits; both train; the frozen reference is computed
    half by each and gathered (the first step still starts from its own reference)."""
    work = tmp_path / "work"
    config = pipeline_toml(tmp_path / "pipe.toml", work, sweet["base"], sweet["script"])
    cmd = [*TWO_PROCESSES, "train", "pipeline", str(config)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(jsonl(work / "collect" / "episodes.jsonl")) == 6  # not twice: one process collected
    assert jsonl(work / "trajectory_pairs.jsonl") == jsonl(sweet["work"] / "trajectory_pairs.jsonl")
    assert len(jsonl(work / "candidates.jsonl")) == len(jsonl(sweet["work"] / "candidates.jsonl"))
    assert len(jsonl(work / "eval" / "episodes.jsonl")) == 3
    critic = jsonl(work / "critic" / "critic_log.jsonl")
    assert critic[0]["loss"] == pytest.approx(math.log(2), rel=1e-4)
    actor = jsonl(work / "sweet-rl" / "actor_log.jsonl")
    assert actor[0]["margin"] == pytest.approx(0.0, abs=1e-6)
    assert len(list(work.glob(".launch-*"))) == 1 and not list(work.glob(".launch-*/failed"))
    # Both processes scored half of the candidates with the critic.
    shares = [json.loads(p.read_text()) for p in sorted(work.glob(".launch-*/rank-*.json"))]
    n = sum(len(c["candidates"]) for c in jsonl(work / "candidates.jsonl"))
    assert len(shares) == 2 and [len(s) for s in shares] == [-(-n // 2), n - -(-n // 2)]


def test_shares_of_the_critic_scores_join_into_the_whole(sweet):
    from colbench.train.sample import critic_candidate_logps, load_candidates

    candidates, critic = sweet["work"] / "candidates.jsonl", str(sweet["work"] / "critic")
    rows = load_candidates(candidates)
    whole = critic_candidate_logps(rows, critic)
    shares = [critic_candidate_logps(rows, critic, part=(k, 3)) for k in range(3)]
    assert len(whole) == sum(len(c["candidates"]) for c in jsonl(candidates)) and all(shares)
    assert [v for s in shares for v in s] == pytest.approx(whole, abs=1e-5)


def test_a_stage_failing_on_the_main_process_stops_the_others(sweet, tmp_path):
    # Every sample the same: no preference pairs, one sentence on the main process; the
    # other process, waiting for the pairs, must not wait forever.
    script = tmp_path / "same.jsonl"
    same = [{"task_id": t.task_id, "sample": k, "messages": ["I WANT TO ANSWER: x"]} for t in TASKS for k in (0, 1)]
    script.write_text("".join(json.dumps(line) + "\n" for line in same))
    config = pipeline_toml(tmp_path / "pipe.toml", tmp_path / "work", sweet["base"], script)
    proc = subprocess.run([*TWO_PROCESSES, "train", "pipeline", str(config)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode != 0 and "no preference pairs" in proc.stderr
    # torchrun prints its own traceback when a process fails; ours print one sentence each.
    assert proc.stderr.count("Traceback (most recent call last)") <= 1


def test_the_papers_recipe_is_the_default_and_the_shipped_config(tmp_path, monkeypatch):
    from colbench.train.pipeline import load_config, stage_configs

    monkeypatch.setenv("COLBENCH_BASE_MODEL", str(tiny_causal_lm(tmp_path / "base")))
    shipped = stage_configs(load_config(REPO / "configs/train/sweet-llama8b-backend.toml"))
    defaults = stage_configs({"pipeline": {}})
    for stages in (shipped, defaults):
        critic, sample, rank, actor = stages["critic"], stages["sample"], stages["rank"], stages["actor"]
        assert (critic.lr, critic.beta, critic.epochs, critic.batch_size) == (2e-7, 0.1, 4, 8)
        assert (sample.candidates, sample.fraction) == (16, 0.1)
        assert (rank["pairs_per_turn"], rank["beta"]) == (4, 0.1)
        assert (actor.lr, actor.beta, actor.nll, actor.epochs, actor.batch_size) == (2e-7, 0.1, 0.01, 1, 8)
        assert (stages["rft"].batch_size, stages["dpo"].batch_size) == (32, 8)
        # The released trainer's token budgets: critic 8192, actor 16384 (the baselines too).
        assert (critic.max_length, actor.max_length, sample.max_length) == (8192, 16384, 8192)
        assert stages["rft"].max_length == stages["dpo"].max_length == 16384
        # Where the paper's text and the released trainer differ, the released trainer's.
        assert (critic.score, critic.input_format, sample.rank_reference) == ("token_mean", "chat", "policy")
        assert {s.optimizer for s in (critic, actor, stages["rft"], stages["dpo"])} == {"released"}
        assert (sample.temperature, sample.max_new_tokens) == (1.0, 1024)
    # The sample stage renders the critic's input as the critic reads it.
    plain_critic = stage_configs({"pipeline": {}, "critic": {"input_format": "plain"}})
    assert plain_critic["sample"].input_format == "plain"


def test_a_stopped_sample_stage_continues_where_it_stopped(sweet, tmp_path, monkeypatch):
    from colbench.train import generate
    from colbench.train.sample import SampleConfig, sample_candidates

    real = generate.TransformersGenerator.generate
    calls = []

    def stop_after_one_chunk(self, conversations, **kw):
        calls.append(len(conversations))
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process is stopped during the second chunk
        return real(self, conversations, **kw)

    monkeypatch.setattr(generate.TransformersGenerator, "generate", stop_after_one_chunk)
    out = tmp_path / "cands.jsonl"
    cfg = SampleConfig(candidates=2, fraction=1.0, max_new_tokens=4, batch_size=1)
    with pytest.raises(KeyboardInterrupt):
        sample_candidates(sweet["work"] / "collect", str(sweet["base"]), out, cfg)
    partial = jsonl(tmp_path / "cands.jsonl.partial")
    assert not out.exists() and len(partial) == 1 + 8  # settings, then the first chunk's 8 turns
    asked = []

    def count(self, conversations, **kw):
        asked.append(len(conversations))
        return real(self, conversations, **kw)

    monkeypatch.setattr(generate.TransformersGenerator, "generate", count)
    n = sample_candidates(sweet["work"] / "collect", str(sweet["base"]), out, cfg)
    rows = jsonl(out)
    assert asked == [1]  # only the turn that was not finished is generated again
    assert n == len(rows) == 9 and not (tmp_path / "cands.jsonl.partial").exists()
    kept = {(r["task_id"], r["sample"], r["turn"]): r["texts"] for r in partial[1:]}
    assert all([c["text"] for c in r["candidates"]] == kept[(r["task_id"], r["sample"], r["turn"])]
               for r in rows if (r["task_id"], r["sample"], r["turn"]) in kept)


def test_rft_trains_on_a_one_sample_collection(sweet, tmp_path):
    """RFT needs no preference pairs, so one sample per task is enough (pairs need two)."""
    config = pipeline_toml(tmp_path / "pipe.toml", tmp_path / "work", sweet["base"], sweet["script"], "rft",
                           extra="[rft]\nlr = 1e-3\nepochs = 1\nbatch_size = 2\n")
    config.write_text(config.read_text().replace("samples = 2", "samples = 1")
                      .replace("[eval]\n", "[eval]\nenabled = false\n"))
    assert main(["train", "pipeline", str(config)]) == 0
    assert jsonl(tmp_path / "work" / "rft" / "rft_log.jsonl")
    assert not (tmp_path / "work" / "trajectory_pairs.jsonl").exists()


def test_a_pipeline_trains_on_an_imported_run(tmp_path, capsys):
    """`colbench train import`, then `colbench train pipeline` with `[collect] run` = the imported
    run: nothing is collected (an imported run has no summary and was made by no agent the
    pipeline could resume), the stages train on its trajectories."""
    trajectories = write_sweet_rl_trajectories(tmp_path / "trajectories.jsonl", TASKS)
    imported = tmp_path / "imported"
    assert main(["train", "import", str(trajectories), "--out", str(imported), "--protocol", "colbench"]) == 0
    before = (imported / "episodes.jsonl").read_bytes()
    config = pipeline_toml(tmp_path / "pipe.toml", tmp_path / "work", tiny_causal_lm(tmp_path / "base"),
                           tmp_path / "unused.jsonl", "multiturn-dpo",
                           extra="[dpo]\nlr = 1e-3\nepochs = 2\nbatch_size = 2\n")
    text = config.read_text().replace('agent = "scripted:', f'run = "{imported}"\n# agent = "')
    config.write_text(text.replace("samples = 2\nlimit = 3\n", "").replace("[eval]\n", "[eval]\nenabled = false\n"))
    capsys.readouterr()
    assert main(["train", "pipeline", str(config)]) == 0, capsys.readouterr().err
    assert "collect: kept" in capsys.readouterr().out
    assert (imported / "episodes.jsonl").read_bytes() == before  # nothing collected into it
    assert len(jsonl(tmp_path / "work" / "trajectory_pairs.jsonl")) == len(TASKS)
    assert jsonl(tmp_path / "work" / "multiturn-dpo" / "dpo_log.jsonl")
    assert not (tmp_path / "work" / "collect").exists()
