#!/usr/bin/env bash
# Installs cnnkit and its test tools into ./.venv (created if missing).
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
