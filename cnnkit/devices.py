"""Device set-up for whichever Keras backend is active (TensorFlow, JAX, PyTorch).

Call `configure()` before the first model is built, ideally before Keras is
imported: several settings are environment variables that a backend reads
once, when it starts.

- Several processes may share one GPU: TensorFlow grows its memory as needed
  (`TF_FORCE_GPU_ALLOW_GROWTH`), JAX does not preallocate most of the card
  (`XLA_PYTHON_CLIENT_PREALLOCATE`); PyTorch allocates lazily anyway.
- `CNNKIT_FORCE_CPU=1` hides every GPU (`CUDA_VISIBLE_DEVICES=""`, and
  `JAX_PLATFORMS=cpu` for JAX), so a run is CPU-only and repeatable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["AVERAGE_POOLING_COUNTS_PADDING", "DEVICE_SCOPES_BREAK_TRAINING", "FORCE_CPU_ENV", "DevicePlan", "EpochTiming", "active_backend",
           "configure", "environment_for", "plan", "time_epochs"]

FORCE_CPU_ENV = "CNNKIT_FORCE_CPU"

# Where Keras' backends differ, in one place. The reference semantics are TensorFlow's (and JAX's): with
# padding="same", AveragePooling averages only the real inputs of a window. Under PyTorch, Keras' AveragePooling
# treats the padded positions its own way (windows reaching into the padding disagree; windows inside the input
# agree). The assignment and the checks follow the reference; `cnnkit.reference.parity` compares such a layer only on
# windows inside the input.
AVERAGE_POOLING_COUNTS_PADDING = frozenset({"torch"})
# Under PyTorch, Keras (3.15) makes the variables of a model built inside `keras.device(...)` non-leaf tensors, so
# the model gets no gradients: there a model trains only on the device Keras places it on by default, and
# `time_epochs` times that device alone.
DEVICE_SCOPES_BREAK_TRAINING = frozenset({"torch"})
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class DevicePlan:
    """What a run will compute on.

    Attributes:
        backend: the Keras backend, e.g. `"tensorflow"`.
        accelerators: names of the GPUs the backend can see.
        use_gpu: whether models will run on a GPU.
        reason: why, in a few words.
    """

    backend: str
    accelerators: tuple
    use_gpu: bool
    reason: str

    def line(self):
        """The plan in one line, for logs and notebooks."""
        where = f"GPU ({', '.join(self.accelerators)})" if self.use_gpu else "CPU"
        return f"Keras backend {self.backend}: running on {where}; {self.reason}"


def active_backend():
    """The Keras backend this process runs (`"tensorflow"`, `"jax"` or `"torch"`)."""
    import keras

    return keras.backend.backend()


def force_cpu_requested(environ=None):
    """Whether `CNNKIT_FORCE_CPU` asks for the CPU.

    Args:
        environ: mapping to read, default `os.environ`.

    Returns:
        True when the variable is set to 1, true, yes or on.
    """
    environ = os.environ if environ is None else environ
    return environ.get(FORCE_CPU_ENV, "").strip().lower() in _TRUE


def environment_for(backend, force_cpu):
    """Environment variables to set before `backend` starts.

    Args:
        backend: `"tensorflow"`, `"jax"` or `"torch"`.
        force_cpu: whether every GPU must be hidden.

    Returns:
        A dict of variable names to values.
    """
    env = {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    if force_cpu:
        env["CUDA_VISIBLE_DEVICES"] = ""
        if backend == "jax":
            env["JAX_PLATFORMS"] = "cpu"
    return env


def plan(backend, accelerators, force_cpu):
    """Decides the device from what the backend sees and what was asked.

    Args:
        backend: the Keras backend name.
        accelerators: sequence of GPU names the backend lists.
        force_cpu: whether the CPU was forced.

    Returns:
        A `DevicePlan`.
    """
    accelerators = tuple(accelerators)
    if force_cpu:
        return DevicePlan(backend, (), False, f"GPUs hidden by {FORCE_CPU_ENV}")
    if not accelerators:
        return DevicePlan(backend, (), False, "no GPU found")
    return DevicePlan(backend, accelerators, True, "memory grows on demand, so processes can share it")


def configure(force_cpu=None):
    """Applies the device settings for the active Keras backend and reports them.

    Args:
        force_cpu: True or False to decide, or None to read `CNNKIT_FORCE_CPU`.

    Returns:
        A `DevicePlan` (print `plan.line()` to say what will be used).
    """
    force_cpu = force_cpu_requested() if force_cpu is None else bool(force_cpu)
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    os.environ.update(environment_for(backend, force_cpu))
    import keras

    backend = keras.backend.backend()
    return plan(backend, _accelerators(backend, force_cpu), force_cpu)


@dataclass(frozen=True)
class EpochTiming:
    """How fast one device trains one model at one batch size.

    Attributes:
        device: `"cpu"` or `"gpu"`.
        batch_size: int, rows per step.
        rows: int, the rows of the timed epoch.
        seconds: float, the timed epoch's wall time (after a warm-up epoch,
            so that compilation is not counted).
    """

    device: str
    batch_size: int
    rows: int
    seconds: float

    @property
    def samples_per_second(self):
        """Training rows per second."""
        return self.rows / self.seconds


def time_epochs(build, x, y, batch_sizes=(32, 512), rows=2048):
    """Times training on this process's GPU (when there is one) and on the CPU.

    Each (device, batch size) trains a fresh model for one warm-up epoch and
    one timed epoch on the first `rows` rows, inside `keras.device`. Under
    PyTorch (see `DEVICE_SCOPES_BREAK_TRAINING`) only the default device is
    timed: the GPU where there is one, else the CPU.

    Args:
        build: function of no arguments returning an uncompiled `keras.Model`.
        x: float32 array (rows, ...), training inputs.
        y: int array (rows,), class indices.
        batch_sizes: ints, the batch sizes to time.
        rows: int, how many rows an epoch takes.

    Returns:
        A list of `EpochTiming`, the GPU's first where there is one.
    """
    import contextlib
    import time

    import keras

    scoped = keras.backend.backend() not in DEVICE_SCOPES_BREAK_TRAINING
    gpu = configure().use_gpu
    devices = (["gpu"] if gpu else []) + (["cpu"] if scoped or not gpu else [])
    x, y = x[:rows], y[:rows]
    timings = []
    for device in devices:
        for batch_size in batch_sizes:
            with keras.device(f"{device}:0") if scoped else contextlib.nullcontext():
                model = build()
                model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
                model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
                start = time.perf_counter()
                model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
                seconds = time.perf_counter() - start
            timings.append(EpochTiming(device, int(batch_size), len(y), seconds))
    return timings


def _accelerators(backend, force_cpu):
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        try:  # only possible before TensorFlow has initialised its devices
            for gpu in gpus:
                tf.config.experimental.set_memory_growth(gpu, True)
            if force_cpu:
                tf.config.set_visible_devices([], "GPU")
        except RuntimeError:
            pass
        return () if force_cpu else tuple(gpu.name for gpu in gpus)
    if backend == "jax":
        import jax

        return tuple(str(d) for d in jax.devices() if d.platform == "gpu")
    if backend == "torch":
        import torch

        return tuple(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    return ()
