"""Every Keras backend (TensorFlow, JAX, PyTorch), each in its own process
(a process runs one backend): the device plan, the library's tests, and model
files that cross backends."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BACKENDS = ["tensorflow", "jax", "torch"]


def _start(backend, code, *args, **env):
    """A Python process running `code` under `backend`, started (the processes of a test run side by side)."""
    environ = {key: value for key, value in os.environ.items() if key != "CNNKIT_FORCE_CPU"}
    environ.update(KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", **env)
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=environ, cwd=REPO)


def _lines(process):
    """The stdout lines of a process from `_start`, once it has ended well."""
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    return stdout.strip().splitlines()


PLAN = """
    import os
    from cnnkit.devices import configure
    plan = configure()
    print(plan.line())
    import keras
    print(keras.backend.backend(), os.environ.get("CUDA_VISIBLE_DEVICES"), os.environ.get("JAX_PLATFORMS"))
"""


@pytest.fixture(scope="module")
def plans():
    """The last two lines of `PLAN` under each backend, with and without CNNKIT_FORCE_CPU."""
    started = {(backend, force): _start(backend, PLAN, **({"CNNKIT_FORCE_CPU": "1"} if force else {}))
               for backend in BACKENDS for force in (False, True)}
    return {key: _lines(process)[-2:] for key, process in started.items()}


@pytest.mark.parametrize("backend", BACKENDS)
def test_device_plan_under_each_backend(backend, plans):
    line, seen = plans[backend, False]
    assert line == f"Keras backend {backend}: running on CPU; no GPU found"
    assert seen.split()[0] == backend
    line, seen = plans[backend, True]
    assert line == f"Keras backend {backend}: running on CPU; GPUs hidden by CNNKIT_FORCE_CPU"
    hidden = f"{backend}  cpu" if backend == "jax" else f"{backend}  None"  # CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS
    assert seen == hidden


@pytest.fixture(scope="module")
def library_runs():
    """The tests that touch Keras, run under JAX and under PyTorch side by side (each in its own pytest)."""
    numpy_only = ["tests/checks/test_same_points.py", "tests/checks/test_function_checks.py"]  # no Keras in them
    tests = ["tests/parity", "tests/checks", "tests/models", "tests/unit/test_devices.py",
             *(f"--ignore={path}" for path in numpy_only)]
    started = {backend: subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
                                         env={**os.environ, "KERAS_BACKEND": backend, "CNNKIT_PARITY_EXAMPLES": "25"})
               for backend in ("jax", "torch")}
    finished = {}
    for backend, process in started.items():
        stdout, _ = process.communicate(timeout=1200)
        finished[backend] = (process.returncode, stdout)
    return finished


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_library_tests_pass_under(backend, library_runs):
    """The tests that touch Keras (parity with its layers, checks, models, devices), unchanged, under another
    backend (the property tests with 25 examples per op rather than TensorFlow's 100); the NumPy-only unit tests
    do not depend on it, and the whole suite runs under TensorFlow."""
    returncode, stdout = library_runs[backend]
    assert returncode == 0, stdout[-4000:]
    assert " passed" in stdout.splitlines()[-1]


SAVE = """
    import sys
    import numpy as np
    import keras
    from cnnkit.reference import models
    keras.utils.set_random_seed(0)
    model = models.spec_cnn()
    model.save(sys.argv[1] if len(sys.argv) > 1 else {path!r})
    x = np.random.default_rng(0).standard_normal((4, 178, 1)).astype("float32")
    np.save({path!r} + ".x.npy", x)
    np.save({path!r} + ".y.npy", keras.ops.convert_to_numpy(model(x, training=False)))
"""

GRADE = """
    import numpy as np
    import keras
    from cnnkit.reference import models
    from cnnkit.checks.models import load_model_safely, spec_verdict
    model, _ = load_model_safely({path!r})
    x, y = np.load({path!r} + ".x.npy"), np.load({path!r} + ".y.npy")
    same = np.allclose(keras.ops.convert_to_numpy(model(x, training=False)), y, atol=1e-4)
    verdict = spec_verdict(model, models.spec_cnn(), points=2)
    print(keras.backend.backend(), same, verdict.score)
"""


PAIRS = [("jax", "tensorflow"), ("torch", "tensorflow"), ("tensorflow", "jax"), ("tensorflow", "torch")]


@pytest.fixture(scope="module")
def cross_graded(tmp_path_factory):
    """The spec CNN saved under each backend, then loaded and graded under another (each step side by side):
    (saved, graded) -> (the grading backend, same outputs, spec score)."""
    folder = tmp_path_factory.mktemp("saved")
    paths = {backend: str(folder / f"from-{backend}.keras") for backend in BACKENDS}
    for process in [_start(backend, SAVE.format(path=path)) for backend, path in paths.items()]:
        _lines(process)
    started = {(saved, graded): _start(graded, GRADE.format(path=paths[saved])) for saved, graded in PAIRS}
    return {pair: _lines(process)[-1].split() for pair, process in started.items()}


@pytest.mark.slow
@pytest.mark.parametrize("saved, graded", PAIRS)
def test_a_model_saved_under_one_backend_is_graded_under_another(saved, graded, cross_graded):
    backend, same, score = cross_graded[saved, graded]
    assert backend == graded and same == "True", "the same weights give the same outputs"
    assert float(score) == 2.0, "a model following the spec gets full marks whichever backend saved it"
