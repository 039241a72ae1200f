"""Device selection logic, tested without a GPU."""

import pytest

from cnnkit import devices


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("YES", True), ("0", False), ("", False)])
def test_force_cpu_requested(value, expected):
    assert devices.force_cpu_requested({devices.FORCE_CPU_ENV: value}) is expected
    assert devices.force_cpu_requested({}) is False


def test_gpu_is_used_when_present_and_not_forced():
    p = devices.plan("jax", ["cuda:0"], force_cpu=False)
    assert p.use_gpu and "GPU (cuda:0)" in p.line() and "share" in p.line()


def test_forcing_the_cpu_hides_gpus():
    p = devices.plan("tensorflow", ["/physical_device:GPU:0"], force_cpu=True)
    assert not p.use_gpu and p.accelerators == () and devices.FORCE_CPU_ENV in p.line()


def test_no_gpu_means_cpu():
    assert devices.plan("torch", [], force_cpu=False).line() == "Keras backend torch: running on CPU; no GPU found"


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_environment_lets_processes_share_a_gpu(backend):
    env = devices.environment_for(backend, force_cpu=False)
    assert env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" and env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert "CUDA_VISIBLE_DEVICES" not in env


def test_environment_when_forcing_cpu():
    assert devices.environment_for("tensorflow", True)["CUDA_VISIBLE_DEVICES"] == ""
    assert devices.environment_for("jax", True)["JAX_PLATFORMS"] == "cpu"


def test_configure_on_this_machine(monkeypatch):
    import keras

    monkeypatch.setenv(devices.FORCE_CPU_ENV, "1")
    p = devices.configure()
    assert p.backend == keras.backend.backend() and not p.use_gpu


def test_time_epochs_times_each_batch_size_on_the_cpu_without_a_gpu():
    import numpy as np

    from cnnkit.devices import time_epochs
    from cnnkit.reference.models import gap_cnn

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(96, 178, 1)).astype("float32"), rng.integers(0, 5, 96)
    timings = time_epochs(gap_cnn, x, y, batch_sizes=(8, 32), rows=64)
    assert [(t.device, t.batch_size) for t in timings] == [("cpu", 8), ("cpu", 32)]
    assert all(t.rows == 64 and t.seconds > 0 and t.samples_per_second == 64 / t.seconds for t in timings)
