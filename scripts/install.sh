#!/usr/bin/env bash
# Installs cnnkit and its test tools into ./.venv (created if missing).
#
# TensorFlow comes as its CPU build (tensorflow-cpu, a third of the download)
# unless CNNKIT_GPU=1, which installs the `gpu` extra (TensorFlow with CUDA).
# Every other dependency is read from pyproject.toml, the one list of them.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
py=.venv/bin/python
$py -m pip install -q --upgrade pip
if [ "${CNNKIT_GPU:-0}" = 1 ]; then
  $py -m pip install -q -e ".[test,gpu]"
  exit 0
fi
# The runtime and test requirements, with tensorflow swapped for tensorflow-cpu.
mapfile -t requirements < <($py - <<'PY'
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["test"]:
    print(requirement.replace("tensorflow", "tensorflow-cpu", 1)
          if requirement.startswith("tensorflow") else requirement)
PY
)
$py -m pip install -q "${requirements[@]}"
$py -m pip install -q --no-deps -e .
echo "cnnkit installed in .venv (TensorFlow CPU build)"
