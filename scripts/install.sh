#!/usr/bin/env bash
# Installs cnnkit and its test tools into ./.venv (created if missing).
# CNNKIT_RUNTIME_ONLY=1 leaves out the test tools (Gradescope's setup.sh).
#
# TensorFlow comes as its CPU build (tensorflow-cpu, a third of the download)
# unless CNNKIT_GPU=1, which installs the `gpu` extra (TensorFlow with CUDA).
# Every other dependency is read from pyproject.toml, the one list of them.
set -euo pipefail
cd "$(dirname "$0")/.."

# The grader's sandbox: bubblewrap (Linux namespaces), a Debian package.
# Without it `cnnkit grade` still runs, with weaker isolation, and says so.
if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing bubblewrap (the grading sandbox) with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  else
    echo "note: bubblewrap is missing and cannot be installed here (needs root and apt-get);" \
         "grading will run without namespaces" >&2
  fi
fi

# The tests render the class report in a headless browser: Debian's chromium.
if [ "${CNNKIT_RUNTIME_ONLY:-0}" != 1 ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (the report-rendering tests) with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: chromium is missing and cannot be installed here; the report-rendering test will be skipped" >&2
  fi
fi

python3 -m venv .venv
py=.venv/bin/python
$py -m pip install -q --upgrade pip
if [ "${CNNKIT_GPU:-0}" = 1 ]; then
  $py -m pip install -q -e ".[test,gpu]"
  exit 0
fi
# The runtime and test requirements, with tensorflow swapped for tensorflow-cpu
# (pyproject.toml read with tomllib, or tomli before Python 3.11).
$py -c "import tomllib" 2>/dev/null || $py -m pip install -q tomli
mapfile -t requirements < <($py - <<'PY'
import os
try:
    import tomllib
except ModuleNotFoundError:
    import tomli as tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
test = [] if os.environ.get("CNNKIT_RUNTIME_ONLY") == "1" else project["optional-dependencies"]["test"]
for requirement in project["dependencies"] + test:
    print(requirement.replace("tensorflow", "tensorflow-cpu", 1)
          if requirement.startswith("tensorflow") else requirement)
PY
)
$py -m pip install -q "${requirements[@]}"
$py -m pip install -q --no-deps -e .
if [ "${CNNKIT_RUNTIME_ONLY:-0}" != 1 ]; then
  # The tests run every Keras backend: JAX's and PyTorch's CPU builds too (the `jax` and `torch` extras).
  # PyTorch's CPU build comes from its CPU index; where that cannot be reached, PyPI's build (which carries
  # CUDA libraries, about 3 GB, and runs on the CPU all the same).
  $py -m pip install -q "jax[cpu]>=0.4.26"
  if ! $py -c "import torch" 2>/dev/null; then
    $py -m pip install -q --isolated --retries 0 --timeout 20 --index-url https://download.pytorch.org/whl/cpu \
        "torch>=2.2" 2>/dev/null || $py -m pip install -q "torch>=2.2"
  fi
  echo "cnnkit installed in .venv (TensorFlow CPU build; JAX and PyTorch CPU builds for the tests)"
else
  echo "cnnkit installed in .venv (TensorFlow CPU build)"
fi
