"""Reference pooling in NumPy: the forward pass of Keras' `MaxPooling1D/2D`
and `AveragePooling1D/2D` (channels last).

One private core, `_pool_nhwc`, visits each *tap* of the pooling window
(never each pixel) and folds the strided slices together with a maximum or
a sum. Padding follows Keras: `"same"` gives `ceil(n / stride)` outputs; max
pooling never picks the padding, and average pooling divides by the number
of real (non-padded) inputs in each window.
"""

from __future__ import annotations

import numpy as np

from cnnkit._validation import PADDINGS_2D, check_array, check_choice, check_positive_ints
from cnnkit.reference.conv import _check_fits, _output_length, _pad_amounts

__all__ = ["max_pool1d", "max_pool2d", "average_pool1d", "average_pool2d"]


def max_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """Forward pass of `keras.layers.MaxPooling2D`.

    Args:
        x: float array of shape (batch, height, width, channels).
        pool_size: int or tuple of 2 ints, the window size.
        strides: int, tuple of 2 ints, or None for `pool_size` (Keras'
            default: windows that do not overlap).
        padding: `"valid"` or `"same"`.

    Returns:
        Float array of shape (batch, out_height, out_width, channels) holding
        the largest value of each window, channel by channel.

    Raises:
        ValueError: if `x` is not 4-D or is non-finite, a size is not a
            positive int, the padding is unknown, or the window is larger
            than the input with `"valid"` padding.
        TypeError: if `x` does not hold real numbers.
    """
    return _pool2d(x, pool_size, strides, padding, "max")


def average_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """Forward pass of `keras.layers.AveragePooling2D`.

    Args:
        x: float array of shape (batch, height, width, channels).
        pool_size: int or tuple of 2 ints, the window size.
        strides: int, tuple of 2 ints, or None for `pool_size`.
        padding: `"valid"` or `"same"`; with `"same"`, padded positions are
            left out of the mean.

    Returns:
        Float array of shape (batch, out_height, out_width, channels) holding
        the mean of each window.

    Raises:
        ValueError: as `max_pool2d`.
        TypeError: as `max_pool2d`.
    """
    return _pool2d(x, pool_size, strides, padding, "average")


def max_pool1d(x, pool_size=2, strides=None, padding="valid"):
    """Forward pass of `keras.layers.MaxPooling1D`.

    Args:
        x: float array of shape (batch, steps, channels).
        pool_size: int, the window length.
        strides: int or None for `pool_size`.
        padding: `"valid"` or `"same"`.

    Returns:
        Float array of shape (batch, out_steps, channels).

    Raises:
        ValueError: as `max_pool2d`, for a 3-D `x`.
        TypeError: as `max_pool2d`.
    """
    return _pool1d(x, pool_size, strides, padding, "max")


def average_pool1d(x, pool_size=2, strides=None, padding="valid"):
    """Forward pass of `keras.layers.AveragePooling1D`.

    Args:
        x: float array of shape (batch, steps, channels).
        pool_size: int, the window length.
        strides: int or None for `pool_size`.
        padding: `"valid"` or `"same"`.

    Returns:
        Float array of shape (batch, out_steps, channels).

    Raises:
        ValueError: as `max_pool2d`, for a 3-D `x`.
        TypeError: as `max_pool2d`.
    """
    return _pool1d(x, pool_size, strides, padding, "average")


# ---------------------------------------------------------------- internals


def _pool2d(x, pool_size, strides, padding, mode):
    x = check_array(x, name="x", ndim=4, layout="(batch, height, width, channels)")
    pool = check_positive_ints(pool_size, name="pool_size", n=2)
    strides = pool if strides is None else check_positive_ints(strides, name="strides", n=2)
    padding = check_choice(padding, allowed=PADDINGS_2D, name="padding")
    for n, k in zip(x.shape[1:3], pool):
        _check_fits(n, k, padding, name="pool_size", what=f"pool_size={pool}")
    return _pool_nhwc(x, pool, strides, padding, mode)


def _pool1d(x, pool_size, strides, padding, mode):
    x = check_array(x, name="x", ndim=3, layout="(batch, steps, channels)")
    (pool,) = check_positive_ints(pool_size, name="pool_size", n=1)
    (stride,) = (pool,) if strides is None else check_positive_ints(strides, name="strides", n=1)
    padding = check_choice(padding, allowed=PADDINGS_2D, name="padding")
    _check_fits(x.shape[1], pool, padding, name="pool_size", what=f"pool_size={pool}")
    return _pool_nhwc(x[:, None], (1, pool), (1, stride), padding, mode)[:, 0]


def _pool_nhwc(x, pool, strides, padding, mode):
    sizes = x.shape[1:3]
    pads = [_pad_amounts(n, k, s, padding) for n, k, s in zip(sizes, pool, strides)]
    outs = [_output_length(n, k, s, padding) for n, k, s in zip(sizes, pool, strides)]
    fill = -np.inf if mode == "max" else 0.0
    x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=fill)
    fold = np.maximum if mode == "max" else np.add
    y = None
    for i in range(pool[0]):
        for j in range(pool[1]):
            tap = x[
                :,
                i : i + (outs[0] - 1) * strides[0] + 1 : strides[0],
                j : j + (outs[1] - 1) * strides[1] + 1 : strides[1],
            ]
            y = tap.copy() if y is None else fold(y, tap, out=y)
    if mode == "average":
        counts = [
            _real_inputs_per_window(n, k, s, before, out)
            for n, k, s, (before, _), out in zip(sizes, pool, strides, pads, outs)
        ]
        y /= np.outer(*counts)[None, :, :, None].astype(y.dtype)
    return y


def _real_inputs_per_window(n, k, s, before, out):
    """How many non-padded inputs each window along one axis covers."""
    starts = np.arange(out) * s
    return np.minimum(starts + k, before + n) - np.maximum(starts, before)
