"""The residual-block and shift-invariance checks: correct blocks in several
styles get full marks; each typical mistake loses points and is named; the
grader's side (models loaded from files) gives the in-kernel verdict."""

import numpy as np
import pytest

from cnnkit.checks import check_residual_block, check_shift_invariance
from cnnkit.checks.blocks import invariance_verdict, residual_models, residual_verdict

pytestmark = pytest.mark.keras


def _layers():
    from keras import layers

    return layers


def reference(x, filters, kernel_size):
    from cnnkit.reference.models import residual_block

    return residual_block(x, filters, kernel_size)


def ops_and_nested_sequential(x, filters, kernel_size):
    """Another student's style: a nested Sequential main path, `+` and keras.ops.relu, no conv biases,
    a batch-normalised projection."""
    import keras

    layers = _layers()
    shortcut = x
    if x.shape[-1] != filters:
        shortcut = layers.BatchNormalization()(layers.Conv1D(filters, 1, use_bias=False)(x))
    main = keras.Sequential([layers.Conv1D(filters, kernel_size, padding="same", use_bias=False),
                             layers.BatchNormalization(), layers.Activation("relu"),
                             layers.Conv1D(filters, kernel_size, padding="same", use_bias=False),
                             layers.BatchNormalization()])
    return keras.ops.relu(main(x) + shortcut)


def functional_add_helper(x, filters, kernel_size):
    layers = _layers()
    y = layers.ReLU()(layers.BatchNormalization()(layers.Conv1D(filters, kernel_size, padding="same")(x)))
    y = layers.BatchNormalization()(layers.Conv1D(filters, kernel_size, padding="same")(y))
    shortcut = x if x.shape[-1] == filters else layers.Conv1D(filters, 1, padding="same")(x)
    return layers.Activation("relu")(layers.add([shortcut, y]))


def dense_projection(x, filters, kernel_size):
    """A 1x1 projection written as a Dense on the channels: the same computation as Conv1D(filters, 1)."""
    layers = _layers()
    shortcut = x if x.shape[-1] == filters else layers.Dense(filters)(x)
    y = layers.ReLU()(layers.BatchNormalization()(layers.Conv1D(filters, kernel_size, padding="same")(x)))
    y = layers.BatchNormalization()(layers.Conv1D(filters, kernel_size, padding="same")(y))
    return layers.ReLU()(layers.Add()([y, shortcut]))


def _variant(no_projection=False, no_bn=False, relu_before_bn=False, relu_before_add=False, no_relu_after=False,
             always_project=False, causal=False, bn_after_add=False, shortcut_from_first=False, stride=1):
    def block(x, filters, kernel_size):
        layers = _layers()
        padding = "causal" if causal else "same"
        shortcut = x
        if always_project or (x.shape[-1] != filters and not no_projection):
            shortcut = layers.Conv1D(filters, 1)(x)
        y = layers.Conv1D(filters, kernel_size, strides=stride, padding=padding,
                          activation="relu" if relu_before_bn else None)(x)
        shortcut = y if shortcut_from_first else shortcut
        y = y if no_bn else layers.BatchNormalization()(y)
        y = y if relu_before_bn else layers.ReLU()(y)
        y = layers.Conv1D(filters, kernel_size, padding=padding)(y)
        y = y if no_bn or bn_after_add else layers.BatchNormalization()(y)
        y = layers.ReLU()(y) if relu_before_add else y
        out = layers.Add()([y, shortcut])
        out = layers.BatchNormalization()(out) if bn_after_add else out
        return out if (no_relu_after or relu_before_add) else layers.ReLU()(out)
    return block


@pytest.mark.parametrize("block", [reference, ops_and_nested_sequential, functional_add_helper, dense_projection],
                         ids=["reference", "ops-and-nested-sequential", "add-helper", "dense-projection"])
def test_correct_blocks_in_any_style_get_full_marks(block, capsys):
    assert check_residual_block(block, points=3, seed=4) == 3.0
    assert "builds the block right" in capsys.readouterr().out


@pytest.mark.parametrize("mistake, name, most", [
    (dict(no_projection=True), "residual without projection", 2.0),
    (dict(no_bn=True), "batch normalisation missing", 1.5),
    (dict(relu_before_bn=True), "ReLU before batch normalisation", 1.5),
    (dict(relu_before_add=True), "ReLU before the addition", 1.5),
    (dict(no_relu_after=True), "no ReLU after the addition", 1.5),
    (dict(always_project=True), "projection where none is needed", 2.5),
    (dict(bn_after_add=True), "batch normalisation after the addition", 1.5),
    (dict(shortcut_from_first=True), "shortcut taken from the main path", 2.0),
    (dict(stride=2), "stride in the main path only", 0.0),
])
def test_each_mistake_loses_points_and_is_named(mistake, name, most, capsys):
    score = check_residual_block(_variant(**mistake), points=3, seed=4)
    out = capsys.readouterr().out
    assert (0 < score or most == 0) and score <= most and f"Likely mistake ({name})" in out, out
    assert out.count("Likely mistake") == 1, out  # the one mistake, and no other name beside it


def test_settings_the_structure_reads_are_checked_too(capsys):
    score = check_residual_block(_variant(causal=True), points=3, seed=4)
    assert score < 3.0 and "padding='causal'" in capsys.readouterr().out


def test_the_output_check_catches_what_the_graph_does_not_say(capsys):
    """A block whose graph reads right but whose batch normalisation normalises the steps, not the channels."""
    def wrong_axis(x, filters, kernel_size):
        layers = _layers()
        shortcut = x if x.shape[-1] == filters else layers.Conv1D(filters, 1)(x)
        y = layers.ReLU()(layers.BatchNormalization(axis=1)(layers.Conv1D(filters, kernel_size, padding="same")(x)))
        y = layers.BatchNormalization(axis=1)(layers.Conv1D(filters, kernel_size, padding="same")(y))
        return layers.ReLU()(layers.Add()([y, shortcut]))

    result = residual_verdict(residual_models(wrong_axis), points=3, seed=2)
    assert 2.0 <= result.score < 3.0, result.feedback()  # every structure criterion holds; the outputs do not


def test_a_stub_scores_zero(capsys):
    def residual_block(x, filters, kernel_size):
        raise NotImplementedError()

    assert check_residual_block(residual_block, points=3) == 0.0


def test_models_loaded_from_files_get_the_same_verdict(tmp_path):
    """The grader judges the probe's saved models, loaded in safe mode."""
    from cnnkit.checks.models import load_model_safely

    for block in (reference, _variant(no_relu_after=True)):
        built = residual_models(block)
        loaded = []
        for index, model in enumerate(built):
            model.save(tmp_path / f"{index}.keras")
            loaded.append(load_model_safely(tmp_path / f"{index}.keras")[0])
        assert residual_verdict(loaded, points=3, seed=9).score == residual_verdict(built, points=3, seed=9).score


def test_global_pooling_heads_are_invariant_and_flatten_heads_are_not(capsys):
    import keras

    from cnnkit.reference.models import gap_cnn, spec_cnn

    layers = _layers()

    def strided_max_head():
        return keras.Sequential([keras.Input((178, 1)), layers.Conv1D(8, 7, strides=2, padding="same"),
                                 layers.BatchNormalization(), layers.ReLU(), layers.MaxPooling1D(3),
                                 layers.GlobalMaxPooling1D(), layers.Dense(5)])

    assert check_shift_invariance(gap_cnn, seed=1) == 1.0
    assert check_shift_invariance(strided_max_head, seed=1) == 1.0
    assert "shifts of 6 and 12 samples" in capsys.readouterr().out  # the stride 2 x 3 read from the model
    assert check_shift_invariance(spec_cnn, seed=1) == 0.0
    assert "Likely mistake (a Flatten head on shifted rows)" in capsys.readouterr().out


def test_invariance_of_a_builder_that_fails_is_zero_with_the_reason():
    def build_gap_cnn():
        raise NotImplementedError()

    result = invariance_verdict("NotImplementedError: ", points=1)
    assert result.score == 0.0 and "could not be built" in result.feedback()
    assert check_shift_invariance(build_gap_cnn) == 0.0


def test_invariance_cannot_be_had_with_zero_weights():
    """The check draws its own weights: a model initialised to zeros is judged like any other."""
    import keras

    layers = _layers()
    model = keras.Sequential([keras.Input((178, 1)), layers.Conv1D(4, 5, kernel_initializer="zeros"),
                              layers.Flatten(), layers.Dense(5, kernel_initializer="zeros")])
    assert invariance_verdict(model, points=1, seed=3).score == 0.0
    assert np.all(np.asarray(model.layers[0].get_weights()[0]) != 0)


def test_a_model_that_ignores_its_rows_is_not_invariant_for_free():
    import keras

    layers = _layers()
    blind = keras.Sequential([keras.Input((178, 1)), layers.Rescaling(0.0), layers.Conv1D(4, 5),
                              layers.GlobalAveragePooling1D(), layers.Dense(5)])
    result = invariance_verdict(blind, points=1, seed=3)
    assert result.score == 0.0 and "does not depend on the row" in result.feedback()
