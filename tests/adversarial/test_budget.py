"""The budget is enforced where it cannot be dodged: the verifier scores
"improve it" on the architecture alone, retrained by the assignment's
procedure on the grader's seeds. Weights trained past the budget (or taken
from anywhere) change nothing; a model over the budget or holding code gets
nothing; regrades repeat."""

import numpy as np
import pytest

from autograder.verifier.plan import Check
from autograder.sandbox.contracts import ProbeReport
from autograder.verifier.kinds import KINDS, Context
from autograder.verifier.verifier import Verifier
from cnnkit.assignment import grading_data, improvement_seeds

pytestmark = [pytest.mark.slow, pytest.mark.keras]
SECRET = "budget-test"
CHECK = Check("improved_trained_tests", 3.0, "improvement", "build_improved_model", "spec", margin=None)


@pytest.fixture(scope="module")
def verifier(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNKIT_CACHE", str(tmp_path_factory.mktemp("cache")))
        references = {("spec", seed): 0.5 for seed in improvement_seeds(SECRET, reference=True)}
        yield Verifier({}, SECRET, held_out=grading_data(SECRET), references=references)


def _report(model, folder, name):
    path = folder / f"{name}.keras"
    model.save(path)
    return ProbeReport({CHECK.grade_id: {"file": path.name}}, {path.name: path.read_bytes()})


def _verify(verifier, probe):
    verdict = KINDS["improvement"].verdict(CHECK, probe.results[CHECK.grade_id], Context("student", verifier, probe))
    return verdict.result, verdict.flags


def test_weights_trained_past_the_budget_change_nothing(verifier, tmp_path):
    import keras

    from cnnkit.reference.models import gap_cnn

    fresh = gap_cnn()
    overtrained = gap_cnn()
    overtrained.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    held = verifier.held_out
    overtrained.fit(held.x, held.y, epochs=40, batch_size=256, verbose=0)  # past any budget, on the grader's own rows
    first, _ = _verify(verifier, _report(fresh, tmp_path, "fresh"))
    second, _ = _verify(verifier, _report(overtrained, tmp_path, "overtrained"))
    assert first.evidence["accuracies"] == second.evidence["accuracies"]
    assert first.score == second.score
    again, _ = _verify(verifier, _report(fresh, tmp_path, "again"))
    assert again.score == first.score, "a regrade repeats"


def test_a_model_over_the_budget_gets_nothing_with_the_reason(verifier, tmp_path):
    import keras
    from keras import layers

    big = keras.Sequential([keras.Input((178, 1)), layers.Flatten(), layers.Dense(4096), layers.Dense(5)])
    result, _ = _verify(verifier, _report(big, tmp_path, "big"))
    assert result.score == 0.0 and "over the budget" in result.feedback()


def test_a_model_holding_code_is_refused_and_flagged(verifier, tmp_path):
    import keras
    from keras import layers

    sneaky = keras.Sequential([keras.Input((178, 1)), layers.Lambda(lambda t: t * 2), layers.Flatten(), layers.Dense(5)])
    result, flags = _verify(verifier, _report(sneaky, tmp_path, "sneaky"))
    assert result.score == 0.0 and "Lambda" in result.feedback() and any("refused" in f for f in flags)


def test_an_architecture_that_beats_the_spec_reference_gets_credit(verifier, tmp_path):
    """On the stand-in the held-out references above are set to 50%: a trained GAP CNN does better."""
    from cnnkit.reference.models import gap_cnn

    result, _ = _verify(verifier, _report(gap_cnn(), tmp_path, "gap"))
    assert np.mean(result.evidence["accuracies"]) > 0.5 and result.score > 0


def test_weights_smuggled_in_an_initialiser_get_nothing_and_are_flagged(verifier, tmp_path):
    import keras
    from keras import layers

    rng = np.random.default_rng(0)
    smuggled = keras.Sequential([keras.Input((178, 1)), layers.Flatten(),
                                 layers.Dense(5, kernel_initializer=keras.initializers.Constant(rng.normal(size=(178, 5))))])
    result, flags = _verify(verifier, _report(smuggled, tmp_path, "smuggled"))
    assert result.score == 0.0 and "Constant initialiser holding an array" in result.feedback()
    assert any("carries weights of its own" in flag for flag in flags)


def test_a_frozen_layer_is_trained_all_the_same(verifier, tmp_path):
    """Freezing a layer (to keep smuggled weights, say) changes nothing: the grader trains every weight."""
    from cnnkit.reference.models import gap_cnn

    frozen = gap_cnn()
    frozen.layers[0].trainable = False
    plain, _ = _verify(verifier, _report(gap_cnn(), tmp_path, "plain"))
    result, _ = _verify(verifier, _report(frozen, tmp_path, "frozen"))
    assert result.evidence["accuracies"] == plain.evidence["accuracies"]


def test_an_architecture_whose_loss_overflows_gets_nothing_with_the_reason(verifier, tmp_path):
    """A training that fails (its loss becomes NaN or infinite) zeroes that cell with the reason, and is recorded
    as failed: a regrade reads the failure instead of training again."""
    import keras
    from keras import layers

    overflowing = keras.Sequential([keras.Input((178, 1)), layers.Flatten(),
                                    layers.Dense(16, activation="exponential", kernel_initializer="ones"),
                                    layers.Dense(16, activation="exponential"), layers.Dense(5)])
    result, _ = _verify(verifier, _report(overflowing, tmp_path, "overflowing"))
    assert result.score == 0.0 and "could not be trained" in result.feedback() and "the loss became" in result.feedback()
    again, _ = _verify(verifier, _report(overflowing, tmp_path, "again"))
    assert again.feedback() == result.feedback()


def test_a_hidden_test_that_asks_for_more_trainings_gets_them_and_shares_the_first(verifier, tmp_path):
    """`check_improvement(..., seeds=3, reference_seeds=4)`: the architecture is trained on 3 of the course's seeds
    (the default 2 first) and compared with the spec CNN's first 4."""
    import dataclasses

    from cnnkit.reference.models import gap_cnn

    more = dataclasses.replace(CHECK, options=(("seeds", 3), ("reference_seeds", 4)))
    probe = _report(gap_cnn(), tmp_path, "more")
    result = KINDS["improvement"].verdict(more, probe.results[CHECK.grade_id], Context("student", verifier, probe)).result
    default, _ = _verify(verifier, _report(gap_cnn(), tmp_path, "default"))
    assert len(result.evidence["accuracies"]) == 3 and len(result.evidence["references"]) == 4
    assert result.evidence["accuracies"][:2] == default.evidence["accuracies"]
    assert len(default.evidence["references"]) == 6
