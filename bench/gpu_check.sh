#!/usr/bin/env bash
# The GPU check (bench/gpu_check.py says what it measures): ~5 minutes on one H100, writes benchmarks/gpu_check.json.
#   bench/gpu_check.sh            # on a CUDA GPU
#   bench/gpu_check.sh --tiny     # anywhere, in seconds: tiny shapes, the same code (benchmarks/gpu_check-tiny.json)
# Python: $PYTHON, else the repository's .venv, else python3 (a GPU image's own, with torch, transformers and peft;
# the 4-bit step also needs bitsandbytes). The kit is imported from src/, so nothing needs installing.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
    if [[ -x "$repo/.venv/bin/python" ]]; then python="$repo/.venv/bin/python"; else python=python3; fi
fi
export PYTHONPATH="$repo/src:$repo/bench${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
exec "$python" "$repo/bench/gpu_check.py" "$@"
