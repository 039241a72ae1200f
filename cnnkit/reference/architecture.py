"""Counting what a convolution saves and costs: parameters, multiply-adds,
receptive fields and the shifts that a global average ignores.

A dense layer connects every input to every output. A convolution keeps two
ideas apart from that: *local connectivity* (each output sees only a small
window) and *parameter sharing* (every window uses the same kernel).
`compare_with_dense` counts the parameters with neither, the first, and both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cnnkit._validation import check_choice, check_positive_ints
from cnnkit.reference.conv import _check_fits, _output_length

__all__ = [
    "ParameterCounts",
    "compare_with_dense",
    "conv_multiply_adds",
    "conv_parameter_count",
    "dense_parameter_count",
    "invariant_shifts",
    "locally_connected_parameter_count",
    "receptive_field",
]


def conv_parameter_count(kernel_size, in_channels, filters, use_bias=True):
    """Trainable parameters of a Keras convolution layer.

    Args:
        kernel_size: int (1-D) or tuple of ints (one per spatial axis).
        in_channels: int, channels of the input.
        filters: int, channels of the output.
        use_bias: whether the layer has one bias per filter.

    Returns:
        `prod(kernel_size) * in_channels * filters (+ filters)`, an int.

    Raises:
        ValueError: if a size is not a positive int.

    Example:

    >>> conv_parameter_count((5, 5), 1, 6)
    156
    """
    kernel = _as_sizes(kernel_size, "kernel_size")
    (c,) = check_positive_ints(in_channels, name="in_channels", n=1)
    (f,) = check_positive_ints(filters, name="filters", n=1)
    return math.prod(kernel) * c * f + (f if use_bias else 0)


def conv_multiply_adds(input_size, kernel_size, in_channels, filters, strides=1, padding="valid"):
    """Multiply-adds of a convolution layer on one input: every weight once per output position.

    The bias adds are not counted: one addition per output, no multiply.
    (The assignment's budget, `cnnkit.assignment.model_cost`, counts them
    too, about one per kernel's worth of multiply-adds.)

    Args:
        input_size: int (1-D) or tuple of ints, the input's spatial size
            (`(height, width)` in 2-D), without channels.
        kernel_size: int or tuple of ints, one per spatial axis.
        in_channels: int, channels of the input.
        filters: int, channels of the output.
        strides: int or tuple of ints.
        padding: `"valid"` or `"same"`.

    Returns:
        `prod(output size) * prod(kernel_size) * in_channels * filters`, an int.

    Raises:
        ValueError: if a size is not a positive int, the padding is unknown,
            or the kernel is larger than the input with `"valid"` padding.

    Example:

    >>> conv_multiply_adds((32, 32), (5, 5), 1, 6)  # LeNet-5's C1: 28 x 28 positions, 25 weights, 6 filters
    117600
    """
    spatial = _as_sizes(input_size, "input_size")
    kernel = check_positive_ints(kernel_size, name="kernel_size", n=len(spatial))
    strides = check_positive_ints(strides, name="strides", n=len(spatial))
    padding = check_choice(padding, allowed=("valid", "same"), name="padding")
    for n, k in zip(spatial, kernel):
        _check_fits(n, k, padding, name="kernel_size", what=f"kernel_size={kernel}")
    positions = math.prod(_output_length(n, k, s, padding) for n, k, s in zip(spatial, kernel, strides))
    return positions * conv_parameter_count(kernel, in_channels, filters, use_bias=False)


def dense_parameter_count(in_features, units, use_bias=True):
    """Trainable parameters of a `keras.layers.Dense` layer.

    Args:
        in_features: int, the size of the (flattened) input.
        units: int, the size of the output.
        use_bias: whether the layer has one bias per unit.

    Returns:
        `in_features * units (+ units)`, an int.

    Raises:
        ValueError: if a size is not a positive int.
    """
    (n,) = check_positive_ints(in_features, name="in_features", n=1)
    (u,) = check_positive_ints(units, name="units", n=1)
    return n * u + (u if use_bias else 0)


def locally_connected_parameter_count(positions, kernel_size, in_channels, filters, use_bias=True):
    """Trainable parameters of a locally connected layer: a convolution
    without parameter sharing, one kernel (and bias) per output position.

    Args:
        positions: int, the output positions (`out_height * out_width` in 2-D).
        kernel_size: int (1-D) or tuple of ints (one per spatial axis).
        in_channels: int, channels of the input.
        filters: int, channels of the output.
        use_bias: whether each output unit has its own bias.

    Returns:
        `positions * conv_parameter_count(kernel_size, in_channels, filters)`, an int.

    Raises:
        ValueError: if a size is not a positive int.

    Example:

    >>> locally_connected_parameter_count(28 * 28, (5, 5), 1, 6)
    122304
    """
    (n,) = check_positive_ints(positions, name="positions", n=1)
    return n * conv_parameter_count(kernel_size, in_channels, filters, use_bias)


@dataclass(frozen=True)
class ParameterCounts:
    """Parameters of three layers that map the same input to the same output.

    Attributes:
        dense: every output connected to every input (no locality, no sharing).
        locally_connected: each output sees one window, with its own weights
            (local connectivity only).
        conv: each output sees one window, all with the same kernel (local
            connectivity and parameter sharing).
        output_shape: the shared output shape, without the batch axis.
    """

    dense: int
    locally_connected: int
    conv: int
    output_shape: tuple

    @property
    def saving(self):
        """How many times fewer parameters the convolution has than the dense layer."""
        return self.dense / self.conv


def compare_with_dense(input_shape, filters, kernel_size, strides=1, padding="valid"):
    """Counts parameters of a conv layer against dense and locally connected ones.

    Args:
        input_shape: tuple `(steps, channels)` or `(height, width, channels)`,
            without the batch axis.
        filters: int, output channels of the convolution.
        kernel_size: int or tuple of ints, one per spatial axis.
        strides: int or tuple of ints.
        padding: `"valid"` or `"same"`.

    Returns:
        A `ParameterCounts`.

    Raises:
        ValueError: if a size is not a positive int, the padding is unknown,
            or the kernel is larger than the input with `"valid"` padding.

    Example:

    >>> counts = compare_with_dense((32, 32, 1), 6, 5)
    >>> counts.conv, counts.locally_connected, counts.dense
    (156, 122304, 4821600)
    """
    shape = _as_sizes(input_shape, "input_shape")
    if len(shape) not in (2, 3):
        raise ValueError(
            "Argument `input_shape` must be (steps, channels) or (height, width, "
            f"channels), without the batch axis; received input_shape={input_shape!r}."
        )
    spatial, channels = shape[:-1], shape[-1]
    kernel = check_positive_ints(kernel_size, name="kernel_size", n=len(spatial))
    strides = check_positive_ints(strides, name="strides", n=len(spatial))
    padding = check_choice(padding, allowed=("valid", "same"), name="padding")
    (filters,) = check_positive_ints(filters, name="filters", n=1)
    for n, k in zip(spatial, kernel):
        _check_fits(n, k, padding, name="kernel_size", what=f"kernel_size={kernel}")
    out_spatial = tuple(
        _output_length(n, k, s, padding) for n, k, s in zip(spatial, kernel, strides)
    )
    outputs = math.prod(out_spatial) * filters
    return ParameterCounts(
        dense=dense_parameter_count(math.prod(shape), outputs),
        locally_connected=locally_connected_parameter_count(math.prod(out_spatial), kernel, channels, filters),
        conv=conv_parameter_count(kernel, channels, filters),
        output_shape=out_spatial + (filters,),
    )


def receptive_field(layers):
    """Receptive field of a stack of conv and pooling layers along one axis.

    Each layer widens the field by `(span - 1) * jump`, where `span` is its
    dilated kernel width and `jump` the product of the strides before it.

    Args:
        layers: sequence of `(kernel_size, stride)` or
            `(kernel_size, stride, dilation)` tuples of ints, input first.

    Returns:
        The number of input positions that one output of the last layer sees.

    Raises:
        ValueError: if an entry is not such a tuple of positive ints.

    Example:

    >>> receptive_field([(5, 1), (2, 2), (5, 1), (2, 2)])  # LeNet-5's first layers
    16
    """
    field, jump = 1, 1
    for k, s, d in _layer_triples(layers):
        field += d * (k - 1) * jump
        jump *= s
    return field


def invariant_shifts(layers, max_shift):
    """Shifts of the input that leave a global average of a layer stack unchanged.

    Shifting the input by `t` positions shifts the output of a layer whose
    jump (the product of the strides up to it) is `j` by `t / j` of its
    positions. When that is a whole number at every layer, every feature map
    is the old one moved, and a global average of the last one is exactly the
    same. Otherwise some strided layer samples other positions: its maps
    change, not only their place. So the shifts are the multiples of the
    total stride, the product of all the strides: the shifts that leave the
    output unchanged whatever the layers' weights, for a pattern that stays
    away from the input's ends. Kernel sizes play no part. (Particular
    layers may ignore more shifts: an average pooling whose windows tile
    its input, right before the global average, only regroups the sum.)

    Args:
        layers: sequence of `(kernel_size, stride)` or
            `(kernel_size, stride, dilation)` tuples of ints, input first.
        max_shift: int >= 1, the largest shift considered.

    Returns:
        The shifts `t` with `1 <= t <= max_shift`, increasing: a list of ints.

    Raises:
        ValueError: if an entry of `layers` is not such a tuple of positive
            ints, or `max_shift` is not a positive int.

    Example:

    >>> invariant_shifts([(5, 1), (2, 2), (5, 1), (2, 2)], 12)  # the spec CNN with a global-average head
    [4, 8, 12]
    """
    (max_shift,) = check_positive_ints(max_shift, name="max_shift", n=1)
    total = math.prod(s for _, s, _ in _layer_triples(layers))
    return list(range(total, max_shift + 1, total))


def _layer_triples(layers):
    """`layers` as validated `(kernel_size, stride, dilation)` triples of ints."""
    triples = []
    for index, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) not in (2, 3):
            raise ValueError(
                f"Invalid value for argument `layers[{index}]`. Expected a tuple "
                f"(kernel_size, stride) or (kernel_size, stride, dilation). Received {layer!r}."
            )
        padded = tuple(layer) + (1,) * (3 - len(layer))
        triples.append(check_positive_ints(padded, name=f"layers[{index}]", n=3))
    return triples


def _as_sizes(value, name):
    """An int or a non-empty tuple of positive ints, as a tuple."""
    try:
        n = max(len(value), 1)
    except TypeError:  # a single number
        n = 1
    return check_positive_ints(value, name=name, n=n)
