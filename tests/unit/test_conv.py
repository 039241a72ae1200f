"""Reference convolutions against hand-worked examples and loop oracles."""

import numpy as np
import pytest

import cnnkit.reference
from tests.unit.oracles import conv2d_loops, convolve_full_loops

X = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=float)
K = np.array([[1, 0], [0, -1]], dtype=float)


def test_correlate2d_hand_worked_valid():
    # y[0,0] = 1*1 + 5*(-1) = -4, and so on for every 2x2 window.
    assert np.array_equal(cnnkit.reference.correlate2d(X, K), [[-4, -4], [-4, -4]])


def test_convolve2d_hand_worked_valid_flips_the_kernel():
    # Flipped kernel [[-1, 0], [0, 1]]: y[0,0] = -1 + 5 = 4.
    assert np.array_equal(cnnkit.reference.convolve2d(X, K), [[4, 4], [4, 4]])


def test_convolve2d_full_hand_worked():
    expected = [[1, 2, 3, 0], [4, 4, 4, -3], [7, 4, 4, -6], [0, -7, -8, -9]]
    assert np.array_equal(cnnkit.reference.convolve2d(X, K, mode="full"), expected)


def test_correlate2d_same_with_odd_kernel_keeps_centre():
    identity = np.zeros((3, 3))
    identity[1, 1] = 1
    assert np.array_equal(cnnkit.reference.correlate2d(X, identity, mode="same"), X)
    assert np.array_equal(cnnkit.reference.convolve2d(X, identity, mode="same"), X)


def test_asymmetric_kernel_tells_convolution_from_correlation():
    shift_right = np.array([[0, 0, 1]], dtype=float)
    # Correlation reads the pixel to the right; convolution the one to the left.
    assert np.array_equal(cnnkit.reference.correlate2d(X, shift_right, mode="same")[:, 0], X[:, 1])
    assert np.array_equal(cnnkit.reference.convolve2d(X, shift_right, mode="same")[:, 1], X[:, 0])


@pytest.mark.parametrize("seed", range(40))
def test_convolve2d_full_matches_textbook_definition(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(rng.integers(1, 9, size=2))
    k = rng.standard_normal(rng.integers(1, 6, size=2))
    np.testing.assert_allclose(cnnkit.reference.convolve2d(x, k, mode="full"), convolve_full_loops(x, k), atol=1e-12)


@pytest.mark.parametrize("mode", ["valid", "same", "full"])
@pytest.mark.parametrize("seed", range(30))
def test_convolution_is_correlation_with_flipped_kernel(mode, seed):
    rng = np.random.default_rng(seed)
    k = rng.standard_normal(rng.integers(1, 6, size=2))
    x = rng.standard_normal(np.array(k.shape) + rng.integers(0, 7, size=2))
    np.testing.assert_allclose(
        cnnkit.reference.convolve2d(x, k, mode=mode), cnnkit.reference.correlate2d(x, k[::-1, ::-1], mode=mode), atol=1e-12
    )


@pytest.mark.parametrize("seed", range(20))
def test_valid_and_same_are_crops_of_full(seed):
    rng = np.random.default_rng(seed)
    kh, kw = rng.integers(1, 6, size=2)
    x = rng.standard_normal((kh + rng.integers(0, 6), kw + rng.integers(0, 6)))
    k = rng.standard_normal((kh, kw))
    full = cnnkit.reference.convolve2d(x, k, mode="full")
    h, w = x.shape
    np.testing.assert_allclose(cnnkit.reference.convolve2d(x, k), full[kh - 1:h, kw - 1:w], atol=1e-12)
    top, left = kh // 2, kw // 2  # Keras' 'same' alignment, seen from the flipped kernel
    np.testing.assert_allclose(cnnkit.reference.convolve2d(x, k, "same"), full[top:top + h, left:left + w], atol=1e-12)


@pytest.mark.parametrize("shift", [(1, 0), (0, 2), (3, 1)])
def test_convolution_is_shift_equivariant(shift, rng):
    x = np.zeros((20, 20))
    x[5:12, 4:11] = rng.standard_normal((7, 7))  # zero border: no wrap-around effects
    k = rng.standard_normal((3, 3))
    shifted = np.roll(x, shift, axis=(0, 1))
    np.testing.assert_allclose(
        cnnkit.reference.convolve2d(shifted, k, "same"), np.roll(cnnkit.reference.convolve2d(x, k, "same"), shift, axis=(0, 1)),
        atol=1e-12,
    )


def _layer_case(rng):
    kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
    dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
    strides = tuple(int(v) for v in rng.integers(1, 4, size=2))
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    x = rng.standard_normal((2, span[0] + rng.integers(0, 6), span[1] + rng.integers(0, 6), int(rng.integers(1, 4))))
    kernel = rng.standard_normal((kh, kw, x.shape[-1], int(rng.integers(1, 4))))
    return x, kernel, rng.standard_normal(kernel.shape[-1]), strides, dilation


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("seed", range(40))
def test_conv2d_matches_loop_oracle(padding, seed):
    x, kernel, bias, strides, dilation = _layer_case(np.random.default_rng(seed))
    got = cnnkit.reference.conv2d(x, kernel, bias, strides=strides, padding=padding, dilation_rate=dilation)
    np.testing.assert_allclose(got, conv2d_loops(x, kernel, bias, strides, padding, dilation), atol=1e-10)


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("seed", range(30))
def test_conv1d_matches_loop_oracle(padding, seed):
    x, kernel, bias, strides, dilation = _layer_case(np.random.default_rng(seed))
    x1, k1 = x[:, 0], kernel[0]  # drop the height axis
    got = cnnkit.reference.conv1d(x1, k1, bias, strides=strides[1], padding=padding, dilation_rate=dilation[1])
    expected = conv2d_loops(x1[:, None], k1[None], bias, (1, strides[1]), padding, (1, dilation[1]))[:, 0]
    np.testing.assert_allclose(got, expected, atol=1e-10)


def test_conv2d_keeps_float32_and_works_without_bias(rng):
    x = rng.standard_normal((1, 5, 5, 2)).astype("float32")
    y = cnnkit.reference.conv2d(x, np.ones((3, 3, 2, 4), "float32"))
    assert y.dtype == np.float32 and y.shape == (1, 3, 3, 4)
    np.testing.assert_allclose(y[0, 0, 0, 0], x[0, :3, :3].sum(), rtol=1e-5)


@pytest.mark.parametrize(
    "n, k, s, padding, d, expected",
    [(28, 5, 1, "valid", 1, 24), (28, 5, 1, "same", 1, 28), (28, 3, 2, "same", 1, 14),
     (7, 2, 2, "valid", 1, 3), (7, 2, 2, "same", 1, 4), (10, 3, 1, "valid", 2, 6),
     (10, 3, 1, "causal", 4, 10), (5, 3, 1, "full", 1, 7), (178, 5, 1, "valid", 1, 174)],
)
def test_output_length(n, k, s, padding, d, expected):
    assert cnnkit.reference.output_length(n, k, stride=s, padding=padding, dilation=d) == expected
