"""Model checks: spec comparison, trained-model scoring, train vs eval mode."""

import keras
import numpy as np
import pytest
from keras import layers

from cnnkit.reference import models
from cnnkit.checks import check_model_spec, check_train_eval_mode, check_trained_model, model_spec
from cnnkit.data import Part

pytestmark = pytest.mark.keras


def test_spec_with_separate_relu_layers_reads_the_same():
    split_relu = keras.Sequential([
        keras.Input((178, 1)), layers.Conv1D(6, 5), layers.ReLU(), layers.MaxPooling1D(2),
        layers.Conv1D(16, 5), layers.Activation("relu"), layers.MaxPooling1D(2), layers.Flatten(),
        layers.Dense(128), layers.ReLU(), layers.Dense(5)])
    assert model_spec(split_relu) == model_spec(models.spec_cnn())


def test_model_following_the_spec_gets_full_marks(capsys):
    built = models.lenet5()

    def build_lenet5():  # a student's builder (a copy of the reference's layers)
        return keras.models.clone_model(built)

    score = check_model_spec(build_lenet5, models.lenet5(), points=3)
    assert type(score) is float and score == 3.0
    assert "follows the spec" in capsys.readouterr().out


def test_unbuilt_sequential_is_built_on_the_reference_input(capsys):
    unbuilt = keras.Sequential([layers.Conv1D(6, 5, activation="relu"), layers.MaxPooling1D(2),
                                layers.Conv1D(16, 5, activation="relu"), layers.MaxPooling1D(2), layers.Flatten(),
                                layers.Dense(128, activation="relu"), layers.Dense(5)])
    assert check_model_spec(unbuilt, models.spec_cnn(), points=2) == 2.0


@pytest.mark.parametrize(
    "change, words",
    [(lambda ls: ls.__setitem__(0, layers.Conv2D(6, 5, activation="relu")), "layer 1 (Conv2D): activation is 'relu', expected 'tanh'"),
     (lambda ls: ls.__setitem__(1, layers.MaxPooling2D(2)), "layer 2: expected AveragePooling2D, found MaxPooling2D"),
     (lambda ls: ls.__setitem__(5, layers.Dense(100, activation="tanh")), "layer 6 (Dense): units is 100, expected 120"),
     (lambda ls: ls.pop(6), "layer 7: expected Dense, missing from the model"),
     (lambda ls: ls.insert(5, layers.Dropout(0.5)), "an extra Dropout after layer 5")],
)
def test_first_difference_is_reported_with_partial_credit(change, words, capsys):
    stack = [layers.Conv2D(6, 5, activation="tanh"), layers.AveragePooling2D(2), layers.Conv2D(16, 5, activation="tanh"),
             layers.AveragePooling2D(2), layers.Flatten(), layers.Dense(120, activation="tanh"),
             layers.Dense(84, activation="tanh"), layers.Dense(10)]
    change(stack)
    score = check_model_spec(keras.Sequential([keras.Input((32, 32, 1)), *stack]), models.lenet5(), points=3)
    out = capsys.readouterr().out
    assert 0.0 <= score < 3.0
    assert f"Likely mistake (model does not follow the spec): {words}" in out


def test_builder_that_fails_scores_zero(capsys):
    def build():
        raise NotImplementedError()

    assert check_model_spec(build, models.spec_cnn(), points=2) == 0.0
    assert "could not inspect the model: NotImplementedError" in capsys.readouterr().out


class _Fixed:
    """A stand-in model that predicts given scores (predict only)."""

    def __init__(self, scores):
        self.scores = scores

    def predict(self, x, **kwargs):
        return self.scores

    def save(self, path):
        raise OSError("read-only")


def _part(rng, n=200, k=5):
    return Part(rng.standard_normal((n, 178, 1)).astype("float32"), np.arange(n) % k, None)


def test_trained_model_is_saved_as_evidence(tmp_path, monkeypatch, capsys, rng):
    monkeypatch.chdir(tmp_path)
    part = _part(rng)
    keras.utils.set_random_seed(0)
    model = models.spec_cnn()
    score = check_trained_model(model, part, reference_accuracy=0.8, points=3, name="spec_trained")
    assert type(score) is float and 0.0 <= score <= 3.0
    assert (tmp_path / "cnnkit_evidence" / "spec_trained.keras").is_file()
    loaded = keras.models.load_model(tmp_path / "cnnkit_evidence" / "spec_trained.keras")
    np.testing.assert_allclose(loaded.predict(part.x[:4], verbose=0), model.predict(part.x[:4], verbose=0), rtol=1e-5)


def test_partial_credit_between_chance_and_the_reference(capsys, rng, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    part = _part(rng)
    scores = np.eye(5)[part.y].copy()
    scores[:80] = np.eye(5)[(part.y[:80] + 1) % 5]  # 120 / 200 right: accuracy 0.6
    score = check_trained_model(_Fixed(scores), part, reference_accuracy=0.83, margin=0.03, points=2)
    assert score == pytest.approx(2 * (0.6 - 0.25) / (0.8 - 0.25), abs=0.01)  # from chance + 5 points
    out = capsys.readouterr().out
    assert "accuracy 60.0% on held-out recordings; full marks from 80.0%" in out
    assert "could not be saved as evidence" in out


def test_untrained_model_is_named(capsys, rng, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    part = _part(rng)
    score = check_trained_model(_Fixed(np.tile([1.0, 0, 0, 0, 0], (200, 1))), part, reference_accuracy=0.8)
    assert score == 0.0
    assert "Likely mistake (model never trained)" in capsys.readouterr().out


def test_model_that_cannot_predict_scores_zero(capsys, rng):
    assert check_trained_model(object(), _part(rng), reference_accuracy=0.8) == 0.0
    assert "could not predict" in capsys.readouterr().out


def test_inference_mode_prediction_gets_full_marks(capsys):
    def predict_classes(model, x):
        return np.argmax(model.predict(x, verbose=0), axis=-1)

    assert check_train_eval_mode(predict_classes, points=2, seed=1) == 2.0


def test_dropout_left_on_is_named(capsys):
    def predict_classes(model, x):
        return np.argmax(keras.ops.convert_to_numpy(model(x, training=True)), axis=-1)

    score = check_train_eval_mode(predict_classes, points=3, seed=1)
    assert score < 3.0
    assert "Likely mistake (dropout left on at evaluation)" in capsys.readouterr().out


def test_scores_instead_of_classes_are_named_and_nothing_else_is_judged_on_them(capsys):
    def predict_classes(model, x):
        return model.predict(x, verbose=0)

    assert check_train_eval_mode(predict_classes, points=3, seed=1) == 0.0
    out = capsys.readouterr().out
    assert "Likely mistake (scores instead of classes)" in out and "np.argmax" in out
    assert "moving statistics" not in out  # nothing about batch normalisation: the shape is the only problem


@pytest.mark.parametrize("style", [
    lambda model, x: np.argmax(model.predict(x, verbose=0), axis=-1, keepdims=True),  # a column, one class per row
    lambda model, x: np.argmax(keras.ops.convert_to_numpy(model(x, training=False)), axis=1).tolist(),  # a list
    lambda model, x: keras.ops.argmax(model(x, training=False), axis=-1),  # a backend tensor
])
def test_classes_in_another_style_get_full_marks(style, capsys):
    def predict_classes(model, x):
        return style(model, x)

    assert check_train_eval_mode(predict_classes, points=3, seed=1) == 3.0
    assert "predictions run in inference mode" in capsys.readouterr().out


def test_a_wrong_shape_keeps_no_point_for_being_repeatable(capsys):
    def predict_classes(model, x):
        return np.zeros((3,), dtype=int)

    assert check_train_eval_mode(predict_classes, points=3, seed=1) == 0.0
    assert "expected one class index per row, shape (64,); got (3,)" in capsys.readouterr().out


def test_building_with_the_reference_model_is_flagged(capsys):
    def build_spec_cnn():
        return models.spec_cnn()

    assert check_model_spec(build_spec_cnn, models.spec_cnn(), points=2) == 0.0
    assert "cnnkit's reference (cnnkit.reference.models)" in capsys.readouterr().out


def test_global_pooling_with_keepdims_then_flatten_follows_the_spec(capsys):
    import keras
    from keras import layers

    def build_gap_cnn():
        return keras.Sequential([
            keras.Input((178, 1)), layers.Conv1D(6, 5, activation="relu"), layers.MaxPooling1D(2),
            layers.Conv1D(16, 5, activation="relu"), layers.MaxPooling1D(2),
            layers.GlobalAveragePooling1D(keepdims=True), layers.Flatten(),  # the same output as without keepdims
            layers.Dense(128, activation="relu"), layers.Dense(5)])

    assert check_model_spec(build_gap_cnn, models.gap_cnn(), points=1) == 1.0
    assert "follows the spec" in capsys.readouterr().out


def _features():
    return [layers.Conv1D(6, 5, activation="relu"), layers.MaxPooling1D(2), layers.Conv1D(16, 5, activation="relu"),
            layers.MaxPooling1D(2)]


def _nested_sequentials():
    """The spec CNN as a Sequential of two Sequentials: the features, then the head."""
    return keras.Sequential([keras.Input((178, 1)), keras.Sequential(_features(), name="features"),
                             keras.Sequential([layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(5)],
                                              name="head")])


def _features_called_in_a_functional_model():
    inputs = keras.Input((178, 1))
    x = layers.Flatten()(keras.Sequential(_features(), name="features")(inputs))
    return keras.Model(inputs, layers.Dense(5)(layers.Activation("relu")(layers.Dense(128)(x))))


def _flattened_by_reshape():
    return keras.Sequential([keras.Input((178, 1))] + _features() + [
        layers.Reshape((-1,)), layers.Dense(128, activation="relu"), layers.Dense(5)])


@pytest.mark.parametrize("build", [_nested_sequentials, _features_called_in_a_functional_model, _flattened_by_reshape])
def test_a_model_grouped_or_flattened_in_another_style_follows_the_spec_before_and_after_a_save(build, tmp_path):
    from cnnkit.checks.models import load_model_safely, spec_verdict

    assert model_spec(build()) == model_spec(models.spec_cnn())
    build().save(tmp_path / "student.keras")
    loaded, _ = load_model_safely(tmp_path / "student.keras")  # as the grader reads the sandbox's file
    result = spec_verdict(loaded, models.spec_cnn(), points=2)
    assert result.score == 2.0, result.messages


def test_a_nested_model_still_shows_a_real_difference():
    wrong = keras.Sequential([keras.Input((178, 1)), keras.Sequential(_features()[:2], name="features"),
                              keras.Sequential([layers.Flatten(), layers.Dense(128, activation="relu"),
                                                layers.Dense(5)], name="head")])
    from cnnkit.checks.models import spec_verdict

    result = spec_verdict(wrong, models.spec_cnn(), points=2)
    assert result.score < 2.0 and "layer 3: expected Conv1D, missing from the model" in str(result.messages)


def _lenet_c5_as_the_paper_writes_it(separate_activation):
    """LeNet-5 with C5 a convolution of 120 kernels of 5x5 over S4's 5x5 maps, then Flatten (the notebook says it
    computes what Flatten then Dense(120) computes)."""
    c5 = [layers.Conv2D(120, 5), layers.Activation("tanh")] if separate_activation else \
        [layers.Conv2D(120, 5, activation="tanh")]
    return keras.Sequential([keras.Input((32, 32, 1)), layers.Conv2D(6, 5, activation="tanh"), layers.AveragePooling2D(2),
                             layers.Conv2D(16, 5, activation="tanh"), layers.AveragePooling2D(2), *c5,
                             layers.Flatten(), layers.Dense(84, activation="tanh"), layers.Dense(10)])


@pytest.mark.parametrize("separate_activation", [False, True])
def test_a_convolution_over_its_whole_input_then_flatten_reads_as_flatten_then_dense(separate_activation, tmp_path):
    from cnnkit.checks.models import load_model_safely, spec_verdict

    _lenet_c5_as_the_paper_writes_it(separate_activation).save(tmp_path / "student.keras")
    loaded, _ = load_model_safely(tmp_path / "student.keras")
    result = spec_verdict(loaded, models.lenet5(), points=3)
    assert result.score == 3.0, result.messages
    spec_as_dense = keras.Sequential([keras.Input((178, 1)), *_features(), layers.Conv1D(128, 41, activation="relu"),
                                      layers.Reshape((-1,)), layers.Dense(5)])
    assert spec_verdict(spec_as_dense, models.spec_cnn(), points=2).score == 2.0


def test_a_convolution_that_sees_part_of_its_input_is_still_a_convolution():
    from cnnkit.checks.models import spec_verdict

    narrower = keras.Sequential([keras.Input((32, 32, 1)), layers.Conv2D(6, 5, activation="tanh"),
                                 layers.AveragePooling2D(2), layers.Conv2D(16, 5, activation="tanh"),
                                 layers.AveragePooling2D(2), layers.Conv2D(120, 3, activation="tanh"),
                                 layers.Flatten(), layers.Dense(84, activation="tanh"), layers.Dense(10)])
    result = spec_verdict(narrower, models.lenet5(), points=3)
    assert result.score < 3.0 and "layer 5: expected Flatten, found Conv2D" in str(result.messages)


def _lenet_stack():
    return [layers.Conv2D(6, 5, activation="tanh"), layers.AveragePooling2D(2), layers.Conv2D(16, 5, activation="tanh"),
            layers.AveragePooling2D(2), layers.Flatten(), layers.Dense(120, activation="tanh"),
            layers.Dense(84, activation="tanh"), layers.Dense(10)]


@pytest.mark.parametrize("change, lost", [
    (lambda ls: ls.insert(6, layers.Dropout(0.2)), 1),  # one extra layer: one criterion of 10
    (lambda ls: ls.pop(6), 2),  # one layer missing: its criterion, and the parameter count (of 9)
    # a 3x3 kernel in C1: C1's criterion and the parameter count, not the shapes it changes downstream
    (lambda ls: ls.__setitem__(0, layers.Conv2D(6, 3, activation="tanh")), 2),
])
def test_one_mistake_in_a_layer_costs_its_own_criterion_not_every_one_after_it(change, lost):
    from cnnkit.checks.models import spec_verdict

    stack = _lenet_stack()
    change(stack)
    result = spec_verdict(keras.Sequential([keras.Input((32, 32, 1)), *stack]), models.lenet5(), points=3)
    assert result.total - result.passed == lost, result.messages
