"""Benchmark: reference conv and pooling ops against the Keras layers on CPU.

Prints, for a few realistic sizes, the median time of one forward pass of the
NumPy reference and of the Keras layer (called eagerly, as a hidden test
calls it), and their ratio. Target: the reference within 3x of Keras.

    python benchmarks/bench_ops.py [--repeats 30]
"""

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np
import pandas as pd

from cnnkit.reference.parity import OPS, keras_layer

# (label, op, input shape, kernel shape or None, config)
SIZES = [
    ("conv2d 32x28x28x8 -> 16, 3x3", "conv2d", (32, 28, 28, 8), (3, 3, 8, 16), {}),
    ("conv2d 32x28x28x8 -> 16, 3x3 same s2", "conv2d", (32, 28, 28, 8), (3, 3, 8, 16), {"padding": "same", "strides": 2}),
    ("conv2d 32x32x32x1 -> 6, 5x5 (LeNet C1)", "conv2d", (32, 32, 32, 1), (5, 5, 1, 6), {}),
    ("conv2d 32x14x14x6 -> 16, 5x5 (LeNet C3)", "conv2d", (32, 14, 14, 6), (5, 5, 6, 16), {}),
    ("conv1d 64x178x1 -> 6, k5 (seizure)", "conv1d", (64, 178, 1), (5, 1, 6), {}),
    ("conv1d 64x87x6 -> 16, k5 (seizure)", "conv1d", (64, 87, 6), (5, 6, 16), {}),
    ("max_pool2d 32x28x28x16, 2x2", "max_pool2d", (32, 28, 28, 16), None, {"pool_size": 2}),
    ("average_pool2d 32x28x28x16, 3x3 s2 same", "average_pool2d", (32, 28, 28, 16), None, {"pool_size": 3, "strides": 2, "padding": "same"}),
    ("max_pool1d 64x174x6, 2", "max_pool1d", (64, 174, 6), None, {"pool_size": 2}),
    ("average_pool1d 64x174x6, 2", "average_pool1d", (64, 174, 6), None, {"pool_size": 2}),
]


def median_seconds(fn, repeats):
    fn()  # warm up (Keras traces and allocates on the first call)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    import keras

    rng = np.random.default_rng(0)
    rows = []
    for label, op, shape, kernel_shape, config in SIZES:
        x = rng.standard_normal(shape).astype("float32")
        weights = {}
        if kernel_shape:
            weights = {"kernel": rng.standard_normal(kernel_shape).astype("float32"),
                       "bias": rng.standard_normal(kernel_shape[-1]).astype("float32")}
        reference = OPS[op][0]
        layer = keras_layer(op, **weights, **config)
        x_tensor = keras.ops.convert_to_tensor(x)
        t_ref = median_seconds(lambda: reference(x, **weights, **config), args.repeats)
        t_keras = median_seconds(lambda: keras.ops.convert_to_numpy(layer(x_tensor)), args.repeats)
        rows.append({"size": label, "reference ms": t_ref * 1e3, "keras ms": t_keras * 1e3,
                     "ratio": t_ref / t_keras})
    table = pd.DataFrame(rows)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"Keras {keras.__version__} on {keras.backend.backend()}, CPU")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"worst ratio {table['ratio'].max():.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
