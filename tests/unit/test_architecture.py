"""Parameter counts and receptive fields."""

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
