"""Model files are read as hostile data: a config built to be deep or large is
refused before Keras sees it, a model too large to build is refused before it
is built, a file that unpacks to far more than its model needs before it is
unpacked, each with a reason, and nothing else is ever raised."""

import json
import zipfile

import numpy as np
import pytest

from cnnkit.checks.models import MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH, OversizedModel, UnsafeModel, load_model_safely

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


def _small_model_file(path, *, units=5, padding=0):
    """A saved model (Conv1D, Flatten, Dense(units)): the config says `units` (only the file is rewritten, nothing
    is built at that size) and `padding` zero bytes follow the weights (a deflated file of a few hundred kB)."""
    import keras

    model = keras.Sequential([keras.Input((178, 1)), keras.layers.Conv1D(4, 3), keras.layers.Flatten(),
                              keras.layers.Dense(5)])
    model.save(path.with_suffix(".small.keras"))
    with zipfile.ZipFile(path.with_suffix(".small.keras")) as source:
        files = {name: source.read(name) for name in source.namelist()}
    config = json.loads(files["config.json"])
    config["config"]["layers"][-1]["config"]["units"] = units
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            if name != "model.weights.h5":
                archive.writestr(name, content)
        info = zipfile.ZipInfo("model.weights.h5")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as weights:
            weights.write(files["model.weights.h5"])
            for start in range(0, padding, 2**24):
                weights.write(bytes(min(2**24, padding - start)))
    return path


def _rss_bytes():
    return int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS")).split()[1]) * 1024


def test_a_config_declaring_a_huge_model_is_refused_before_anything_is_built(tmp_path):
    """A few kB of config could ask Keras to allocate terabytes of weights; they are counted, not allocated, and the
    reason says what the budget allows (not an attack: a model that is not this course's)."""
    path = _small_model_file(tmp_path / "huge.keras", units=10**10)  # 704 * 1e10 weights: 28 TB of float32
    before = _rss_bytes()
    with pytest.raises(OversizedModel, match=r"declares 7,050,000,000,016 parameters; the grader builds models of "
                                             r"at most 20,000,000 \(the budget allows 250,000\)"):
        load_model_safely(path)
    assert _rss_bytes() - before < 200 * 1024**2


def test_a_weights_file_that_unpacks_to_far_more_than_its_model_is_refused_before_it_is_read(tmp_path):
    """A zip bomb: 100 MB of zeros after a 3,541-parameter model's weights, deflated to about 100 kB."""
    path = _small_model_file(tmp_path / "bomb.keras", padding=100 * 1000**2)
    assert path.stat().st_size < 1000**2
    with pytest.raises(UnsafeModel, match=r"model.weights.h5 unpacks to 100,\d{3},\d{3} bytes, far more than its "
                                          r"model needs .*zip bomb"):
        load_model_safely(path)


@pytest.mark.parametrize("name", ["spec", "bn", "residual", "strong"])
def test_counting_the_parameters_builds_nothing_and_leaves_nothing_behind(tmp_path, name):
    """The count agrees with Keras' for the course's models (batch normalisation, residual wiring), and no
    deferred variable is left for a later scope to initialise."""
    import keras
    from keras.src.backend.common import global_state

    from cnnkit.checks.models import _declared_parameters
    from cnnkit.reference.models import build

    model = build(name)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        config = json.loads(archive.read("config.json"))
    pending = len(global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True))
    assert _declared_parameters(config) == model.count_params()
    assert len(global_state.get_global_attribute("uninitialized_variables", [])) == pending
    loaded, _ = load_model_safely(tmp_path / "m.keras")
    x = np.random.default_rng(0).normal(size=(4, 178, 1)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)),
                               rtol=1e-5, atol=1e-6)
