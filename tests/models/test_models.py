"""The reference Keras models: shapes, parameter counts, save/load, seeding."""

import keras
import numpy as np
import pytest

from cnnkit.reference import models

pytestmark = pytest.mark.keras


def _shapes(model):
    return [(layer.__class__.__name__, tuple(layer.output.shape[1:])) for layer in model.layers]


def test_spec_cnn_follows_the_assignment_spec():
    model = models.spec_cnn()
    assert _shapes(model) == [
        ("Conv1D", (174, 6)), ("MaxPooling1D", (87, 6)), ("Conv1D", (83, 16)), ("MaxPooling1D", (41, 16)),
        ("Flatten", (656,)), ("Dense", (128,)), ("Dense", (5,)),
    ]
    assert [getattr(layer, "activation", None).__name__ for layer in model.layers if hasattr(layer, "activation")] \
        == ["relu", "relu", "relu", "linear"]
    assert model.count_params() == 36 + 496 + 656 * 128 + 128 + 645 == 85_273


def test_lenet5_has_61706_parameters_and_its_classic_shapes():
    model = models.lenet5()
    assert model.count_params() == 61_706
    assert [s for _, s in _shapes(model)] == [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16), (400,), (120,), (84,), (10,)]


@pytest.mark.parametrize("name", sorted(models.MODELS))
@pytest.mark.parametrize("classes", [5, 2])
def test_seizure_models_map_rows_to_logits(name, classes):
    model = models.build(name, num_classes=classes)
    x = np.random.default_rng(0).standard_normal((3, 178, 1)).astype("float32")
    assert model(x).shape == (3, classes)


@pytest.mark.parametrize("builder", [models.spec_cnn, models.gap_cnn, models.wider_cnn, models.bn_cnn,
                                     models.residual_cnn, models.strong_cnn, models.mlp_baseline, models.lenet5])
def test_save_load_round_trip_and_seeded_build(builder, tmp_path):
    keras.utils.set_random_seed(5)
    model = builder()
    keras.utils.set_random_seed(5)
    again = builder()
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(1).standard_normal((4,) + tuple(model.input_shape[1:])).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_the_comparison_models_are_what_their_names_say():
    kinds = {name: [layer.__class__.__name__ for layer in models.build(name).layers] for name in models.MODELS}
    assert "GlobalAveragePooling1D" in kinds["gap"] and "Flatten" not in kinds["gap"]
    assert models.gap_cnn().count_params() == 3_353
    assert kinds["bn"].count("BatchNormalization") == 2 and kinds["residual"].count("Add") == 2
    assert models.wider_cnn().count_params() > 2 * models.spec_cnn().count_params()
    assert "Conv1D" not in kinds["mlp"]


def test_receptive_fields_of_sequential_and_functional_models():
    assert models.receptive_field_of(models.spec_cnn()) == 16
    assert models.receptive_field_of(models.gap_cnn()) == 16, "a global average's input is the last feature map"
    assert models.receptive_field_of(models.strong_cnn()) == 1 + 6 + 1 + 2 * 4 + 2 + 4 * 4 + 4 + 8 * 2 + 8
    # stem 7 and pooling (jump 2), two 3-wide convolutions (the shortcut is narrower), pooling (jump 4), two more
    assert models.receptive_field_of(models.residual_cnn()) == 7 + 1 + 2 * 2 * 2 + 2 + 2 * 2 * 4
    assert models.receptive_field_of(models.mlp_baseline()) == 1, "no layer with a window"


def test_receptive_field_follows_dilation_strides_nested_models_and_the_widest_path():
    import keras
    from keras import layers

    inputs = keras.Input((178, 1))
    narrow = layers.Conv1D(4, 1)(inputs)
    wide = layers.Conv1D(4, 3, dilation_rate=4, padding="same")(inputs)  # span 9
    joined = layers.Concatenate()([narrow, wide])
    inner = keras.Sequential([keras.Input((178, 8)), layers.Conv1D(8, 5, strides=2), layers.AveragePooling1D(3)])
    x = inner(joined)  # +4, jump 2; +2 * 2
    x = layers.Dense(6)(x)  # on the channels: no wider
    outputs = layers.Dense(5)(layers.Flatten()(x))
    assert models.receptive_field_of(keras.Model(inputs, outputs)) == 9 + 4 + 4
    recurrent = keras.Sequential([keras.Input((178, 1)), layers.Conv1D(4, 3), layers.GRU(4, return_sequences=True)])
    assert models.receptive_field_of(recurrent) == 178, "a recurrent layer sees the whole row"
    upsampled = keras.Sequential([keras.Input((178, 1)), layers.UpSampling1D(4), layers.Conv1D(4, 9)])
    assert models.receptive_field_of(upsampled) == 3, "9 steps of a 4-times upsampled row span 3 input samples"
    with pytest.raises(ValueError, match="Argument `model` must be a built keras.Model"):
        models.receptive_field_of(layers.Dense(3))


def test_strong_cnn_uses_batch_norm_dropout_and_global_pooling():
    kinds = {layer.__class__.__name__ for layer in models.strong_cnn().layers}
    assert {"BatchNormalization", "Dropout", "GlobalAveragePooling1D"} <= kinds


@pytest.mark.parametrize(
    "call, message",
    [(lambda: models.build("resnet"), r"argument `name`. Expected one of 'spec', 'gap', .*'mlp'. Received name='resnet'"),
     (lambda: models.spec_cnn(num_classes=0), r"argument `num_classes`"),
     (lambda: models.lenet5((28, 28, 1)), r"Argument `input_shape` must be at least 32x32")],
)
def test_model_argument_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
