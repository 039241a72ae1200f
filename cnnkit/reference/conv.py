"""Reference convolutions in NumPy: textbook 2-D convolution and correlation,
and the forward pass of Keras' `Conv1D` and `Conv2D` layers.

All layer-shaped functions share one private core, `_correlate_nhwc`, which
computes a strided, dilated cross-correlation by gathering every receptive
field into a matrix (im2col) and multiplying it by the kernel. There is no
Python loop over pixels. The 1-D layer is the 2-D layer with a height of one.

Padding follows Keras (and TensorFlow): for `"same"`, the output has
`ceil(n / stride)` positions and the padding is split with the smaller half
*before* the input; `"causal"` (1-D only) pads only before.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnkit._validation import (
    PADDINGS_1D,
    PADDINGS_2D,
    check_array,
    check_choice,
    check_positive_ints,
)

__all__ = ["convolve2d", "correlate2d", "conv1d", "conv2d", "output_length"]

_MODES = ("valid", "same", "full")


def output_length(input_length, kernel_size, stride=1, padding="valid", dilation=1):
    """Number of output positions of a convolution or pooling along one axis.

    Args:
        input_length: int, the number of input positions (steps or pixels).
        kernel_size: int, the kernel (or pool) width.
        stride: int, the step between neighbouring windows.
        padding: one of `"valid"`, `"same"`, `"causal"`, `"full"`.
        dilation: int, the spacing between kernel taps.

    Returns:
        The output length, an int. `"valid"` keeps only windows that fit,
        `floor((n - d*(k-1) - 1) / s) + 1`; `"same"` and `"causal"` give
        `ceil(n / s)`; `"full"` keeps every window that overlaps the input.

    Raises:
        ValueError: if a size is not a positive int, the padding is unknown,
            or the dilated kernel is longer than the input with `"valid"`.

    Example:

    >>> output_length(28, 5)
    24
    >>> output_length(28, 3, stride=2, padding="same")
    14
    """
    (n,) = check_positive_ints(input_length, name="input_length", n=1)
    (k,) = check_positive_ints(kernel_size, name="kernel_size", n=1)
    (s,) = check_positive_ints(stride, name="stride", n=1)
    (d,) = check_positive_ints(dilation, name="dilation", n=1)
    padding = check_choice(padding, allowed=PADDINGS_1D + ("full",), name="padding")
    _check_fits(n, d * (k - 1) + 1, padding, name="kernel_size", what=f"kernel_size={k}")
    return _output_length(n, k, s, padding, d)


def correlate2d(x, kernel, mode="valid"):
    """2-D cross-correlation of one image with one kernel (no flip).

    This is what a Keras `Conv2D` layer computes:
    `y[i, j] = sum_{m, n} x[i + m, j + n] * kernel[m, n]`.

    Args:
        x: float array of shape (height, width).
        kernel: float array of shape (kh, kw).
        mode: `"valid"` (only where the kernel fits), `"same"` (output shaped
            like `x`, zero padding split as in Keras) or `"full"` (every
            overlap, output `(height + kh - 1, width + kw - 1)`).

    Returns:
        Float array holding the correlation.

    Raises:
        ValueError: if an array has the wrong rank, is empty or non-finite,
            the mode is unknown, or the kernel is larger than `x` in
            `"valid"` mode.
        TypeError: if an array does not hold real numbers.

    Example:

    >>> correlate2d([[1, 2, 3], [4, 5, 6]], [[1, 0], [0, -1]])
    array([[-4., -4.]])
    """
    x, kernel, mode = _check_single_channel(x, kernel, mode)
    y = _correlate_nhwc(
        x[None, :, :, None], kernel[:, :, None, None], None, (1, 1), (1, 1), (mode, mode)
    )
    return y[0, :, :, 0]


def convolve2d(x, kernel, mode="valid"):
    """2-D discrete convolution of one image with one kernel, as defined.

    The kernel is flipped along both axes before it slides:
    `y[i, j] = sum_{m, n} x[i - m, j - n] * kernel[m, n]`, so that
    `convolve2d(x, k) == correlate2d(x, k[::-1, ::-1])` in every mode.

    Args:
        x: float array of shape (height, width).
        kernel: float array of shape (kh, kw).
        mode: `"valid"`, `"same"` or `"full"`, as in `correlate2d`. With an
            even-sized kernel, `"same"` aligns like Keras' padding, which is
            one pixel off `scipy.signal.convolve2d`.

    Returns:
        Float array holding the convolution.

    Raises:
        ValueError: as `correlate2d`.
        TypeError: as `correlate2d`.

    Example:

    >>> convolve2d([[1, 2, 3], [4, 5, 6]], [[1, 0], [0, -1]])
    array([[4., 4.]])
    """
    x, kernel, mode = _check_single_channel(x, kernel, mode)
    return correlate2d(x, kernel[::-1, ::-1], mode)


def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1):
    """Forward pass of a `keras.layers.Conv2D` layer (channels last).

    Args:
        x: float array of shape (batch, height, width, in_channels).
        kernel: float array of shape (kh, kw, in_channels, filters), the
            layout Keras stores (`layer.kernel`).
        bias: optional float array of shape (filters,).
        strides: int or tuple of 2 ints, the step between windows.
        padding: `"valid"` or `"same"`.
        dilation_rate: int or tuple of 2 ints, the spacing between taps.

    Returns:
        Float array of shape (batch, out_height, out_width, filters), with
        each output size given by `output_length`. No activation is applied.

    Raises:
        ValueError: if a shape, stride, dilation or padding is invalid, the
            kernel's input channels differ from `x`'s, or the dilated kernel
            is larger than the input with `"valid"` padding.
        TypeError: if an array does not hold real numbers.
    """
    x = check_array(x, name="x", ndim=4, layout="(batch, height, width, channels)")
    kernel = check_array(
        kernel, name="kernel", ndim=4, layout="(kh, kw, in_channels, filters)"
    )
    bias = _check_bias(bias, kernel.shape[-1])
    strides = check_positive_ints(strides, name="strides", n=2)
    dilation = check_positive_ints(dilation_rate, name="dilation_rate", n=2)
    padding = check_choice(padding, allowed=PADDINGS_2D, name="padding")
    _check_channels(x.shape[-1], kernel.shape)
    _check_kernel_fits(x.shape[1:3], kernel.shape[:2], dilation, padding)
    return _correlate_nhwc(x, kernel, bias, strides, dilation, (padding, padding))


def conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1):
    """Forward pass of a `keras.layers.Conv1D` layer (channels last).

    Args:
        x: float array of shape (batch, steps, in_channels).
        kernel: float array of shape (k, in_channels, filters), as Keras
            stores it.
        bias: optional float array of shape (filters,).
        strides: int, the step between windows.
        padding: `"valid"`, `"same"` or `"causal"` (pad only before, so an
            output never sees a later input).
        dilation_rate: int, the spacing between taps.

    Returns:
        Float array of shape (batch, out_steps, filters).

    Raises:
        ValueError: as `conv2d`.
        TypeError: if an array does not hold real numbers.
    """
    x = check_array(x, name="x", ndim=3, layout="(batch, steps, channels)")
    kernel = check_array(kernel, name="kernel", ndim=3, layout="(k, in_channels, filters)")
    bias = _check_bias(bias, kernel.shape[-1])
    (stride,) = check_positive_ints(strides, name="strides", n=1)
    (dilation,) = check_positive_ints(dilation_rate, name="dilation_rate", n=1)
    padding = check_choice(padding, allowed=PADDINGS_1D, name="padding")
    _check_channels(x.shape[-1], kernel.shape)
    _check_kernel_fits(x.shape[1:2], kernel.shape[:1], (dilation,), padding)
    y = _correlate_nhwc(
        x[:, None], kernel[None], bias, (1, stride), (1, dilation), ("valid", padding)
    )
    return y[:, 0]


# ---------------------------------------------------------------- internals


def _output_length(n, k, s, padding, d=1):
    span = d * (k - 1) + 1
    if padding == "valid":
        return (n - span) // s + 1
    if padding == "full":
        return (n + span - 2) // s + 1
    return -(-n // s)  # same, causal


def _pad_amounts(n, k, s, padding, d=1):
    """(before, after) zero padding for one axis, as Keras/TensorFlow pad."""
    span = d * (k - 1) + 1
    if padding == "valid":
        return 0, 0
    if padding == "full":
        return span - 1, span - 1
    if padding == "causal":
        return span - 1, 0
    total = max((_output_length(n, k, s, padding, d) - 1) * s + span - n, 0)
    return total // 2, total - total // 2


def _correlate_nhwc(x, kernel, bias, strides, dilation, paddings):
    kh, kw, channels, filters = kernel.shape
    pads = [
        _pad_amounts(n, k, s, p, d)
        for n, k, s, p, d in zip(x.shape[1:3], (kh, kw), strides, paddings, dilation)
    ]
    x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    span = [d * (k - 1) + 1 for k, d in zip((kh, kw), dilation)]
    windows = sliding_window_view(x, span, axis=(1, 2))
    windows = windows[:, :: strides[0], :: strides[1], :, :: dilation[0], :: dilation[1]]
    batch, out_h, out_w = windows.shape[:3]
    # (batch, out_h, out_w, kh, kw, channels) matches kernel.reshape(-1, filters).
    columns = np.ascontiguousarray(windows.transpose(0, 1, 2, 4, 5, 3))
    dtype = np.result_type(x, kernel)
    y = columns.reshape(-1, kh * kw * channels) @ kernel.reshape(-1, filters).astype(dtype)
    if bias is not None:
        y += bias.astype(dtype)
    return y.reshape(batch, out_h, out_w, filters)


def _check_single_channel(x, kernel, mode):
    x = check_array(x, name="x", ndim=2, layout="(height, width)")
    kernel = check_array(kernel, name="kernel", ndim=2, layout="(kh, kw)")
    mode = check_choice(mode, allowed=_MODES, name="mode")
    _check_kernel_fits(x.shape, kernel.shape, (1, 1), mode, name="kernel")
    return x, kernel, mode


def _check_bias(bias, filters):
    if bias is None:
        return None
    bias = check_array(bias, name="bias", ndim=1, layout="(filters,)")
    if bias.shape[0] != filters:
        raise ValueError(
            f"Argument `bias` must have one value per filter, shape ({filters},); "
            f"received shape {bias.shape}."
        )
    return bias


def _check_channels(x_channels, kernel_shape):
    """The kernel's input-channel axis (second to last) must match `x`'s last axis."""
    if x_channels != kernel_shape[-2]:
        expected = kernel_shape[:-2] + (x_channels, kernel_shape[-1])
        raise ValueError(
            f"Argument `kernel` expects {kernel_shape[-2]} input channels but `x` has "
            f"{x_channels} (its last axis, channels last); expected a kernel of shape "
            f"{expected}. Is `x` channels-first?"
        )


def _check_kernel_fits(input_shape, kernel_shape, dilation, padding, name="kernel"):
    for n, k, d in zip(input_shape, kernel_shape, dilation):
        _check_fits(n, d * (k - 1) + 1, padding, name=name, what=f"shape {tuple(kernel_shape)}")


def _check_fits(n, span, padding, *, name, what):
    if padding == "valid" and span > n:
        raise ValueError(
            f"Argument `{name}` ({what}, spanning {span} with dilation) is larger than "
            f"the input ({n}) with 'valid' padding; use padding='same' or a smaller kernel."
        )
