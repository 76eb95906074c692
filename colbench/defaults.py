"""Settings that several parts of colbench share: one home for each default.

Nothing here imports anything of colbench (the lowest layer: see tests/test_layers.py).
"""

from __future__ import annotations

# Seconds per test call of an answer in the sandbox (the original's limit).
TEST_TIMEOUT_S = 1.0
# Seconds per test call of a task's reference solution (generous: a slow reference must not
# fail every answer).
REFERENCE_TIMEOUT_S = 10.0
# The CLIP checkpoint that scores frontend pages (the original's).
CLIP_MODEL = "openai/clip-vit-base-patch32"


def has_gpu() -> bool:
    """Whether torch sees a CUDA GPU (torch imported only when asked)."""
    import torch

    return torch.cuda.is_available()


def torch_device() -> str:
    """Where a model runs unless told otherwise: the GPU when there is one."""
    return "cuda" if has_gpu() else "cpu"
