"""Reference pooling against hand-worked examples and a loop oracle."""

import numpy as np
import pytest

import cnnkit.reference
from tests.unit.oracles import pool2d_loops

GRID = np.arange(16, dtype=float).reshape(1, 4, 4, 1)


def test_max_pool2d_hand_worked():
    assert np.array_equal(cnnkit.reference.max_pool2d(GRID)[0, :, :, 0], [[5, 7], [13, 15]])


def test_average_pool2d_hand_worked():
    assert np.array_equal(cnnkit.reference.average_pool2d(GRID)[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]])


def test_same_average_pooling_leaves_padding_out_of_the_mean():
    x = np.ones((1, 5, 5, 1))
    assert np.array_equal(cnnkit.reference.average_pool2d(x, 2, padding="same"), np.ones((1, 3, 3, 1)))


def test_same_max_pooling_never_picks_the_padding():
    x = -np.ones((1, 3, 1))
    assert np.array_equal(cnnkit.reference.max_pool1d(x, 2, padding="same"), -np.ones((1, 2, 1)))


@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("seed", range(30))
def test_pool2d_matches_loop_oracle(kind, padding, seed):
    rng = np.random.default_rng(seed)
    pool = tuple(int(v) for v in rng.integers(1, 5, size=2))
    strides = tuple(int(v) for v in rng.integers(1, 4, size=2))
    x = rng.standard_normal((2, pool[0] + rng.integers(0, 6), pool[1] + rng.integers(0, 6), 3))
    op = cnnkit.reference.max_pool2d if kind == "max" else cnnkit.reference.average_pool2d
    np.testing.assert_allclose(op(x, pool, strides, padding), pool2d_loops(x, pool, strides, padding, kind), atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("seed", range(20))
def test_pool1d_is_pool2d_with_unit_height(kind, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, int(rng.integers(4, 20)), 2))
    pool, stride = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    op1, op2 = (cnnkit.reference.max_pool1d, cnnkit.reference.max_pool2d) if kind == "max" else (cnnkit.reference.average_pool1d, cnnkit.reference.average_pool2d)
    np.testing.assert_allclose(op1(x, pool, stride, "same"), op2(x[:, None], (1, pool), (1, stride), "same")[:, 0])


def test_strides_default_to_pool_size():
    x = np.random.default_rng(0).standard_normal((1, 9, 9, 1))
    np.testing.assert_array_equal(cnnkit.reference.max_pool2d(x, 3), cnnkit.reference.max_pool2d(x, 3, strides=3))
    assert cnnkit.reference.max_pool2d(x, 3).shape == (1, 3, 3, 1)


def test_max_pooling_buys_small_translation_invariance():
    x = np.zeros((1, 8, 8, 1))
    x[0, 2, 2, 0] = 1.0
    moved = np.roll(x, 1, axis=2)  # 2 -> 3: same 2x2 window
    np.testing.assert_array_equal(cnnkit.reference.max_pool2d(x), cnnkit.reference.max_pool2d(moved))
    assert not np.array_equal(x, moved)
