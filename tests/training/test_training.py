"""Training: repeatability, early stopping, learnability of the stand-in, plots."""

import matplotlib.image
import numpy as np
import pytest

from cnnkit.reference import models
from cnnkit.data import make_synthetic, split
from cnnkit.training import plot_confusion, plot_history, train

pytestmark = [pytest.mark.keras, pytest.mark.slow]


@pytest.fixture(scope="module")
def splits():
    return split(make_synthetic(seed=11, recordings_per_class=20), by="recording", seed=0)


def _fit(splits, seed, epochs=2):
    return train(lambda: models.build("spec"), splits, epochs=epochs, seed=seed, progress=False)


def test_same_seed_gives_identical_weights_on_cpu(splits):
    a, b = _fit(splits, seed=7), _fit(splits, seed=7)
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.history == b.history


def test_another_seed_gives_other_weights(splits):
    a, b = _fit(splits, seed=7), _fit(splits, seed=8)
    assert not np.array_equal(a.model.get_weights()[0], b.model.get_weights()[0])


def test_stand_in_is_learnt_well_above_chance_on_held_out_recordings(splits):
    result = _fit(splits, seed=0, epochs=8)
    assert result.test.accuracy > 0.6  # chance is 0.2
    assert result.test.per_class_recall[0] > 0.9  # seizures are the easy class
    assert result.test.confusion.sum() == len(splits.test)


def test_best_weights_are_restored(splits):
    result = train(lambda: models.build("spec"), splits, epochs=6, patience=2, seed=1, progress=False)
    val_loss = result.model.evaluate(splits.validation.x, splits.validation.y, verbose=0)[0]
    assert val_loss == pytest.approx(min(result.history["val_loss"]), rel=1e-4)
    assert result.epochs == len(result.history["loss"]) <= 6


def test_plots_are_written_as_pngs(splits, tmp_path):
    result = _fit(splits, seed=0, epochs=2)
    for path in (plot_history(result.history, tmp_path / "h.png"), plot_confusion(result.test, tmp_path / "c.png")):
        image = matplotlib.image.imread(path)
        assert image.ndim == 3 and image.shape[0] > 200 and image.std() > 0  # a real, non-blank picture
