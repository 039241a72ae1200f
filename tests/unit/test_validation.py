"""Every validation rule at the public boundary, with the message pinned:
students read these messages as feedback, so each must name the argument."""

import numpy as np
import pytest

import cnnkit.reference

IMG = np.zeros((1, 5, 5, 2))
KER = np.zeros((3, 3, 2, 4))
SIG = np.zeros((1, 10, 2))


@pytest.mark.parametrize(
    "call, error, message",
    [
        # wrong rank
        (lambda: cnnkit.reference.conv2d(np.zeros((5, 5, 2)), KER), ValueError,
         r"Argument `x` must be a 4-D array of shape \(batch, height, width, channels\); received shape \(5, 5, 2\)"),
        (lambda: cnnkit.reference.conv2d(IMG, np.zeros((3, 3, 2))), ValueError, r"Argument `kernel` must be a 4-D array"),
        (lambda: cnnkit.reference.conv1d(IMG, np.zeros((3, 2, 4))), ValueError, r"Argument `x` must be a 3-D array of shape \(batch, steps, channels\)"),
        (lambda: cnnkit.reference.correlate2d(np.zeros(5), np.zeros((2, 2))), ValueError, r"Argument `x` must be a 2-D array"),
        (lambda: cnnkit.reference.max_pool2d(SIG), ValueError, r"Argument `x` must be a 4-D array"),
        (lambda: cnnkit.reference.average_pool1d(IMG), ValueError, r"Argument `x` must be a 3-D array"),
        # channel mismatch (and the channels-first hint)
        (lambda: cnnkit.reference.conv2d(IMG, np.zeros((3, 3, 3, 4))), ValueError,
         r"Argument `kernel` expects 3 input channels but `x` has 2 .*\(3, 3, 2, 4\).*channels-first"),
        (lambda: cnnkit.reference.conv1d(SIG, np.zeros((3, 5, 4))), ValueError, r"Argument `kernel` expects 5 input channels but `x` has 2"),
        (lambda: cnnkit.reference.conv2d(IMG, KER, bias=np.zeros(3)), ValueError, r"Argument `bias` must have one value per filter, shape \(4,\)"),
        # kernel larger than the input in 'valid' mode
        (lambda: cnnkit.reference.conv2d(IMG, np.zeros((6, 3, 2, 4))), ValueError, r"Argument `kernel` .* is larger than the input \(5\) with 'valid' padding"),
        (lambda: cnnkit.reference.conv2d(IMG, KER, dilation_rate=3), ValueError, r"Argument `kernel` .*spanning 7 with dilation.* larger than the input"),
        (lambda: cnnkit.reference.correlate2d(np.zeros((2, 2)), np.zeros((3, 3))), ValueError, r"Argument `kernel` .* larger than the input"),
        (lambda: cnnkit.reference.max_pool1d(SIG, 11), ValueError, r"Argument `pool_size` .* larger than the input \(10\)"),
        (lambda: cnnkit.reference.output_length(3, 5), ValueError, r"Argument `kernel_size` .* larger than the input \(3\)"),
        # non-positive stride, pool size, dilation, sizes
        (lambda: cnnkit.reference.conv2d(IMG, KER, strides=0), ValueError, r"Invalid value for argument `strides`. Expected a strictly positive integer or a tuple of 2 of them. Received strides=0"),
        (lambda: cnnkit.reference.conv2d(IMG, KER, strides=(1, -2)), ValueError, r"argument `strides`.*Received strides=\(1, -2\)"),
        (lambda: cnnkit.reference.conv1d(SIG, np.zeros((3, 2, 4)), strides=1.5), ValueError, r"argument `strides`.*Received strides=1.5"),
        (lambda: cnnkit.reference.conv1d(SIG, np.zeros((3, 2, 4)), dilation_rate=0), ValueError, r"argument `dilation_rate`"),
        (lambda: cnnkit.reference.max_pool2d(IMG, 0), ValueError, r"Invalid value for argument `pool_size`.*Received pool_size=0"),
        (lambda: cnnkit.reference.average_pool1d(SIG, 2, strides=-1), ValueError, r"argument `strides`.*Received strides=-1"),
        (lambda: cnnkit.reference.max_pool2d(IMG, (2, 2, 2)), ValueError, r"argument `pool_size`.*tuple of 2"),
        (lambda: cnnkit.reference.output_length(0, 3), ValueError, r"argument `input_length`"),
        (lambda: cnnkit.reference.conv_parameter_count(3, 0, 4), ValueError, r"argument `in_channels`"),
        (lambda: cnnkit.reference.dense_parameter_count(10, True), ValueError, r"argument `units`"),
        (lambda: cnnkit.reference.receptive_field([(3, 0)]), ValueError, r"argument `layers\[0\]`"),
        (lambda: cnnkit.reference.receptive_field([3]), ValueError, r"argument `layers\[0\]`. Expected a tuple"),
        (lambda: cnnkit.reference.compare_with_dense((5, 5, 5, 1), 2, 3), ValueError, r"Argument `input_shape` must be"),
        # unknown padding / mode
        (lambda: cnnkit.reference.conv2d(IMG, KER, padding="full"), ValueError, r"Invalid value for argument `padding`. Expected one of 'valid', 'same'. Received padding='full'"),
        (lambda: cnnkit.reference.conv2d(IMG, KER, padding="causal"), ValueError, r"argument `padding`"),
        (lambda: cnnkit.reference.conv1d(SIG, np.zeros((3, 2, 4)), padding="zeros"), ValueError, r"argument `padding`. Expected one of 'valid', 'same', 'causal'"),
        (lambda: cnnkit.reference.max_pool1d(SIG, padding=None), ValueError, r"argument `padding`.*Received padding=None"),
        (lambda: cnnkit.reference.convolve2d(np.ones((3, 3)), np.ones((2, 2)), mode="circular"), ValueError, r"argument `mode`. Expected one of 'valid', 'same', 'full'"),
        # non-numeric or non-finite data
        (lambda: cnnkit.reference.conv2d(np.full((1, 5, 5, 2), "a"), KER), TypeError, r"Argument `x` must be an array of real numbers; received an array of dtype <U1"),
        (lambda: cnnkit.reference.conv2d(IMG, KER.astype(bool)), TypeError, r"Argument `kernel` must be an array of real numbers"),
        (lambda: cnnkit.reference.correlate2d([[1, 2], [3]], [[1]]), TypeError, r"Argument `x` must be an array of numbers"),
        (lambda: cnnkit.reference.convolve2d(np.ones((3, 3)) * 1j, np.ones((2, 2))), TypeError, r"Argument `x` must be real"),
        (lambda: cnnkit.reference.conv2d(np.where(np.arange(50).reshape(1, 5, 5, 2) == 7, np.nan, 0.0), KER), ValueError,
         r"Argument `x` must hold finite numbers; received nan at index \(0, 0, 3, 1\)"),
        (lambda: cnnkit.reference.max_pool1d(np.full((1, 4, 1), np.inf)), ValueError, r"Argument `x` must hold finite numbers"),
        (lambda: cnnkit.reference.conv1d(SIG, np.full((3, 2, 4), -np.inf)), ValueError, r"Argument `kernel` must hold finite numbers"),
        (lambda: cnnkit.reference.conv2d(np.zeros((1, 0, 5, 2)), KER), ValueError, r"Argument `x` must not be empty"),
    ],
)
def test_validation_message_names_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
