#!/usr/bin/env bash
# Builds .whl/: the wheels a GPU machine without network lacks to grade with cnnkit there (CPython 3.12,
# x86-64), kept under the 64 MiB that travel with a run. Such a machine (see the device tool's package list) has
# PyTorch, JAX, NumPy, pandas, matplotlib, Jinja2 and tqdm, but not Keras, nbgrader, Jupyter or Dask's
# distributed; what it has is left out. The wheels of the kit's own dependencies come from PyPI as they resolve
# for that machine, so the list follows pyproject.toml.
#
# Then, on the GPU machine, one command grades a generated class and prints the figures:
#   bash scripts/gpu_class.sh [--students 16] [--distinct 12]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
limit=$((60 * 1024 * 1024))
rm -rf .whl .whl-all && mkdir -p .whl .whl-all
# keras and the grading stack, without TensorFlow (the GPU machine's Keras runs on JAX or PyTorch)
mapfile -t wanted < <($python - <<'PY'
import tomllib
for requirement in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    if not requirement.startswith(("tensorflow", "numpy", "pandas", "matplotlib", "tqdm")):
        print(requirement)
PY
)
platforms=()
for n in 17 24 27 28 31 34 35; do platforms+=(--platform "manylinux_2_${n}_x86_64"); done
$python -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" --platform manylinux2014_x86_64 -d .whl-all "${wanted[@]}" ipykernel
# Left out: what the GPU machine already has (names as pip normalises them).
present="absl-py accelerate aiohttp attrs certifi charset-normalizer click cloudpickle contourpy cycler filelock
fonttools fsspec h5py idna jax jaxlib jinja2 joblib kiwisolver markdown-it-py markupsafe matplotlib mdurl ml-dtypes
msgpack numpy packaging pandas pillow pip protobuf psutil pygments pyparsing python-dateutil pytz pyyaml requests
rich scipy setuptools six sortedcontainers sympy toolz torch tqdm typing-extensions tzdata urllib3 wheel zipp
nvidia-* triton"
# Left out too: nbgrader's web interface (JupyterLab and its translations, widgets, builders), never imported when
# grading.
unneeded="jupyterlab jupyterlab-server jupyterlab-widgets jupyter-builder jupyter-lsp widgetsnbextension babel json5"
for wheel in .whl-all/*.whl; do
    name=$(basename "$wheel" | cut -d- -f1 | tr '[:upper:]_' '[:lower:]-')
    keep=1
    for have in $present $unneeded; do
        # shellcheck disable=SC2053
        if [[ $name == $have ]]; then keep=0; break; fi
    done
    if [ $keep = 1 ]; then cp "$wheel" .whl/; fi
done
rm -rf .whl-all
size=$(du -cb .whl/*.whl | tail -1 | cut -f1)
echo "wheelhouse .whl/: $(ls .whl | wc -l) wheels, $((size / 1024 / 1024)) MiB"
if [ "$size" -gt "$limit" ]; then
    echo "gpu_wheelhouse: over the 60 MiB that may travel" >&2
    exit 1
fi
