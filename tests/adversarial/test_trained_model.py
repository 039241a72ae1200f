"""A trained model is judged for what it is: the architecture the student's own
builder builds, trained within the budget. An MLP put in its place, or the
spec CNN trained past the budget, gets nothing and is flagged; the honest
model trained by the budget's procedure keeps its credit."""

import pytest

from autograder.sandbox.contracts import ProbeReport
from autograder.verifier.kinds import KINDS, Context
from autograder.verifier.plan import Check, NotebookPlan
from autograder.verifier.verifier import Verifier
from cnnkit.assignment import BUDGET, grading_data, seizure_data, train_under_budget

pytestmark = [pytest.mark.slow, pytest.mark.keras]
SECRET = "trained-model-test"
SPEC = Check("spec_cnn_tests", 2.0, "spec", "build_spec_cnn", "spec_cnn")
TRAINED = Check("spec_trained_tests", 3.0, "trained", "spec_model", "spec", margin=0.03)
PLAN = NotebookPlan("03.ipynb", (SPEC, TRAINED))


@pytest.fixture(scope="module")
def data():
    import numpy as np

    student = seizure_data()
    x = ((student.train_signals - student.mean) / student.std)[:, :, None].astype(np.float32)
    return x, student.train_labels


@pytest.fixture(scope="module")
def verifier(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNKIT_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield Verifier({"03.ipynb": PLAN}, SECRET, held_out=grading_data(SECRET), references={"spec": 0.9})


def _verdict(verifier, trained, folder):
    from cnnkit.reference.models import spec_cnn

    spec_cnn().save(folder / "built.keras")  # what the student's builder builds: the spec CNN
    trained.save(folder / "trained.keras")
    probe = ProbeReport({SPEC.grade_id: {"file": "built.keras"}, TRAINED.grade_id: {"file": "trained.keras"}},
                        {name: (folder / name).read_bytes() for name in ("built.keras", "trained.keras")})
    return KINDS["trained"].verdict(TRAINED, probe.results[TRAINED.grade_id],
                                    Context("student", verifier, probe, plan=PLAN))


def test_the_spec_cnn_trained_by_the_budget_keeps_its_credit(verifier, data, tmp_path):
    from cnnkit.reference.models import spec_cnn

    model, _ = train_under_budget(spec_cnn, *data, seed=0)
    verdict = _verdict(verifier, model, tmp_path)
    assert verdict.score > 0 and verdict.flags == (), verdict.feedback


def test_another_architecture_in_its_place_gets_nothing_and_is_flagged(verifier, data, tmp_path):
    import keras
    from keras import layers

    mlp = keras.Sequential([keras.Input((178, 1)), layers.Flatten(), layers.Dense(64, activation="relu"),
                            layers.Dense(5)])
    mlp.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    mlp.fit(*data, epochs=2, batch_size=BUDGET["batch_size"], verbose=0)
    verdict = _verdict(verifier, mlp, tmp_path)
    assert verdict.score == 0 and "not the model your builder builds" in verdict.feedback
    assert any("not the model your builder builds" in flag for flag in verdict.flags)


def test_the_spec_cnn_trained_past_the_budget_gets_nothing_and_is_flagged(verifier, data, tmp_path):
    import keras

    from cnnkit.reference.models import spec_cnn

    model = spec_cnn()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(*data, epochs=BUDGET["epochs"] + 2, batch_size=BUDGET["batch_size"], verbose=0)
    verdict = _verdict(verifier, model, tmp_path)
    assert verdict.score == 0 and "gradient steps; the budget allows" in verdict.feedback
    assert any("gradient steps" in flag for flag in verdict.flags)
