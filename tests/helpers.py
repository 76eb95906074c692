"""Small builders for tests."""

from __future__ import annotations

from colbench.tasks import Task


def backend_task(ground_truth: str, calls: list[str], task_id: str = "t") -> Task:
    return Task(task_id=task_id, split="backend", problem_description="test task",
                ground_truth=ground_truth, hidden_information=ground_truth,
                test_cases={f"test{i + 1}": c for i, c in enumerate(calls)})


def tiny_causal_lm(directory, *, eos_bias: float = 0.0, hidden: int = 32, layers: int = 2, heads: int = 2):
    """A tiny Llama-style model with random weights and a tokenizer trained on the fly,
    saved with save_pretrained: a real local model for tests, with no download."""
    from pathlib import Path

    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    directory = Path(directory)
    corpus = ["def f(x): return x + 1", "I WANT TO ANSWER: the function", "What should happen for empty input?",
              "Please round to two decimals and sort the list.", "hello world question answer code"] * 20
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<pad>", "</s>"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    from tokenizers import decoders
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="</s>")
    fast.save_pretrained(directory)
    config = LlamaConfig(vocab_size=fast.vocab_size, hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                         max_position_embeddings=4096,
                         pad_token_id=fast.pad_token_id, eos_token_id=fast.eos_token_id)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    if eos_bias:
        with torch.no_grad():
            model.lm_head.weight[fast.eos_token_id] += eos_bias
    model.save_pretrained(directory)
    return directory


def tiny_clip(directory):
    """A tiny randomly initialised CLIP saved with save_pretrained (no download)."""
    from pathlib import Path

    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    directory = Path(directory)
    config = CLIPConfig(
        text_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
                     "vocab_size": 100, "max_position_embeddings": 16},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                       "image_size": 64, "patch_size": 16},
        projection_dim=16)
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(directory)
    CLIPImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64}).save_pretrained(directory)
    return directory


def write_sweet_rl_trajectories(path, tasks):
    """Trajectories in the original research code's format (what `colbench train import`
    reads): per task, one that answers with the reference (reward 1) and one that does not
    (reward 0), each after one question and its answer. Returns `path`."""
    import json

    with open(path, "w") as f:
        for t in tasks:
            task = {"task_id": t.task_id, "problem_description": t.problem_description,
                    "ground_truth": t.ground_truth, "test_cases": t.test_cases}
            for answer, reward in ((t.ground_truth, 1.0), ("def f(): pass", 0.0)):
                history = [{"role": "user", "content": t.problem_description},
                           {"role": "assistant", "content": "What should the function return?"},
                           {"role": "user", "content": "A number."},
                           {"role": "assistant", "content": f"I WANT TO ANSWER: {answer}"}]
                f.write(json.dumps({"task": task, "dialogue_history": history, "answer": answer,
                                    "reward": reward}) + "\n")
    return path
