"""Parameter counts, receptive fields and the shifts a global average ignores."""

import numpy as np
import pytest

import cnnkit.reference


def test_conv_parameter_count_lenet_layers():
    assert cnnkit.reference.conv_parameter_count((5, 5), 1, 6) == 156
    assert cnnkit.reference.conv_parameter_count((5, 5), 6, 16) == 2416
    assert cnnkit.reference.conv_parameter_count(5, 1, 6, use_bias=False) == 30


def test_dense_parameter_count():
    assert cnnkit.reference.dense_parameter_count(400, 120) == 48120
    assert cnnkit.reference.dense_parameter_count(400, 120, use_bias=False) == 48000


def test_compare_with_dense_separates_locality_and_sharing():
    counts = cnnkit.reference.compare_with_dense((32, 32, 1), filters=6, kernel_size=5)
    assert counts.output_shape == (28, 28, 6)
    assert counts.conv == 156
    assert counts.locally_connected == 28 * 28 * 6 * 26
    assert counts.dense == 32 * 32 * 28 * 28 * 6 + 28 * 28 * 6
    assert counts.conv < counts.locally_connected < counts.dense
    assert counts.saving == pytest.approx(counts.dense / 156)


def test_compare_with_dense_1d_same_strided():
    counts = cnnkit.reference.compare_with_dense((178, 1), filters=6, kernel_size=5, strides=2, padding="same")
    assert counts.output_shape == (89, 6)
    assert counts.conv == 36


@pytest.mark.parametrize(
    "layers, expected",
    [([(3, 1)], 3), ([(3, 1), (3, 1)], 5), ([(5, 1), (2, 2), (5, 1), (2, 2)], 16),
     ([(3, 1, 2)], 5), ([(3, 2), (3, 2), (3, 2)], 15), ([], 1)],
)
def test_receptive_field(layers, expected):
    assert cnnkit.reference.receptive_field(layers) == expected


@pytest.mark.parametrize(
    "layers, max_shift, expected",
    [([(5, 1), (2, 2), (5, 1), (2, 2)], 16, [4, 8, 12, 16]), ([(3, 1)], 3, [1, 2, 3]), ([(3, 2), (2, 3)], 20, [6, 12, 18]),
     ([(7, 4)], 3, []), ([(3, 2, 4)], 5, [2, 4]), ([], 2, [1, 2])],
)
def test_invariant_shifts_are_the_multiples_of_the_product_of_the_strides(layers, max_shift, expected):
    assert cnnkit.reference.invariant_shifts(layers, max_shift) == expected


def test_invariant_shifts_are_the_shifts_after_which_a_strided_stack_and_global_average_give_the_same_output():
    # A NumPy stack: correlation with a 3-tap kernel, max pooling by 2, correlation, max pooling by 3, then the
    # global average. A burst in a flat signal moved by t: unchanged exactly when t is a multiple of 2 * 3.
    rng = np.random.default_rng(0)
    first, second = rng.standard_normal((3, 1, 2)), rng.standard_normal((2, 2, 3))
    signal = np.zeros((1, 120, 1))
    signal[0, 40:70, 0] = rng.standard_normal(30)

    def pooled_average(x):
        x = np.maximum(cnnkit.reference.conv1d(x, first, np.zeros(2)), 0)
        x = cnnkit.reference.max_pool1d(x, 2, 2, "valid")
        x = np.maximum(cnnkit.reference.conv1d(x, second, np.zeros(3)), 0)
        return cnnkit.reference.max_pool1d(x, 3, 3, "valid").mean(axis=1)

    unchanged = [t for t in range(1, 19) if np.allclose(pooled_average(np.roll(signal, t, axis=1)),
                                                        pooled_average(signal), rtol=0, atol=1e-12)]
    assert unchanged == cnnkit.reference.invariant_shifts([(3, 1), (2, 2), (2, 1), (3, 3)], 18) == [6, 12, 18]


def test_conv_multiply_adds_is_every_weight_once_per_output_position():
    # LeNet-5's C1: 28 x 28 positions x 25 weights x 6 filters; AlexNet's first layer: 55 x 55 x 363 x 96.
    assert cnnkit.reference.conv_multiply_adds((32, 32), (5, 5), 1, 6) == 117_600
    assert cnnkit.reference.conv_multiply_adds((227, 227), 11, 3, 96, strides=4) == 105_415_200
    # 'same' with a stride that does not divide: ceil(7 / 2) x ceil(9 / 2) positions.
    assert cnnkit.reference.conv_multiply_adds((7, 9), 3, 2, 5, strides=2, padding="same") == 4 * 5 * 9 * 2 * 5
    assert cnnkit.reference.conv_multiply_adds(178, 5, 1, 8) == 174 * 5 * 8  # 1-D


def test_conv_multiply_adds_agrees_with_the_budgets_count_of_a_keras_layer():
    keras = pytest.importorskip("keras")
    from cnnkit.assignment import model_cost

    inputs = keras.Input((13, 10, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(4, 3, strides=2, padding="same", use_bias=False)(inputs))
    assert model_cost(model).multiply_adds == cnnkit.reference.conv_multiply_adds((13, 10), 3, 3, 4, 2, "same")


def test_conv_multiply_adds_refuses_a_kernel_larger_than_a_valid_input():
    with pytest.raises(ValueError, match="kernel_size"):
        cnnkit.reference.conv_multiply_adds((4, 4), 5, 1, 1)
