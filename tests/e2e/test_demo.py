"""End to end: `cnnkit demo` releases the course and grades the example
submissions through the engine (sandboxed, two workers); every example gets
the expected status, score and feedback. One run (about 6 minutes on 2 cores,
the `run` fixture of conftest.py) serves every end-to-end test."""

import nbformat
import pytest

from autograder.course.course import ASSIGNMENT
from autograder.frontends.examples import EXAMPLES, NB3

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BY_NAME = {example.student: example for example in EXAMPLES}


def test_every_example_is_graded_as_expected(run):
    assert "demo: every example graded as expected" in run["stdout"]
    assert "sandbox: bubblewrap namespaces" in run["stdout"] and "workers: 2 worker(s)" in run["stdout"]


@pytest.mark.parametrize("student", [e.student for e in EXAMPLES])
def test_each_example_gets_its_status_in_the_results_and_the_gradebook(run, student):
    result = run["results"][student]
    assert result.status == BY_NAME[student].status, result.reason
    assert (result.status == "graded") == (result.reason == ""), result.reason
    assert run["scores"][student].score == pytest.approx(result.score), "gradebook and results.jsonl agree"


def test_solution_scores_full_marks_and_stub_zero(run):
    solution, stub = run["scores"]["solution"], run["scores"]["stub"]
    assert solution.max_score == stub.max_score == 57
    assert solution.score == 57 and all(c.score == c.max_score for c in solution.cells())
    assert stub.score == 0 and len(stub.cells()) == 31


@pytest.mark.parametrize("student", [e.student for e in EXAMPLES if e.expect])
def test_each_example_gets_the_expected_score_and_feedback(run, student):
    example = BY_NAME[student]
    submitted = {name.removesuffix(".ipynb") for name in example.notebooks}
    cells = [cell for cell in run["results"][student].cells if cell.notebook in submitted]
    assert cells, f"{student}: nothing graded"
    for cell in cells:
        outcome, words = example.expect.get(cell.grade_id, ("full", ""))
        where = f"{student} {cell.grade_id}: {cell.score} / {cell.max_score}\n{cell.feedback}"
        if outcome == "full":
            assert cell.score == cell.max_score, where
        elif outcome == "zero":
            assert cell.score == 0, where
        else:
            assert 0 < cell.score < cell.max_score, where
        assert words in cell.feedback, where


def test_feedback_table_lists_every_student(run):
    table = run["stdout"].split("student", 1)[1]
    for example in EXAMPLES:
        assert example.student in table
    assert "kernel not flipped: convolution flips the kernel" in table
    assert "model never trained: accuracy is at chance level" in table
    for status in ("timeout", "memory", "crashed", "output-limit", "malformed"):
        assert f"  {status}  " in table


def test_the_graded_kernels_never_see_the_graders_checks_and_test_cells_never_write_stderr(run):
    """The hidden tests call cnnkit's checks, which no sandbox holds: the kernels run without them (the verifier
    scores those cells), and nbgrader's trap, stderr in a test cell, never springs."""
    for student in ("solution", "noisy-but-correct", "kernel-not-flipped", "untrained-model"):
        folder = run["work"].root / "autograded" / student / ASSIGNMENT
        for path in folder.glob("*.ipynb"):
            for cell in nbformat.read(path, as_version=4).cells:
                if not cell.metadata.get("nbgrader", {}).get("grade"):
                    continue
                assert "cnnkit.checks" not in cell.source and "BEGIN HIDDEN TESTS" not in cell.source, cell.source
                assert not any(o.get("name") == "stderr" for o in cell.outputs), (student, path.name, cell.outputs)
                assert not any(o.output_type == "error" for o in cell.outputs), (student, path.name, cell.outputs)


def test_the_models_the_verifier_judged_are_left_as_evidence(run):
    folder = run["work"].root / "autograded" / "solution" / ASSIGNMENT / "cnnkit_evidence"
    kept = sorted(path.name for path in folder.glob("*.keras"))
    assert "03_seizure_classifier-spec_trained_tests.keras" in kept, kept  # the trained model, saved by the probe
    assert "02_pooling_lenet-lenet5_tests.keras" in kept, kept  # a builder's model
    assert run["results"]["solution"].seed is not None, "the cases' seed is recorded with the result"


def test_each_architecture_is_trained_once_per_seed_and_announced(run):
    """The references (the spec CNN on the assignment's seed and on the grader's six reference seeds) and the
    solution's improved architecture on the grader's two seeds: nine trainings for the whole demo class, each
    announced once; every other student who needs one reuses the record (the spec CNN handed in as the improvement
    is the reference itself: never trained again)."""
    summary = next(line for line in run["stdout"].splitlines() if line.startswith("trainings under the budget"))
    assert summary.startswith("trainings under the budget: trained 9, reused "), summary
    assert int(summary.split("reused ")[1].split(";")[0]) >= 6, summary
    announced = [line.split(": ", 1)[1] for line in (run["stdout"] + run["stderr"]).splitlines()
                 if line.endswith("under the budget") and ": training " in line]
    assert len(announced) == 9 == len(set(announced)), announced


def test_the_improve_it_training_nobody_reads_is_not_run_in_the_kernel(run):
    """The grader retrains the "improve it" architecture and reads no weights the kernel trained: the solution's
    `train_under_budget` call and spec-as-improvement's own 30 epochs of `fit` are both skipped in the graded
    kernel (each says so in its output), while the spec CNN's training, which is graded, runs in full. Their
    scores are the examples' expected ones (the tests above)."""
    def printed(student, grade_id):
        notebook = nbformat.read(run["work"].root / "autograded" / student / ASSIGNMENT / NB3, as_version=4)
        cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")

    assert "not trained while grading" in printed("solution", "train_improved")
    own_fit = printed("spec-as-improvement", "train_improved")
    assert "fit skipped while grading" in own_fit, own_fit
    assert "Epoch 12/12" in printed("solution", "train_spec")
