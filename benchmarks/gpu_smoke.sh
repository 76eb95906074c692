#!/usr/bin/env bash
# GPU smoke test of the SWEET-RL stages on a random-weight ~0.5B model (no download): critic,
# sample (vLLM when installed), rank and actor, in bf16 with gradient checkpointing, the
# training stages under DeepSpeed ZeRO-3 when DeepSpeed is installed. Prints one JSON line
# per stage (tokens/s, peak GPU memory). Under 10 minutes on one GPU.
#   bash benchmarks/gpu_smoke.sh [DIR] [SIZE]     (SIZE tiny: the same on a CPU, to check it)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DIR=${1:-/tmp/colbench-gpu-smoke}
SIZE=${2:-0.5b}
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 TRANSFORMERS_VERBOSITY=error
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda" if torch.cuda.is_available() else "cpu only")'
"$PY" benchmarks/gpu_smoke.py prepare "$DIR" --size "$SIZE"
if "$PY" -c 'import deepspeed, torch; assert torch.cuda.is_available()' 2>/dev/null; then
  # ZeRO-3 on the one GPU here (the config's 8 processes overridden).
  TRAIN=("$PY" -m accelerate.commands.launch --config_file configs/accelerate/deepspeed_zero3.yaml --num_processes 1
         benchmarks/gpu_smoke.py)
  echo "training under DeepSpeed ZeRO-3"
else
  TRAIN=("$PY" benchmarks/gpu_smoke.py)
  echo "DeepSpeed (or a GPU) is missing: training without ZeRO-3"
fi
"${TRAIN[@]}" critic "$DIR"
"$PY" benchmarks/gpu_smoke.py sample "$DIR"
"$PY" benchmarks/gpu_smoke.py rank "$DIR"
"${TRAIN[@]}" actor "$DIR"
