#!/usr/bin/env bash
# Run on the GPU machine, in the repository's root, with .whl/ (scripts/gpu_wheelhouse.sh) beside it: installs
# the wheels into a virtual environment that also sees the machine's own packages (PyTorch, JAX), then grades a
# generated class with benchmarks/bench_class.py and prints its figures. Arguments go to the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=/tmp/cnnkit-venv
python3 -m venv --system-site-packages "$venv"
# the machine's packages live in the interpreter's own environment: make them visible in the new one too
site=$(python3 -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$site" > "$(ls -d "$venv"/lib/python3*/site-packages)/machine.pth"
"$venv/bin/python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir .whl/*.whl
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
"$venv/bin/python" benchmarks/bench_class.py "$@"
