"""Same code, same points, the right name: real submissions graded by
`cnnkit grade` (`autograder.grade`), the same batch under several course
secrets.

Each *profile* is a notebook carrying one realistic mistake per graded
function (the solution with the mistake edited in). The batch is graded once
per course secret, so each grading draws other random cases for the same
submission. Every grading must give the same points on the same cells, with
the feedback naming the mistake; the cells a profile answers in another
correct style keep full marks.

CI grades under 2 secrets. The acceptance run grades under 50:

    CNNKIT_FAIRNESS_SECRETS=50 CNNKIT_FAIRNESS_PROFILES=conv-slips,pooling-and-bn \
        .venv/bin/python -m pytest tests/e2e/test_named_mistakes.py

(`CNNKIT_FAIRNESS_PROFILES` picks profiles, default all; the seizure profile
trains a model per grading, about a minute each.) The same property under 50
course secrets, function by function, is `tests/checks/test_same_points.py`,
and for every small mutation of the solution `tests/checks/test_mutants.py`.
"""

import os
from dataclasses import dataclass, field

import nbformat
import pytest

from autograder import grade
from autograder.course.course import ASSIGNMENT, REPO, Course
from autograder.course.secret import SECRET_ENV
from autograder.frontends.examples import NB1, NB2, NB3, Example, build_submission
from autograder.sandbox.limits import Limits
from autograder.verifier.plan import plan_of

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

SECRETS = [f"fairness-secret-{i}" for i in range(int(os.environ.get("CNNKIT_FAIRNESS_SECRETS", "2")))]
BN_AFTER_ADD = ('    y = layers.BatchNormalization()(y)\n    return layers.ReLU()(layers.Add()([y, shortcut]))',
                '    return layers.ReLU()(layers.BatchNormalization()(layers.Add()([y, shortcut])))')
SHORTCUT_FROM_FIRST = '''def residual_block(x, filters, kernel_size):
    first = layers.Conv1D(filters, kernel_size, padding="same")(x)
    y = layers.ReLU()(layers.BatchNormalization()(first))
    y = layers.BatchNormalization()(layers.Conv1D(filters, kernel_size, padding="same")(y))
    return layers.ReLU()(layers.Add()([y, first]))'''
STRIDE_TWO = '''def residual_block(x, filters, kernel_size):
    shortcut = layers.Conv1D(filters, 1)(x)
    y = layers.Conv1D(filters, kernel_size, strides=2, padding="same")(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv1D(filters, kernel_size, padding="same")(y))
    return layers.ReLU()(layers.Add()([y, shortcut]))'''

NESTED_GAP = '''def build_gap_cnn():
    features = keras.Sequential([layers.Conv1D(6, 5, activation="relu"), layers.MaxPooling1D(2),
                                 layers.Conv1D(16, 5, activation="relu"), layers.MaxPooling1D(2)], name="features")
    head = keras.Sequential([layers.GlobalAveragePooling1D(), layers.Dense(128, activation="relu"), layers.Dense(5)],
                            name="head")
    return keras.Sequential([keras.Input((178, 1)), features, head])'''

SUBCLASSED = '''def build_improved_model():
    from keras import layers

    class SeizureNet(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = layers.Conv1D(16, 5, activation="relu")
            self.pool = layers.GlobalAveragePooling1D()
            self.head = layers.Dense(5)

        def call(self, x):
            return self.head(self.pool(self.conv(x)))

    return SeizureNet()'''


@dataclass(frozen=True)
class Profile:
    """A notebook with mistakes edited into the solution.

    Attributes:
        notebook: the notebook's file name.
        edits: solution cell -> (old, new) pairs.
        answers: solution cell -> the student's whole code for it.
        named: test cell -> the misconception its feedback names.
        reached: test cells the mistakes reach through a helper (they lose points, whatever they name).
        styles: test cells answered in another correct style: full marks.
        refused: test cell -> words of the reason it scores 0 (a model the grader cannot judge).
    """

    notebook: str
    edits: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)
    named: dict = field(default_factory=dict)
    reached: tuple = ()
    styles: tuple = ()
    refused: dict = field(default_factory=dict)


PROFILES = {
    "conv-slips": Profile(NB1, edits={
        "convolve2d": [("[::-1, ::-1]", "[::-1, :]")],
        "output_length": [("return -(-n // stride)", "return n // stride")],
        "conv1d_signal": [("return convolve2d(np.asarray(signal)[None, :], np.asarray(kernel)[None, :])[0]",
                           "return np.convolve(signal, kernel, 'same')")],
        "params": [("in_channels * filters + filters", "in_channels * filters + in_channels"),
                   ("in_features * units + units", "in_features * units + in_features")]},
        named={"convolve2d_tests": "kernel flipped along one axis only", "output_length_tests": "'same' rounded down",
               "conv1d_signal_tests": "'same' mode instead of 'valid'", "conv_params_tests": "a bias per input channel",
               "dense_params_tests": "a bias per input"},
        reached=("conv2d_layer_tests", "locally_connected_params_tests", "conv_macs_tests")),
    "full-mode-and-no-floor": Profile(NB1, edits={  # convolve2d and conv1d_signal call correlate2d: all 'full'
        "correlate2d": [("kh, kw = kernel.shape", "kh, kw = kernel.shape\n    image = np.pad(image, ((kh - 1,) * 2, "
                                                   "(kw - 1,) * 2))")],
        "output_length": [("(n - kernel_size) // stride + 1", "(n - kernel_size) / stride + 1")],
        "params": [("return in_features * units + units", "return np.array([in_features * units + units])")]},
        named={"correlate2d_tests": "'full' mode instead of 'valid'", "convolve2d_tests": "'full' mode instead of 'valid'",
               "conv1d_signal_tests": "'full' mode instead of 'valid'",
               "output_length_tests": "division not rounded down"},
        reached=("conv2d_layer_tests", "learn_kernel_tests", "conv_macs_tests"),
        styles=("dense_params_tests",)),  # one number in a one-element array: right
    "pooling-and-bn": Profile(NB2, edits={
        "pool2d": [("pool_windows(x, pool_size, stride, padding, -np.inf)",
                    "pool_windows(x, pool_size, stride, padding, 0.0)")],
        "batchnorm_forward": [("mean, var = x.mean(axis=axes), x.var(axis=axes)",
                               "mean = 0.01 * moving_mean + 0.99 * x.mean(axis=axes); "
                               "var = 0.01 * moving_var + 0.99 * x.var(axis=axes)")],
        "dropout_forward": [("np.asarray(noise) >= rate", "np.asarray(noise)[:1] >= rate")],
        "residual_block": [BN_AFTER_ADD],
        "receptive_field": [("field, jump = 1, 1", "field, jump = 0, 1")],
        "build_gap_cnn": [("layers.GlobalAveragePooling1D(),", "layers.GlobalAveragePooling1D(keepdims=True), "
                                                                "layers.Flatten(),")]},
        named={"max_pool2d_tests": "zero padding in max pooling", "batchnorm_forward_tests": "momentum reversed",
               "dropout_forward_tests": "one mask for the whole batch",
               "residual_block_tests": "batch normalisation after the addition",
               "receptive_field_tests": "field starts at 0"},
        styles=("gap_cnn_tests", "gap_invariance_tests")),
    "shortcut-from-main": Profile(NB2, edits={
        "batchnorm_forward": [("mean, var = x.mean(axis=axes), x.var(axis=axes)",
                               "mean = 0.99 * moving_mean + 0.01 * x.mean(axis=axes); "
                               "var = 0.99 * moving_var + 0.01 * x.var(axis=axes)")],
        "dropout_forward": [("x / (1 - rate)", "x * (1 - rate)")],
        "invariant_shifts": [("    total = 1\n    for _, stride in layers:\n        total *= stride",
                              "    total = sum(stride for _, stride in layers)")]},
        answers={"residual_block": SHORTCUT_FROM_FIRST},
        named={"batchnorm_forward_tests": "moving averages used in training",
               "dropout_forward_tests": "survivors multiplied by the keep rate",
               "residual_block_tests": "shortcut taken from the main path", "invariant_shifts_tests": "strides added"}),
    "dense-projection": Profile(NB2, edits={
        "residual_block": [("shortcut = layers.Conv1D(filters, 1)(x)", "shortcut = layers.Dense(filters)(x)")],
        "batchnorm_forward": [("np.sqrt(var + epsilon)", "np.sqrt(var + 1e-5)")],
        "invariant_shifts": [("return list(range(total, max_shift + 1, total))",  # a set, in no order: right all the same
                              "return {t for t in range(1, max_shift + 1) if t % total == 0}")]},
        named={"batchnorm_forward_tests": "epsilon hard-coded"}, styles=("residual_block_tests", "invariant_shifts_tests")),
    "seizure-slips": Profile(NB3, edits={
        "train_spec": [("loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)",
                        'loss="sparse_categorical_crossentropy"')],  # a string: from_logits=False, on logits
        "predict_classes": [("return np.argmax(model.predict(x, verbose=0), axis=-1)",
                             "return model.predict(x, verbose=0)")],
        "step_costs": [("steps = [-(-rows // b) for b in batch_sizes]", "steps = [rows / b for b in batch_sizes]")],
        "in_seed_spreads": [("return float(difference / ", "return float(abs(difference) / ")]},
        answers={"build_improved_model": SUBCLASSED},
        named={"spec_trained_tests": "loss on logits with from_logits=False",
               "train_eval_mode_tests": "scores instead of classes", "step_costs_tests": "steps not rounded",
               "in_seed_spreads_tests": "sign dropped"},
        refused={"improved_trained_tests": "keras.Sequential or the functional API"},
        reached=("improved_receptive_field_tests",)),  # no model the grader can read, so no field to compare with
    "stride-two": Profile(NB2, edits={
        "batchnorm_forward": [("axes = tuple(range(x.ndim - 1))", "axes = 0")],
        "build_lenet5": [("layers.Flatten(),", "layers.Reshape((-1,)),")],  # the same computation: right
        "invariant_shifts": [("return list(range(total, max_shift + 1, total))",  # a generator: right all the same
                              "return (shift for shift in range(total, max_shift + 1, total))")]},
        answers={"residual_block": STRIDE_TWO, "build_gap_cnn": NESTED_GAP},
        named={"residual_block_tests": "stride in the main path only",
               "batchnorm_forward_tests": "statistics over the batch axis only"},
        styles=("lenet5_tests", "invariant_shifts_tests", "gap_cnn_tests", "gap_invariance_tests")),
}


# With the stand-in data, the held-out recordings a trained model is scored on are generated from the course secret
# (with the real table they are its fixed test recordings): under another secret the trained cells are measured on
# other rows, so only the cells whose cases the secret draws are compared across secrets.
HELD_OUT_DRAWN = set() if os.environ.get("CNNKIT_DATA") else {
    check.grade_id for path in sorted((REPO / "solutions" / ASSIGNMENT).glob("*.ipynb"))
    for check in plan_of(path, REPO / "assignments" / ASSIGNMENT / path.name).checks
    if check.kind in ("trained", "improvement")}
CHOSEN = [name for name in os.environ.get("CNNKIT_FAIRNESS_PROFILES", ",".join(PROFILES)).split(",") if name]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """secret -> student (a profile's name) -> result: the same submissions graded under each course secret."""
    folder = tmp_path_factory.mktemp("named-mistakes")
    work = Course.working_copy(folder / "course")
    download = folder / "download"
    for name in CHOSEN:
        profile = PROFILES[name]
        example = Example(name, "", notebooks=(profile.notebook,), edits=profile.edits, answers=profile.answers)
        (download / name).mkdir(parents=True)
        (download / name / profile.notebook).write_text(nbformat.writes(build_submission(example, work)[profile.notebook]))
    graded, before = {}, os.environ.get(SECRET_ENV)
    try:
        for secret in SECRETS:
            os.environ[SECRET_ENV] = secret
            run = grade("cnn", course=work.root, submissions=download, force=True, workers=2,
                        limits=Limits(cell_timeout=120, timeout=600), progress=False, echo=lambda line: None)
            if run.interrupted:  # grade() turns SIGINT/SIGTERM into an interrupted run: the batch stops here too
                pytest.exit(run.summary()[-1], returncode=130)
            graded[secret] = run.results
    finally:
        os.environ.pop(SECRET_ENV) if before is None else os.environ.update({SECRET_ENV: before})
    return graded


def _cells(result):
    return {cell.grade_id: cell for cell in result.cells}


@pytest.mark.parametrize("profile", CHOSEN)
def test_a_mistake_loses_the_same_points_under_every_secret_and_is_named_right(batch, profile):
    named, styles = PROFILES[profile].named, PROFILES[profile].styles
    gradings = [_cells(batch[secret][profile]) for secret in SECRETS]
    scores = [{grade_id: cell.score for grade_id, cell in cells.items() if grade_id not in HELD_OUT_DRAWN}
              for cells in gradings]
    assert all(other == scores[0] for other in scores), f"{profile}: scored differently under two secrets: {scores}"
    for cells in gradings:
        for grade_id, name in named.items():
            cell = cells[grade_id]
            assert cell.score < cell.max_score, f"{profile}/{grade_id} lost nothing"
            assert f"Likely mistake ({name})" in cell.feedback, f"{profile}/{grade_id}: {cell.feedback}"
            assert cell.feedback.count("Likely mistake") == 1, f"{profile}/{grade_id}: {cell.feedback}"
    cells = gradings[0]
    for grade_id, words in PROFILES[profile].refused.items():
        assert cells[grade_id].score == 0 and words in cells[grade_id].feedback, cells[grade_id].feedback
        assert cells[grade_id].feedback.startswith("[improvement]"), "headed by its own check"
    for grade_id in PROFILES[profile].reached:
        assert cells[grade_id].score < cells[grade_id].max_score, f"{profile}/{grade_id} lost nothing"
    for grade_id in styles:
        assert cells[grade_id].score == cells[grade_id].max_score, f"{profile}/{grade_id}: {cells[grade_id].feedback}"
        assert "Likely mistake" not in cells[grade_id].feedback
    for secret in SECRETS:
        assert batch[secret][profile].status == "graded"
        assert not any("special-cas" in flag for flag in batch[secret][profile].flags)


def test_every_cell_a_profile_did_not_touch_keeps_full_marks(batch):
    for name in CHOSEN:
        profile = PROFILES[name]
        for grade_id, cell in _cells(batch[SECRETS[0]][name]).items():
            submitted = cell.notebook == profile.notebook.removesuffix(".ipynb")
            if submitted and grade_id not in set(profile.named) | set(profile.reached) | set(profile.refused):
                assert cell.score == cell.max_score, f"{name}/{grade_id}: {cell.feedback}"
