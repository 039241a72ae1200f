"""Model files are read as hostile data: a config built to be deep or large is
refused before Keras sees it, with a reason, and never raises anything else."""

import json
import zipfile

import numpy as np
import pytest

from cnnkit.checks.models import MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH, UnsafeModel, load_model_safely

pytestmark = [pytest.mark.keras]


def _model_file(path, config):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", config)
        archive.writestr("metadata.json", "{}")
    return path


@pytest.mark.parametrize("depth", [MAX_CONFIG_DEPTH + 5, 200_000])
def test_a_config_nested_too_deeply_is_refused(tmp_path, depth):
    config = '{"class_name": "Sequential", "config": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(UnsafeModel, match="nested"):
        load_model_safely(_model_file(tmp_path / "deep.keras", config))


def test_a_config_too_large_is_refused_before_it_is_parsed(tmp_path):
    config = json.dumps({"class_name": "Sequential", "config": {"pad": "x" * (MAX_CONFIG_BYTES + 1)}})
    with pytest.raises(UnsafeModel, match="over"):
        load_model_safely(_model_file(tmp_path / "large.keras", config))


def test_a_config_of_too_many_objects_is_refused(tmp_path):
    layers = [{"class_name": "Dense", "module": "keras.layers", "config": {"units": 1}} for _ in range(5000)]
    with pytest.raises(UnsafeModel, match="objects"):
        load_model_safely(_model_file(tmp_path / "many.keras", json.dumps({"class_name": "Sequential",
                                                                             "config": {"layers": layers}})))


@pytest.mark.parametrize("loss, from_logits", [("sparse_categorical_crossentropy", False), ("mse", None)])
def test_a_loss_given_by_name_says_what_it_reads(tmp_path, loss, from_logits):
    """A crossentropy named by a string uses Keras' default, probabilities (from_logits=False)."""
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss=loss)
    model.save(tmp_path / "named.keras")
    _, notes = load_model_safely(tmp_path / "named.keras")
    assert notes["from_logits"] is from_logits


def test_a_subclassed_model_is_refused_with_what_to_do_and_without_suspicion(tmp_path):
    import keras
    from keras import layers

    from cnnkit.checks.models import SubclassedModel

    class SeizureNet(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.head = layers.Dense(5)

        def call(self, x):
            return self.head(x)

    for module in (__name__, "__main__"):  # a class of a module, or of a notebook (whose module Keras leaves out)
        SeizureNet.__module__ = module
        model = SeizureNet()
        model(np.zeros((1, 4), "float32"))
        model.save(tmp_path / "net.keras")
        with pytest.raises(SubclassedModel, match=r"subclass of keras.Model \(SeizureNet\).*keras.Sequential or the "
                                                  r"functional API"):
            load_model_safely(tmp_path / "net.keras")
