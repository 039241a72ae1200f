"""`cnnkit.reference.batch_norm` and `cnnkit.reference.dropout` against Keras' own layers, and
their validation messages."""

import numpy as np
import pytest

import cnnkit.reference

pytestmark = pytest.mark.keras


def _keras_batch_norm(x, gamma, beta, mean, var, training, epsilon=1e-3):
    import keras

    layer = keras.layers.BatchNormalization(epsilon=epsilon)
    layer.build(x.shape)
    layer.set_weights([np.asarray(w, dtype="float32") for w in (gamma, beta, mean, var)])
    return keras.ops.convert_to_numpy(layer(x.astype("float32"), training=training))


@pytest.mark.parametrize("shape", [(16, 4), (8, 10, 3), (4, 5, 6, 2), (1, 7, 1)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("epsilon", [1e-3, 1e-5])
def test_batch_norm_matches_keras_in_both_modes(shape, training, epsilon, rng):
    x = rng.normal(1.5, 2.5, shape)
    channels = shape[-1]
    gamma, beta = rng.uniform(0.5, 2, channels), rng.normal(0, 1, channels)
    mean, var = rng.normal(0, 1, channels), rng.uniform(0.2, 3, channels)
    expected = _keras_batch_norm(x, gamma, beta, mean, var, training, epsilon)
    got = cnnkit.reference.batch_norm(x, gamma, beta, mean, var, training, epsilon)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_batch_norm_in_training_depends_on_the_batch_and_at_evaluation_does_not(rng):
    x, others = rng.normal(size=(8, 6, 3)), rng.normal(2, 1, (7, 6, 3))
    args = (np.ones(3), np.zeros(3), np.zeros(3), np.ones(3))
    for training, differs in ((True, True), (False, False)):
        first = cnnkit.reference.batch_norm(x, *args, training)[0]
        second = cnnkit.reference.batch_norm(np.concatenate([x[:1], others]), *args, training)[0]
        assert (np.abs(first - second).max() > 0.1) == differs


def test_dropout_keeps_what_keras_keeps_scaled_like_keras(rng):
    import keras

    x = rng.normal(size=(400, 50)).astype("float32")
    keras.utils.set_random_seed(0)  # Keras' own mask, the same whatever ran before (the suite runs in random order)
    out = keras.ops.convert_to_numpy(keras.layers.Dropout(0.3)(x, training=True))
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.7, rtol=1e-5)  # Keras' survivors, scaled by 1 / (1 - rate)
    noise = rng.random(x.shape)
    mine = cnnkit.reference.dropout(x, 0.3, True, noise)
    np.testing.assert_allclose(mine, np.where(noise >= 0.3, x / 0.7, 0), rtol=1e-6)
    # 20,000 draws: the share kept has a standard deviation of 0.0032; 0.015 is beyond 4.5 of them
    assert abs(np.mean(mine == 0) - 0.3) < 0.015 and abs(np.mean(kept) - 0.7) < 0.015
    assert abs(mine.mean() - x.mean()) < 0.05, "the expected output is the input"


def test_dropout_at_evaluation_and_at_rate_zero_is_the_identity(rng):
    x, noise = rng.normal(size=(5, 6)), rng.random((5, 6))
    np.testing.assert_array_equal(cnnkit.reference.dropout(x, 0.5, False, noise), x)
    np.testing.assert_array_equal(cnnkit.reference.dropout(x, 0.0, True, noise), x)


@pytest.mark.parametrize("call, error, message", [
    (lambda: cnnkit.reference.batch_norm(np.ones((4, 3)), np.ones(2), np.zeros(3), np.zeros(3), np.ones(3), True), ValueError,
     r"Argument `gamma` must have one entry per channel \(3\); received shape \(2,\)"),
    (lambda: cnnkit.reference.batch_norm(np.ones((4, 3)), np.ones(3), np.zeros(3), np.zeros(3), -np.ones(3), False), ValueError,
     r"`moving_var` must hold variances"),
    (lambda: cnnkit.reference.batch_norm(np.ones(4), np.ones(4), np.zeros(4), np.zeros(4), np.ones(4), True), ValueError,
     r"`x` must be at least 2-D"),
    (lambda: cnnkit.reference.batch_norm(np.ones((4, 3)), np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), "yes"), TypeError,
     r"`training` must be a bool"),
    (lambda: cnnkit.reference.dropout(np.ones((2, 2)), 1.0, True, np.ones((2, 2))), ValueError, r"Expected a number in \[0, 1\)"),
    (lambda: cnnkit.reference.dropout(np.ones((2, 2)), 0.5, True, np.ones(4)), ValueError, r"`noise` must have the shape of `x`"),
])
def test_bad_arguments_get_one_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()
