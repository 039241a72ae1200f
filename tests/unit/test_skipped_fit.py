"""The grader's skipped `fit` (`probe.fit_off` / `probe.fit_on`), the one definition that the probe replay and
the kernel's untrained cells both use: while off, no weight moves and the history holds a NaN per epoch under
any name; once on again, Keras's own `fit` is back and trains."""

import math

import numpy as np
import pytest

from autograder.sandbox import probe

keras = pytest.importorskip("keras")


@pytest.fixture
def model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    yield model
    probe.fit_on()  # never leave the suite's Keras untrainable


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 4)).astype("float32"), rng.integers(0, 2, size=16)


def test_fit_off_trains_nothing_and_returns_a_nan_per_epoch(model):
    x, y = _data()
    before = [w.copy() for w in model.get_weights()]
    probe.fit_off()
    history = model.fit(x, y, epochs=3, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert len(history.history["val_accuracy"]) == 3 and all(math.isnan(v) for v in history.history["loss"])
    assert model.history is history
    assert len(model.fit(x, y, 16, 5).history["whatever"]) == 5  # epochs given positionally


@pytest.mark.parametrize("epochs, expected", [("2", 2), (-4, 0), (10**9, 10_000), ("many", 1), (None, 1)])
def test_the_epochs_a_skipped_fit_reports_are_bounded(model, epochs, expected):
    probe.fit_off()
    assert len(model.fit(*_data(), epochs=epochs).history["loss"]) == expected


def test_fit_on_brings_back_keras_own_fit_after_any_number_of_fit_off(model, capsys):
    own = keras.Model.fit
    probe.fit_off(announce=True)
    probe.fit_off()
    model.fit(*_data(), epochs=1)
    assert "fit skipped while grading" in capsys.readouterr().out
    probe.fit_on()
    assert keras.Model.fit is own and "_cnnkit_fit" not in vars(keras.Model)
    before = [w.copy() for w in model.get_weights()]
    model.fit(*_data(), epochs=2, verbose=0)
    assert not all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
