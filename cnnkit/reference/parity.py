"""Run a reference op and the Keras layer it mirrors on the same input and weights.

Used by `cnnkit compare` (a quick proof that the reference agrees with the
installed Keras) and by the operations benchmark. Keras is imported lazily:
importing `cnnkit` alone stays NumPy-only and fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnkit.reference.conv import conv1d, conv2d
from cnnkit.reference.pooling import average_pool1d, average_pool2d, max_pool1d, max_pool2d

__all__ = ["OPS", "ParityRow", "keras_forward", "parity_report", "random_case", "reference_as_keras"]

# reference op name -> (reference function, Keras layer class name)
OPS = {
    "conv1d": (conv1d, "Conv1D"),
    "conv2d": (conv2d, "Conv2D"),
    "max_pool1d": (max_pool1d, "MaxPooling1D"),
    "max_pool2d": (max_pool2d, "MaxPooling2D"),
    "average_pool1d": (average_pool1d, "AveragePooling1D"),
    "average_pool2d": (average_pool2d, "AveragePooling2D"),
}


def keras_layer(op, kernel=None, bias=None, **config):
    """Builds the Keras layer mirroring reference `op`, holding the given weights.

    Args:
        op: a key of `OPS`.
        kernel: for convolutions, float array in Keras' kernel layout.
        bias: for convolutions, optional float array of shape (filters,).
        **config: the op's keyword arguments (`strides`, `padding`, ...).

    Returns:
        A built `keras.layers.Layer`.
    """
    import keras

    cls = getattr(keras.layers, OPS[op][1])
    if not op.startswith("conv"):
        return cls(**config)
    layer = cls(
        filters=kernel.shape[-1],
        kernel_size=kernel.shape[:-2],
        use_bias=bias is not None,
        **config,
    )
    rank = kernel.ndim - 2
    layer.build((None,) * (rank + 1) + (kernel.shape[-2],))
    layer.set_weights([kernel] if bias is None else [kernel, bias])
    return layer


def keras_forward(op, x, kernel=None, bias=None, **config):
    """Output of the Keras layer mirroring reference `op` (see `keras_layer`).

    Args:
        op: a key of `OPS`.
        x: float32 array, channels last.
        kernel: for convolutions, the kernel in Keras' layout.
        bias: for convolutions, optional bias.
        **config: the op's keyword arguments.

    Returns:
        The layer's output as a NumPy array.
    """
    import keras

    layer = keras_layer(op, kernel, bias, **config)
    return keras.ops.convert_to_numpy(layer(x))


def reference_as_keras(op, **case):
    """The reference op's output, with NaN where the active backend's Keras
    layer is known to define the op differently.

    Under a backend of `cnnkit.devices.AVERAGE_POOLING_COUNTS_PADDING`,
    Keras' 'same' average pooling treats padded positions its own way, so
    the windows that reach into the padding are NaN: only windows inside the
    input are compared.

    Args:
        op: a key of `OPS`.
        **case: the op's arguments, as for `keras_forward`.

    Returns:
        A NumPy array.
    """
    from cnnkit.devices import AVERAGE_POOLING_COUNTS_PADDING, active_backend

    out = OPS[op][0](**case)
    if op.startswith("average") and case.get("padding") == "same" and active_backend() in AVERAGE_POOLING_COUNTS_PADDING:
        window = tuple(np.atleast_1d(case["pool_size"]))
        conv = conv2d if len(window) == 2 else conv1d
        ones = np.ones(case["x"].shape[:-1] + (1,), dtype="float32")
        inside = conv(ones, np.ones(window + (1, 1), dtype="float32"), strides=case["strides"], padding="same")
        out = np.where(inside == np.prod(window), out, np.nan).astype(out.dtype)
    return out


def random_case(op, rng):
    """Draws a random valid input and configuration for `op`.

    Args:
        op: a key of `OPS`.
        rng: a `numpy.random.Generator`.

    Returns:
        A dict of keyword arguments for both the reference op and
        `keras_forward` (`x`, and `kernel`, `bias` for convolutions).
    """
    rank = 2 if op.endswith("2d") else 1
    conv = op.startswith("conv")
    window = tuple(int(k) for k in rng.integers(1, 6, size=rank))
    strides = tuple(int(s) for s in rng.integers(1, 4, size=rank))
    dilation = (1,) * rank
    if conv and rng.random() < 0.3:  # Keras refuses dilation with strides > 1
        strides, dilation = (1,) * rank, tuple(int(d) for d in rng.integers(1, 4, size=rank))
    span = [d * (k - 1) + 1 for k, d in zip(window, dilation)]
    sizes = tuple(int(s + rng.integers(0, 9)) for s in span)
    channels = int(rng.integers(1, 5))
    case = {
        "x": rng.standard_normal((int(rng.integers(1, 4)),) + sizes + (channels,)).astype("float32"),
        "strides": strides if rank == 2 else strides[0],
        "padding": str(rng.choice(["valid", "same"] + (["causal"] if op == "conv1d" else []))),
    }
    if conv:
        filters = int(rng.integers(1, 5))
        case["kernel"] = rng.standard_normal(window + (channels, filters)).astype("float32")
        case["bias"] = rng.standard_normal(filters).astype("float32") if rng.random() < 0.7 else None
        case["dilation_rate"] = dilation if rank == 2 else dilation[0]
    else:
        case["pool_size"] = window if rank == 2 else window[0]
    return case


@dataclass(frozen=True)
class ParityRow:
    """How closely one reference op agreed with Keras over random cases."""

    op: str
    layer: str
    cases: int
    max_abs_error: float

    @property
    def agrees(self):
        """Whether every case agreed to float32 tolerance."""
        return self.max_abs_error <= 1e-4


def parity_report(cases=50, seed=0):
    """Compares every reference op with its Keras layer on random cases.

    Args:
        cases: int, random cases per op.
        seed: int, seed of the random cases.

    Returns:
        A list of `ParityRow`, one per op in `OPS`.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for op, (_, layer_name) in OPS.items():
        worst = 0.0
        for _ in range(cases):
            case = random_case(op, rng)
            expected = keras_forward(op, **case)
            worst = max(worst, float(np.nanmax(np.abs(reference_as_keras(op, **case) - expected), initial=0.0)))
        rows.append(ParityRow(op, layer_name, cases, worst))
    return rows
