"""The budget and the "improve it" score: what a model costs, what the budget
refuses, one training procedure that repeats under a seed, and a score that
rewards only a lower error than the spec CNN's."""

import numpy as np
import pytest

from cnnkit.assignment import (BUDGET, IMPROVEMENT, BudgetError, budget_optimizer, check_budget, improvement_seeds,
                               model_cost, train_under_budget)
from cnnkit.assignment import architecture_key
from cnnkit.checks.models import improvement_verdict

pytestmark = pytest.mark.keras


def _sequential(*layers, length=178):
    import keras

    return keras.Sequential([keras.Input((length, 1)), *layers])


def test_the_score_is_zero_at_the_spec_level_and_full_at_the_stated_cut():
    spec = [0.72, 0.74]
    assert improvement_verdict(spec, spec, points=3).score == 0.0
    cut = IMPROVEMENT["error_cut"]
    better = [1 - (1 - a) * (1 - cut) for a in spec]
    assert improvement_verdict(better, spec, points=3).score == pytest.approx(3.0)
    half = [1 - (1 - a) * (1 - cut / 2) for a in spec]
    assert improvement_verdict(half, spec, points=3).score == pytest.approx(1.5, abs=0.01)
    worse = improvement_verdict([0.6, 0.62], spec, points=3)
    assert worse.score == 0.0 and "Likely mistake (no better than the spec CNN)" in worse.feedback()
    assert improvement_verdict([0.99, 0.99], spec, points=3).score == 3.0, "capped at the points"


def test_the_feedback_states_the_target_and_the_seeds():
    result = improvement_verdict([0.78, 0.80], [0.72, 0.74], points=3)
    text = result.feedback()
    assert "2 seeds: 78.0%, 80.0%" in text and "spec CNN trained the same way reaches 73.0%" in text
    assert f"full marks from {1 - 0.27 * (1 - IMPROVEMENT['error_cut']):.1%}" in text


def test_the_feedback_says_how_much_lower_or_higher_the_error_is_in_plain_words():
    assert "your error is 26% lower" in improvement_verdict([0.80], [0.73], points=3).feedback()  # 0.20 vs 0.27
    assert "your error is 25% higher" in improvement_verdict([0.75], [0.80], points=3).feedback()
    assert "your error is about the same" in improvement_verdict([0.80], [0.80], points=3).feedback()


def test_grader_seeds_come_from_the_secret_and_are_the_same_for_everyone():
    assert improvement_seeds("a") == improvement_seeds("a") != improvement_seeds("b")
    assert len(improvement_seeds("a")) == IMPROVEMENT["seeds"] and improvement_seeds() == (0, 1)


def test_cost_counts_weights_times_the_positions_they_are_applied_at():
    from keras import layers

    model = _sequential(layers.Conv1D(4, 3), layers.Flatten(), layers.Dense(5))
    cost = model_cost(model)
    conv = (3 * 1 * 4 + 4) * 176
    flatten = 176 * 4 + 176 * 4  # one per number in and out
    dense = 176 * 4 * 5 + 5
    assert cost.parameters == model.count_params() and cost.multiply_adds == conv + flatten + dense
    assert cost.activations == 176 * 4 + 176 * 4 + 5


def test_weightless_layers_count_too_and_what_cannot_be_counted_is_refused():
    import keras
    from keras import layers

    # upsampling then a pooling window as long as the row: no weights, a cost that grows with the square of the size
    wide = _sequential(layers.UpSampling1D(64), layers.MaxPooling1D(2000, strides=1, padding="same"),
                       layers.GlobalAveragePooling1D(), layers.Dense(5))
    assert model_cost(wide).multiply_adds >= 178 * 64 * 2000
    with pytest.raises(BudgetError, match="multiply-adds per row, over the budget"):
        check_budget(wide)
    inputs = keras.Input((178, 1))
    features = layers.Conv1D(8, 3, padding="same")(inputs)
    products = layers.Dot(axes=2)([features, features])
    with pytest.raises(BudgetError, match="cannot count what a Dot layer costs"):
        check_budget(keras.Model(inputs, layers.Dense(5)(layers.Flatten()(products))))


@pytest.mark.parametrize("model, message", [
    (lambda l: _sequential(l.Flatten(), l.Dense(2000), l.Dense(5)), r"parameters, over the budget"),
    (lambda l: _sequential(l.Conv1D(4000, 1), l.GlobalAveragePooling1D(), l.Dense(5)), r"activations per row, over"),
    (lambda l: _sequential(l.Conv1D(64, 9, padding="same"), l.Conv1D(64, 9, padding="same"), l.GlobalAveragePooling1D(),
                           l.Dense(5)),
     r"multiply-adds per row, over the budget"),
    (lambda l: _sequential(l.Flatten(), l.Dense(5, activation="softmax")), r"ends in a softmax activation"),
    (lambda l: _sequential(l.Flatten(), l.Dense(5), l.Softmax()), r"ends in a Softmax"),
    (lambda l: _sequential(l.Flatten(), l.Dense(3)), r"outputs shape \(None, 3\)"),
    (lambda l: _sequential(l.Flatten(), l.Dense(5), length=100), r"takes inputs of shape \(None, 100, 1\)"),
])
def test_the_budget_refuses_what_does_not_fit_with_one_clear_reason(model, message):
    from keras import layers

    with pytest.raises(BudgetError, match=message):
        check_budget(model(layers))


def test_the_solution_and_the_references_fit_the_budget():
    from cnnkit.reference import models

    for name in models.MODELS:
        check_budget(models.build(name))


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 178, 1)).astype("float32"), rng.integers(0, 5, 300)


def test_one_procedure_trains_exactly_the_budget_and_repeats_under_a_seed(tiny):
    from cnnkit.reference.models import gap_cnn

    x, y = tiny
    first, history = train_under_budget(gap_cnn, x, y, seed=3)
    again, _ = train_under_budget(gap_cnn, x, y, seed=3)
    other, _ = train_under_budget(gap_cnn, x, y, seed=4)
    assert len(history["loss"]) == BUDGET["epochs"]
    steps = BUDGET["epochs"] * -(-len(y) // BUDGET["batch_size"])
    assert int(np.asarray(first.optimizer.iterations)) == steps
    for a, b in zip(first.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first.get_weights(), other.get_weights()))


def test_the_learning_rate_decays_to_zero_over_the_budget():
    optimizer = budget_optimizer(1000)
    steps = BUDGET["epochs"] * -(-1000 // BUDGET["batch_size"])
    schedule = optimizer.learning_rate if callable(optimizer.learning_rate) else optimizer._learning_rate
    assert float(schedule(0)) == pytest.approx(BUDGET["learning_rate"])
    assert float(schedule(steps)) == pytest.approx(0.0, abs=1e-9)


def test_a_model_instead_of_its_builder_is_refused_by_name(tiny):
    from cnnkit.reference.models import gap_cnn

    with pytest.raises(ValueError, match=r"Argument `build` must be a function that builds the model"):
        train_under_budget(gap_cnn(), *tiny)


def test_the_architecture_key_ignores_names_and_weights_but_not_layers(tmp_path):
    import keras
    from keras import layers

    from cnnkit.checks.models import load_model_safely
    from cnnkit.reference.models import gap_cnn, spec_cnn

    built_elsewhere = keras.Sequential([keras.Input((178, 1)), layers.Conv1D(6, 5, activation="relu", name="mine"),
                                        layers.MaxPooling1D(2), layers.Conv1D(16, 5, activation="relu"),
                                        layers.MaxPooling1D(2), layers.Flatten(),
                                        layers.Dense(128, activation="relu"), layers.Dense(5)], name="student")
    assert architecture_key(built_elsewhere) == architecture_key(spec_cnn())
    built_elsewhere.save(tmp_path / "m.keras")
    assert architecture_key(load_model_safely(tmp_path / "m.keras")[0]) == architecture_key(spec_cnn())
    assert architecture_key(gap_cnn()) != architecture_key(spec_cnn())


def _spec_functional(name="signal", branch=False):
    import keras
    from keras import layers

    x = signal = keras.Input((178, 1), name=name)
    x = layers.Conv1D(6, 5, activation="relu", name="first")(x)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Conv1D(16, 5, activation="relu")(x)
    x = layers.MaxPooling1D(2)(x)
    if branch:  # the same layers, and a second path that skips one
        x = layers.Add()([x, layers.Conv1D(16, 1)(x)])
    x = layers.Dense(128, activation="relu")(layers.Flatten()(x))
    return keras.Model(signal, layers.Dense(5)(x), name="mine")


def test_the_spec_written_functionally_is_the_spec_and_trains_alike_weight_for_weight(tmp_path):
    """Before, the functional spec CNN had a key of its own: given as the "improve it" model it was trained as a
    new architecture and could earn points by its seeds' luck, where the Sequential spec earns 0."""
    import keras

    from cnnkit.checks.models import load_model_safely
    from cnnkit.reference.models import spec_cnn

    functional = _spec_functional()
    assert architecture_key(functional) == architecture_key(spec_cnn())
    functional.save(tmp_path / "f.keras")
    assert architecture_key(load_model_safely(tmp_path / "f.keras")[0]) == architecture_key(spec_cnn())
    assert architecture_key(_spec_functional(branch=True)) != architecture_key(spec_cnn()), "a branch is no chain"

    def trained(model):  # the verifier's way: a clone under the seed
        keras.utils.set_random_seed(5)
        clone = keras.models.clone_model(model)
        clone.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        rng = np.random.default_rng(0)
        clone.fit(rng.standard_normal((256, 178, 1)).astype("float32"), rng.integers(0, 5, 256), epochs=1,
                  batch_size=64, verbose=0)
        return [np.asarray(weight) for weight in clone.weights]

    assert all(np.array_equal(a, b) for a, b in zip(trained(functional), trained(spec_cnn())))



def test_in_a_graded_kernel_the_procedure_still_trains(tiny, monkeypatch):
    """A student may train the spec model with the helper: its trained weights are graded, so it must train."""
    import cnnkit.assignment as assignment
    from cnnkit.reference.models import gap_cnn

    monkeypatch.setenv(assignment.GRADING_ENV, "1")
    model, history = train_under_budget(gap_cnn, *tiny, seed=0)
    assert len(history["loss"]) == BUDGET["epochs"] and int(np.asarray(model.optimizer.iterations)) > 0


def test_a_subclassed_model_is_refused_with_what_to_do_instead():
    import keras

    class SeizureNet(keras.Model):
        def __init__(self):
            super().__init__()
            self.flat, self.out = keras.layers.Flatten(), keras.layers.Dense(5)

        def call(self, x):
            return self.out(self.flat(x))

    with pytest.raises(BudgetError, match="SeizureNet.*keras.Sequential or the functional API"):
        check_budget(SeizureNet())
