#!/usr/bin/env bash
# Run on the GPU machine, in the repository's root, with .whl/ (scripts/gpu_wheelhouse.sh) beside it: installs
# the wheels into a virtual environment that also sees the machine's own packages (PyTorch, JAX), says what Keras
# will run on, times the budget's training on the GPU and on the CPU, then grades a generated class with
# benchmarks/bench_class.py and prints its figures. Arguments go to bench_class.py; CNNKIT_DATA, when set, is the
# data of the training timing too.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=/tmp/cnnkit-venv
# no pip inside the new environment (its ensurepip may be missing there): the machine's own pip fills it
python3 -m venv --without-pip --system-site-packages "$venv"
packages=$(ls -d "$venv"/lib/python3*/site-packages)
# the machine's packages live in the interpreter's own environment: make them visible in the new one too
python3 -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" > "$packages/machine.pth"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$packages" .whl/*.whl
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1 PYTHONPATH=$PWD \
    XLA_PYTHON_CLIENT_PREALLOCATE=false TF_FORCE_GPU_ALLOW_GROWTH=true
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$venv/bin/python" -c "import keras, cnnkit.devices as d; print('keras', keras.__version__, '|', d.configure().line())"
speed=()  # SPEED=0 skips the training timing
if [ -n "${CNNKIT_DATA:-}" ]; then speed=(--data "$CNNKIT_DATA"); fi
if [ "${SPEED:-1}" = 1 ]; then "$venv/bin/python" benchmarks/bench_gpu_grading.py --speed-only "${speed[@]}"; fi
"$venv/bin/python" benchmarks/bench_class.py "$@"
