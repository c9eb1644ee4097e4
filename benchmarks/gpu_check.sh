#!/usr/bin/env bash
# One short GPU check: the paper profile's ViT-B JEPA step at full size in bf16 on synthetic input and the
# tiny profile's step; ms/step, peak memory, MFU against the GPU's bf16 peak (--peak-tflops N to override).
# Writes reports/benchmarks/gpu_step.csv. No test needs it; without a GPU it prints one line and exits 0.
#   benchmarks/gpu_check.sh [--batch 8] [--steps 10] [--peak-tflops 989]
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python}
[ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && py=.venv/bin/python
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" exec "$py" benchmarks/gpu_step.py "$@"
