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


def _python(backend, code, **env):
    environ = {key: value for key, value in os.environ.items() if key != "CNNKIT_FORCE_CPU"}
    environ.update(KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", **env)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=environ,
                          cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()


@pytest.mark.parametrize("backend", BACKENDS)
def test_device_plan_under_each_backend(backend):
    code = """
        import os
        from cnnkit.devices import configure
        plan = configure()
        print(plan.line())
        import keras
        print(keras.backend.backend(), os.environ.get("CUDA_VISIBLE_DEVICES"), os.environ.get("JAX_PLATFORMS"))
    """
    line, seen = _python(backend, code)[-2:]
    assert line == f"Keras backend {backend}: running on CPU; no GPU found"
    assert seen.split()[0] == backend
    line, seen = _python(backend, code, CNNKIT_FORCE_CPU="1")[-2:]
    assert line == f"Keras backend {backend}: running on CPU; GPUs hidden by CNNKIT_FORCE_CPU"
    hidden = f"{backend}  cpu" if backend == "jax" else f"{backend}  None"  # CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS
    assert seen == hidden


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_library_tests_pass_under(backend):
    """The tests that touch Keras (parity with its layers, checks, models, devices), unchanged, under another
    backend (the property tests with 25 examples per op rather than TensorFlow's 100); the NumPy-only unit tests
    do not depend on it, and the whole suite runs under TensorFlow."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/parity", "tests/checks",
                           "tests/models", "tests/unit/test_devices.py"], capture_output=True, text=True, cwd=REPO,
                          timeout=1200,
                          env={**os.environ, "KERAS_BACKEND": backend, "CNNKIT_PARITY_EXAMPLES": "25"})
    assert done.returncode == 0, done.stdout[-4000:]
    assert " passed" in done.stdout.splitlines()[-1]


SAVE = """
    import sys
    import numpy as np
    import keras
    from cnnkit import models
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
    from cnnkit import models
    from cnnkit.checks.models import load_model_safely, spec_verdict
    model, _ = load_model_safely({path!r})
    x, y = np.load({path!r} + ".x.npy"), np.load({path!r} + ".y.npy")
    same = np.allclose(keras.ops.convert_to_numpy(model(x, training=False)), y, atol=1e-4)
    verdict = spec_verdict(model, models.spec_cnn(), points=2)
    print(keras.backend.backend(), same, verdict.score)
"""


@pytest.mark.slow
@pytest.mark.parametrize("saved, graded", [("jax", "tensorflow"), ("torch", "tensorflow"), ("tensorflow", "jax"),
                                           ("tensorflow", "torch")])
def test_a_model_saved_under_one_backend_is_graded_under_another(saved, graded, tmp_path):
    path = str(tmp_path / f"from-{saved}.keras")
    _python(saved, SAVE.format(path=path))
    backend, same, score = _python(graded, GRADE.format(path=path))[-1].split()
    assert backend == graded and same == "True", "the same weights give the same outputs"
    assert float(score) == 2.0, "a model following the spec gets full marks whichever backend saved it"
